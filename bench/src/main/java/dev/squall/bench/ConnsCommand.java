package dev.squall.bench;

import dev.squall.bench.report.CpuWindow;
import dev.squall.bench.report.ResultLine;
import dev.squall.bench.report.ServerProcess;
import dev.squall.bench.ws.ClientPool;
import dev.squall.bench.ws.WsConnection;
import dev.squall.bench.ws.WsHandler;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What idle connections cost a server: the time to accept N connections (until every Welcome is in), the
 * server's VmRSS before and after, divided by N, and for a JVM the live heap (after a full GC) before and after,
 * divided by N. For a JVM, RSS follows the heap flags, so the run states the flags used.
 */
@Command(name = "conns", mixinStandardHelpOptions = true,
        description = "Server time to accept, RSS and (JVM) live heap per idle WebSocket connection.")
final class ConnsCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--connections", description = "Idle connections (default: ${DEFAULT-VALUE}).")
    int connections = 5000;

    @Option(names = "--settle-s", description = "Seconds to wait after the last Welcome before reading RSS, and "
            + "after the warm-up's connections closed (default: ${DEFAULT-VALUE}).")
    int settleSeconds = 3;

    @Option(names = "--warmup-rounds", description = "Times to open the same number of connections, get every "
            + "Welcome and close them, unmeasured, before measuring (default: ${DEFAULT-VALUE}).")
    int warmupRounds = 0;

    @Option(names = "--path", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String wsPath = "/ws";

    @Override
    public Integer call() throws Exception {
        ServerProcess server = target.server();
        if (!server.known()) {
            System.err.println("conns needs --server-pid to read the server's memory");
            return 2;
        }
        long rssStart = server.residentBytes();
        for (int round = 1; round <= warmupRounds; round++) {
            try (Opened warm = open(server)) {
                System.out.printf("warm-up %d/%d: %d connections in %.2f s, closing them%n", round, warmupRounds,
                        warm.connected, warm.acceptSeconds);
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
        }
        ResultLine result = new ResultLine("conns", target.serverName);
        // RSS before the full GC behind the live heap: in a smoke run, a fresh JVM's RSS read after one was 20 %
        // lower than its natural state, which inflated the growth per connection (36 kB, earlier runs 20-31 kB).
        long before = server.residentBytes();
        long heapBefore = server.liveHeapBytes();
        try (Opened run = open(server)) {
            Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
            long after = server.residentBytes(); // before the second full GC, which may shrink it
            long heapAfter = heapBefore < 0 ? -1 : server.liveHeapBytes();
            ClientPool pool = run.pool;
            int stillOpen = run.connected - pool.closedAfterUpgrade();
            // After a warm-up, Node and Go refill memory the warm-up freed and a JVM's full GC has shrunk the heap
            // the warm-up grew: growth over the measured window means little (it was negative for both Node and
            // Squall), so RSS growth is counted from before the warm-up, its leftovers (JIT code, heap) included.
            long baseline = warmupRounds > 0 ? rssStart : before;
            double perConnection = stillOpen > 0 ? (after - baseline) / (double) stillOpen : 0;
            result.put("connections", stillOpen).put("accept_s", run.acceptSeconds, 3);
            if (warmupRounds > 0) {
                result.put("rss_start_kb", rssStart / 1024);
            }
            result.put("rss_before_kb", before / 1024).put("rss_after_kb", after / 1024)
                    .put("bytes_per_conn", perConnection, 0).put("connect_per_s", run.connected / run.acceptSeconds, 0)
                    .put("welcomes", run.welcomes.get()).put("connect_failed", pool.failedConnects());
            String heap = "";
            if (heapBefore >= 0 && heapAfter >= 0 && stillOpen > 0) {
                double heapPerConnection = (heapAfter - heapBefore) / (double) stillOpen;
                result.put("heap_before_kb", heapBefore / 1024).put("heap_after_kb", heapAfter / 1024)
                        .put("live_heap_bytes_per_conn", heapPerConnection, 0);
                heap = String.format("; live heap %d kB -> %d kB: %.0f bytes per connection", heapBefore / 1024,
                        heapAfter / 1024, heapPerConnection);
            }
            run.cpu.addTo(result);
            System.out.printf("%d idle connections (%d failed, %d closed by server), accepted with every Welcome in "
                            + "%.2f s; server RSS %d kB -> %d kB: %.0f bytes per connection%s%n",
                    stillOpen, pool.failedConnects(), pool.closedAfterUpgrade(), run.acceptSeconds, baseline / 1024,
                    after / 1024, perConnection, heap);
        }
        System.out.println(result);
        return 0;
    }

    /** Opens the connections and waits for every Welcome (or 10 s more), timing it; closing closes them all. */
    private Opened open(ServerProcess server) throws Exception {
        AtomicLong welcomes = new AtomicLong();
        WsHandler handler = new WsHandler() {
            @Override
            public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                welcomes.incrementAndGet();
            }
        };
        ClientPool pool = new ClientPool(target.address(), wsPath, target.threads, handler);
        CpuWindow cpu = new CpuWindow(pool, server);
        cpu.start();
        long start = System.nanoTime();
        int connected = pool.connect(connections, target.connectInFlight,
                TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds));
        for (int i = 0; i < 10_000 && welcomes.get() < connected; i++) {
            Thread.sleep(1);
        }
        double acceptSeconds = (System.nanoTime() - start) / 1e9;
        cpu.stop();
        return new Opened(pool, cpu, welcomes, connected, acceptSeconds);
    }

    private record Opened(ClientPool pool, CpuWindow cpu, AtomicLong welcomes, int connected, double acceptSeconds)
            implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            pool.close();
        }
    }
}
