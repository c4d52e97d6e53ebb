package dev.squall.bench;

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
 * Server memory per idle connection: the server's VmRSS before and after opening N connections that each got
 * their Welcome, divided by N. For a JVM the heap is sized by -Xmx/-Xms, so the run states the flags used.
 */
@Command(name = "conns", mixinStandardHelpOptions = true, description = "Server RSS per idle WebSocket connection.")
final class ConnsCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--connections", description = "Idle connections (default: ${DEFAULT-VALUE}).")
    int connections = 5000;

    @Option(names = "--settle-s", description = "Seconds to wait after the last Welcome before reading RSS "
            + "(default: ${DEFAULT-VALUE}).")
    int settleSeconds = 3;

    @Option(names = "--path", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String wsPath = "/ws";

    @Override
    public Integer call() throws Exception {
        ServerProcess server = target.server();
        if (!server.known()) {
            System.err.println("conns needs --server-pid to read the server's memory");
            return 2;
        }
        AtomicLong welcomes = new AtomicLong();
        WsHandler handler = new WsHandler() {
            @Override
            public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                welcomes.incrementAndGet();
            }
        };
        ResultLine result = new ResultLine("conns", target.serverName);
        long before = server.residentBytes();
        try (ClientPool pool = new ClientPool(target.address(), wsPath, target.threads, handler)) {
            long start = System.nanoTime();
            int connected = pool.connect(connections, target.connectInFlight,
                    TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds));
            for (int i = 0; i < 1000 && welcomes.get() < connected; i++) {
                Thread.sleep(10);
            }
            double connectSeconds = (System.nanoTime() - start) / 1e9;
            Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
            long after = server.residentBytes();
            int stillOpen = connected - pool.closedAfterUpgrade();
            double perConnection = stillOpen > 0 ? (after - before) / (double) stillOpen : 0;
            result.put("connections", stillOpen).put("rss_before_kb", before / 1024).put("rss_after_kb", after / 1024)
                    .put("bytes_per_conn", perConnection, 0).put("connect_per_s", connected / connectSeconds, 0)
                    .put("welcomes", welcomes.get()).put("connect_failed", pool.failedConnects());
            System.out.printf("%d idle connections (%d failed, %d closed by server); server RSS %d kB -> %d kB: "
                            + "%.0f bytes per connection; connected at %.0f/s%n",
                    stillOpen, pool.failedConnects(), pool.closedAfterUpgrade(), before / 1024, after / 1024,
                    perConnection, connected / connectSeconds);
        }
        System.out.println(result);
        return 0;
    }
}
