package dev.squall.bench;

import dev.squall.bench.http.HttpPublisher;
import dev.squall.bench.report.CpuWindow;
import dev.squall.bench.report.Latency;
import dev.squall.bench.report.ResultLine;
import dev.squall.bench.report.ServerProcess;
import dev.squall.bench.ws.ClientPool;
import dev.squall.bench.ws.PerLoop;
import dev.squall.bench.ws.WsConnection;
import dev.squall.bench.ws.WsHandler;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * N subscribers on /ws, P publishers on POST /receive: delivered messages/s, publish-to-receipt latency, lost
 * messages and per-connection order violations; the publishers' own round trips; with several
 * {@code --subscribe-port}s the subscribers are spread over nodes that share a broker.
 */
@Command(name = "fanout", mixinStandardHelpOptions = true,
        description = "Broadcast throughput and latency: N subscribers, P HTTP publishers.")
final class FanoutCommand implements Callable<Integer> {
    @Mixin
    TargetOptions target;

    @Option(names = "--subscribers", description = "WebSocket subscribers (default: ${DEFAULT-VALUE}).")
    int subscribers = 1000;

    @Option(names = "--publishers", description = "Publisher threads, each on its own keep-alive HTTP connection; "
            + "0 = only subscribe (another process publishes) (default: ${DEFAULT-VALUE}).")
    int publishers = 4;

    @Option(names = "--messages", description = "Messages published in total, by all publishers or processes "
            + "(default: ${DEFAULT-VALUE}).")
    int messages = 500;

    @Option(names = "--rate", description = "Publishes per second in total; 0 = as fast as possible. At a fixed "
            + "rate a message carries its scheduled time, so a stalled server shows as latency "
            + "(no coordinated omission) (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--size", description = "Message size in bytes (default: ${DEFAULT-VALUE}).")
    int size = 64;

    @Option(names = "--warmup", description = "Messages published and awaited before measuring (default: ${DEFAULT-VALUE}).")
    int warmup = 20;

    @Option(names = "--path", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String wsPath = "/ws";

    @Option(names = "--publish-path", description = "Publish path (default: ${DEFAULT-VALUE}).")
    String publishPath = "/receive";

    @Option(names = "--idle-timeout-s", description = "Give up waiting when no delivery arrives for this long "
            + "after publishing ended (default: ${DEFAULT-VALUE}).")
    int idleTimeoutSeconds = 10;

    @Option(names = "--timeout-s", description = "Hard limit for the whole run (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 300;

    @Option(names = "--ready-file", description = "Create this file once all subscribers got Welcome "
            + "(to start a publishing process only when this one listens).")
    Path readyFile;

    @Option(names = "--await-file", description = "Wait for this file to exist before publishing.")
    Path awaitFile;

    @Option(names = "--done-file", description = "Create this file once the measured deliveries are in, and keep "
            + "the connections open until it has been deleted (to stop a profiler before they close).")
    Path doneFile;

    @Option(names = "--subscribe-port", split = ",", paramLabel = "PORT",
            description = "Spread the subscribers round-robin over these ports (several nodes sharing one broker; "
                    + "publishes still go to --port). Default: --port only.")
    List<Integer> subscribePorts = new ArrayList<>();

    @Option(names = "--watch-pid", paramLabel = "NAME=PID",
            description = "Also report this process's CPU over the measured window, as NAME_cpu_pct and "
                    + "NAME_cpu_us_per_publish (e.g. redis=PID, node2=PID); repeatable.")
    Map<String, Long> watchPids = new LinkedHashMap<>();

    /** Delivery statistics of one event loop; written only by its thread. */
    static final class Deliveries {
        final Histogram latency = Latency.newHistogram();
        final BroadcastMessage parser = BroadcastMessage.parser();
        volatile long welcomes;
        volatile long received;
        volatile long warmupReceived;
        long orderViolations;
        long malformed;
        long firstPublishNanos = Long.MAX_VALUE;
        long lastReceiptNanos = Long.MIN_VALUE;
    }

    /** What one subscriber remembers: the last sequence number seen from each publisher. */
    static final class Subscriber {
        final Deliveries deliveries;
        long[] lastSequence = new long[0];

        Subscriber(Deliveries deliveries) {
            this.deliveries = deliveries;
        }

        /** False if {@code sequence} is not after the last one seen from that publisher on this connection. */
        boolean inOrder(int publisher, long sequence) {
            if (publisher >= lastSequence.length) {
                int old = lastSequence.length;
                lastSequence = Arrays.copyOf(lastSequence, publisher + 1);
                Arrays.fill(lastSequence, old, lastSequence.length, -1);
            }
            boolean ordered = sequence > lastSequence[publisher];
            lastSequence[publisher] = Math.max(sequence, lastSequence[publisher]);
            return ordered;
        }
    }

    private final PerLoop<Deliveries> perLoop = new PerLoop<>(Deliveries::new);
    private final AtomicLong httpErrors = new AtomicLong();
    /** Publish round trips as the publishers saw them (request sent -> response read), merged at the end. */
    private final Histogram publishRoundTrips = Latency.newHistogram();

    private final WsHandler handler = new WsHandler() {
        @Override
        public void onOpen(WsConnection connection) {
            connection.attachment = new Subscriber(perLoop.current());
        }

        @Override
        public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
            long now = System.nanoTime();
            Subscriber subscriber = (Subscriber) connection.attachment;
            Deliveries d = subscriber.deliveries;
            byte phase = length > 0 ? frame.get(offset) : 0;
            if (phase == BroadcastMessage.MEASURED && d.parser.parse(frame, offset, length)) {
                d.received++;
                Latency.recordNanos(d.latency, now - d.parser.publishNanos);
                d.firstPublishNanos = Math.min(d.firstPublishNanos, d.parser.publishNanos);
                d.lastReceiptNanos = now;
                if (!subscriber.inOrder(d.parser.publisher, d.parser.sequence)) {
                    d.orderViolations++;
                }
            } else if (phase == BroadcastMessage.WARMUP) {
                d.warmupReceived++;
            } else if (length == 7 && phase == 'W') { // "Welcome"
                d.welcomes++;
            } else if (phase == '{' && startsWith(frame, offset, length, SUBSCRIBED)) {
                d.welcomes++;                         // a channel route's first frame plays Welcome's part

            } else {
                d.malformed++;
            }
        }
    };

    /** The notice a channel route ({@code /ws/{channel}}) sends first. */
    private static final byte[] SUBSCRIBED = "{\"squall\":\"subscribed\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean startsWith(ByteBuffer frame, int offset, int length, byte[] prefix) {
        if (length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) {
            if (frame.get(offset + i) != prefix[i]) return false;
        }
        return true;
    }

