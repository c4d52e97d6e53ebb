package dev.squall.bench;

import dev.squall.bench.report.CpuWindow;
import dev.squall.bench.report.Latency;
import dev.squall.bench.report.ResultLine;
import dev.squall.bench.ws.ClientPool;
import dev.squall.bench.ws.PerLoop;
import dev.squall.bench.ws.WsConnection;
import dev.squall.bench.ws.WsHandler;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * C clients, each with one message in flight: send, await {@code new message :...}, send again. Measures round
 * trips/s and round-trip latency over a fixed window after a warm-up.
 */
@Command(name = "echo", mixinStandardHelpOptions = true, description = "Round trips/s and latency of C clients.")
final class EchoCommand implements Callable<Integer> {
    private static final byte[] REPLY_PREFIX = "new message :".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] WELCOME = "Welcome".getBytes(StandardCharsets.US_ASCII);

    @Mixin
    TargetOptions target;

    @Option(names = "--clients", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
    int clients = 50;

    @Option(names = "--duration-s", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    int durationSeconds = 10;

    @Option(names = "--warmup-s", description = "Unmeasured seconds before (default: ${DEFAULT-VALUE}).")
    int warmupSeconds = 2;

    @Option(names = "--size", description = "Message size in bytes (default: ${DEFAULT-VALUE}).")
    int size = 32;

    @Option(names = "--path", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String wsPath = "/ws";

    /** Round trips of one event loop; written only by its thread. */
    static final class RoundTrips {
        final Histogram latency = Latency.newHistogram();
        volatile long measured;
        long unexpected;
    }

    /** One client: when its message in flight was sent. */
    static final class Client {
        final RoundTrips stats;
        long sentAt;

        Client(RoundTrips stats) {
            this.stats = stats;
        }
    }

    private final PerLoop<RoundTrips> perLoop = new PerLoop<>(RoundTrips::new);
    private final ConcurrentLinkedQueue<WsConnection> opened = new ConcurrentLinkedQueue<>();
    private byte[] message;
    /** Set before the first send; read by the loops. */
    private volatile long measureStart;
    private volatile long measureEnd;

    private final WsHandler handler = new WsHandler() {
        @Override
        public void onOpen(WsConnection connection) {
            connection.attachment = new Client(perLoop.current());
            opened.add(connection);
        }

        @Override
        public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
            Client client = (Client) connection.attachment;
            if (client.sentAt == 0) {
                return; // the Welcome, or anything before our first send
            }
            long now = System.nanoTime();
            if (length == WELCOME.length && startsWith(frame, offset, length, WELCOME)) {
                return; // a Welcome that arrived after our first send: its reply is still to come
            }
            if (!isReply(frame, offset, length)) {
                client.stats.unexpected++;
                return;
            }
            if (client.sentAt >= measureStart && now < measureEnd) {
                client.stats.measured++;
                Latency.recordNanos(client.stats.latency, now - client.sentAt);
            }
            if (now < measureEnd) {
                send(connection, client, now);
            } else {
                client.sentAt = 0;
            }
        }
    };

    private boolean isReply(ByteBuffer frame, int offset, int length) {
        return length == REPLY_PREFIX.length + message.length && startsWith(frame, offset, length, REPLY_PREFIX);
    }

    private static boolean startsWith(ByteBuffer frame, int offset, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (frame.get(offset + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private void send(WsConnection connection, Client client, long now) {
        client.sentAt = now;
        connection.sendText(message);
    }

    @Override
    public Integer call() throws Exception {
        message = new byte[size];
        Arrays.fill(message, (byte) 'e');
        ResultLine result = new ResultLine("echo", target.serverName);
        try (ClientPool pool = new ClientPool(target.address(), wsPath, target.threads, handler)) {
            int connected = pool.connect(clients, target.connectInFlight,
                    TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds));
            System.out.printf("connected %d/%d clients%n", connected, clients);
            long start = System.nanoTime();
            measureStart = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
            measureEnd = measureStart + TimeUnit.SECONDS.toNanos(durationSeconds);
            for (WsConnection c : opened) {
                c.onLoop(() -> send(c, (Client) c.attachment, System.nanoTime()));
            }
            Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(measureStart - System.nanoTime())));
            CpuWindow cpu = new CpuWindow(pool, target.server());
            cpu.start();
            Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(measureEnd - System.nanoTime())));
            cpu.stop();
            int closedEarly = pool.closedAfterUpgrade();
            Thread.sleep(200); // let the last round trips land before closing
            pool.close();

            Histogram latency = Latency.newHistogram();
            long roundTrips = 0;
            long unexpected = 0;
            for (RoundTrips r : perLoop.all()) {
                latency.add(r.latency);
                roundTrips += r.measured;
                unexpected += r.unexpected;
            }
            double perSecond = roundTrips / (double) durationSeconds;
            result.put("clients", connected).put("size", size).put("duration_s", durationSeconds)
                    .put("round_trips_per_s", perSecond, 0);
            Latency.addTo(result, latency);
            result.put("round_trips", roundTrips).put("unexpected", unexpected).put("closed_early", closedEarly);
            cpu.addTo(result);
            System.out.printf("%d round trips in %d s: %.0f/s; unexpected replies %d, closed early %d%n",
                    roundTrips, durationSeconds, perSecond, unexpected, closedEarly);
            System.out.println(Latency.describe(latency));
        }
        System.out.println(result);
        return 0;
    }
}