    @Override
    public Integer call() throws Exception {
        long hardDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        InetSocketAddress address = target.address();
        ResultLine result = new ResultLine("fanout", target.serverName);
        try (ClientPool pool = new ClientPool(address, wsPath, target.threads, handler)) {
            long connectStart = System.nanoTime();
            List<InetSocketAddress> subscribeTargets = new ArrayList<>();
            for (int port : subscribePorts) subscribeTargets.add(new InetSocketAddress(address.getAddress(), port));
            if (subscribeTargets.isEmpty()) subscribeTargets.add(address);
            int connected = pool.connect(subscribers, target.connectInFlight,
                    TimeUnit.SECONDS.toMillis(target.connectTimeoutSeconds), subscribeTargets);
            double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
            System.out.printf("connected %d/%d subscribers in %.1f s (%d failed%s)%n", connected, subscribers,
                    connectSeconds, pool.failedConnects(),
                    pool.firstFailure() == null ? "" : ", first: " + pool.firstFailure());
            if (!awaitCount(() -> sum(d -> d.welcomes), connected, hardDeadline, 10)) {
                System.out.printf("only %d/%d Welcome messages arrived%n", sum(d -> d.welcomes), connected);
            }
            if (readyFile != null) {
                Files.writeString(readyFile, "ready\n");
            }
            if (awaitFile != null) {
                while (!Files.exists(awaitFile) && System.nanoTime() < hardDeadline) {
                    Thread.sleep(20);
                }
            }
            if (publishers > 0 && warmup > 0) {
                try (HttpPublisher publisher = new HttpPublisher(address, publishPath)) {
                    for (int i = 0; i < warmup; i++) {
                        publish(publisher, BroadcastMessage.encode(BroadcastMessage.WARMUP, 0, i, System.nanoTime(), size));
                    }
                }
                awaitCount(() -> sum(d -> d.warmupReceived), (long) warmup * connected, hardDeadline, idleTimeoutSeconds);
            }

            Map<String, ServerProcess> watched = new LinkedHashMap<>();
            watchPids.forEach((name, pid) -> watched.put(name, new ServerProcess(pid)));
            CpuWindow cpu = new CpuWindow(pool, target.server(), watched);
            cpu.start();
            long publishStart = System.nanoTime();
            List<Thread> threads = startPublishers(address, publishStart);
            for (Thread t : threads) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(hardDeadline - System.nanoTime())));
            }
            double publishSeconds = (System.nanoTime() - publishStart) / 1e9;
            long expected = (long) messages * connected;
            awaitCount(() -> sum(d -> d.received), expected, hardDeadline, idleTimeoutSeconds);
            cpu.stop();
            if (doneFile != null) {
                Files.writeString(doneFile, "done\n");
                while (Files.exists(doneFile) && System.nanoTime() < hardDeadline) {
                    Thread.sleep(20);
                }
            }
            int closedEarly = pool.closedAfterUpgrade();
            pool.close();

            long received = sum(d -> d.received);
            Histogram latency = Latency.newHistogram();
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            long orderViolations = 0;
            long malformed = 0;
            for (Deliveries d : perLoop.all()) {
                latency.add(d.latency);
                first = Math.min(first, d.firstPublishNanos);
                last = Math.max(last, d.lastReceiptNanos);
                orderViolations += d.orderViolations;
                malformed += d.malformed;
            }
            double deliverySeconds = received > 0 ? (last - first) / 1e9 : 0;
            double deliveredPerSecond = deliverySeconds > 0 ? received / deliverySeconds : 0;

            result.put("subscribers", connected).put("messages", messages).put("publishers", publishers)
                    .put("rate", rate, 1).put("size", size)
                    .put("delivered_per_s", deliveredPerSecond, 0)
                    .put("publish_per_s", publishers > 0 ? messages / publishSeconds : 0, 1)
                    .put("subscribe_ports", subscribeTargets.stream().map(a -> Integer.toString(a.getPort()))
                            .collect(java.util.stream.Collectors.joining("/")));
            Latency.addTo(result, latency);
            synchronized (publishRoundTrips) {
                // Wall time per publish over all publishers (what Go's RunParallel ns/op is), and each round trip.
                result.put("publish_us_per_op", publishers > 0 ? publishSeconds * 1e6 / messages : 0, 2)
                        .put("publish_rtt_p50_ms", publishRoundTrips.getValueAtPercentile(50) / 1000.0, 3)
                        .put("publish_rtt_p99_ms", publishRoundTrips.getValueAtPercentile(99) / 1000.0, 3)
                        .put("publish_rtt_p999_ms", publishRoundTrips.getValueAtPercentile(99.9) / 1000.0, 3);
            }
            result.put("received", received).put("expected", expected).put("lost", Math.max(0, expected - received))
                    .put("order_violations", orderViolations).put("malformed", malformed)
                    .put("http_errors", httpErrors.get()).put("connect_failed", pool.failedConnects())
                    .put("closed_early", closedEarly).put("connect_per_s", connected / connectSeconds, 0);
            cpu.addTo(result);
            cpu.addWatchedTo(result, messages);

            System.out.printf("delivered %d/%d messages in %.3f s: %.0f deliveries/s (publishing took %.3f s)%n",
                    received, expected, deliverySeconds, deliveredPerSecond, publishSeconds);
            System.out.println(Latency.describe(latency));
            synchronized (publishRoundTrips) {
                System.out.printf("publish round trip (%.2f us/op over all publishers): %s%n",
                        publishers > 0 ? publishSeconds * 1e6 / messages : 0, Latency.describe(publishRoundTrips));
            }
            System.out.printf("lost %d, order violations %d, malformed %d, HTTP errors %d, closed early %d%n",
                    Math.max(0, expected - received), orderViolations, malformed, httpErrors.get(), closedEarly);
        }
        System.out.println(result);
        return 0;
    }

    private List<Thread> startPublishers(InetSocketAddress address, long start) {
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int id = p;
            Thread t = new Thread(() -> runPublisher(address, id, start), "publisher-" + p);
            t.start();
            threads.add(t);
        }
        return threads;
    }

    /** Publisher {@code id} sends messages id, id+P, id+2P, ... of the global schedule. */
    private void runPublisher(InetSocketAddress address, int id, long start) {
        double intervalNanos = rate > 0 ? 1e9 / rate : 0;
        Histogram roundTrips = Latency.newHistogram();
        try (HttpPublisher publisher = new HttpPublisher(address, publishPath)) {
            long sequence = 0;
            for (long slot = id; slot < messages; slot += publishers, sequence++) {
                long stamp;
                if (rate > 0) {
                    stamp = start + (long) (slot * intervalNanos);
                    for (long wait; (wait = stamp - System.nanoTime()) > 0; ) {
                        LockSupport.parkNanos(wait);
                    }
                } else {
                    stamp = System.nanoTime();
                }
                byte[] body = BroadcastMessage.encode(BroadcastMessage.MEASURED, id, sequence, stamp, size);
                long sent = System.nanoTime();
                publish(publisher, body);
                Latency.recordNanos(roundTrips, System.nanoTime() - sent);
            }
        } catch (Exception e) {
            httpErrors.incrementAndGet();
            System.err.println("publisher " + id + " stopped: " + e);
        }
        synchronized (publishRoundTrips) {
            publishRoundTrips.add(roundTrips);
        }
    }

    private void publish(HttpPublisher publisher, byte[] body) throws Exception {
        int status = publisher.publish(body);
        if (status != 200) {
            httpErrors.incrementAndGet();
        }
    }

    private interface Counter {
        long get();
    }

    private long sum(ToLongFunction<Deliveries> field) {
        long total = 0;
        for (Deliveries d : perLoop.all()) {
            total += field.applyAsLong(d);
        }
        return total;
    }

    /** Waits until {@code counter} reaches {@code target}, it stalls for {@code idleSeconds}, or the deadline. */
    private static boolean awaitCount(Counter counter, long target, long deadline, int idleSeconds)
            throws InterruptedException {
        long last = -1;
        long lastProgress = System.nanoTime();
        long idleNanos = TimeUnit.SECONDS.toNanos(idleSeconds);
        while (true) {
            long now = System.nanoTime();
            long value = counter.get();
            if (value >= target) {
                return true;
            }
            if (value != last) {
                last = value;
                lastProgress = now;
            }
            if (now - lastProgress > idleNanos || now > deadline) {
                return false;
            }
            Thread.sleep(2);
        }
    }
}
