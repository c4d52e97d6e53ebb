package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Issue 10: what a publish through {@link RedisBroker} costs, in process (no HTTP, no WebSocket), shaped like
 * Centrifuge's {@code BenchmarkRedisPublish_1Ch} / {@code BenchmarkRedisPublish_History_1Ch}: T threads publish a
 * small message to one channel back to back, each waiting for its publish to return, for a fixed time; the
 * figure is wall time / publishes over all threads (Go's {@code RunParallel} ns/op), so with many threads it is
 * the reciprocal of throughput, not a latency. Also reported: each publish's own latency (p50/p99), Redis's CPU
 * per publish from {@code /proc/PID/stat} (utime+stime over the measured window) and Redis's own time per script
 * call ({@code INFO commandstats}, {@code cmdstat_evalsha}, reset after the warm-up). Not a JMH benchmark: the
 * Redis side has to be read around exactly the measured window.
 *
 * <p>Run: {@code java -cp bench/hub-jmh/target/hub-jmh.jar:target/squall.jar dev.squall.internal.broker.redis.RedisPublish
 * redis://127.0.0.1:P REDIS_PID THREADS HISTORY_SIZE [SECONDS]}.
 */
public final class RedisPublish {

    private RedisPublish() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        long redisPid = Long.parseLong(args[1]);
        int threads = Integer.parseInt(args[2]);
        int historySize = Integer.parseInt(args[3]);
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 5;
        // As Centrifuge's: history 100 for 100 s, or none; a 64-byte message as the socket benchmarks publish.
        PublishOptions options = historySize > 0
                ? new PublishOptions(historySize, Duration.ofSeconds(100), null, Duration.ZERO) : PublishOptions.NO_HISTORY;
        Message message = Message.text("#0:1:123456789:" + "x".repeat(48));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "bench-scheduler");
            thread.setDaemon(true);
            return thread;
        });
        RedisClient admin = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> stats = admin.connect();
             RedisBroker broker = new RedisBroker(uri, scheduler)) {
            stats.sync().flushall();
            run(broker, options, message, threads, 1.0);                   // warm-up: JIT, script loaded
            stats.sync().configResetstat();
            long cpuBefore = cpuNanos(redisPid);
            Run measured = run(broker, options, message, threads, seconds);
            long cpuAfter = cpuNanos(redisPid);
            String evalsha = stats.sync().info("commandstats").lines()
                    .filter(l -> l.startsWith("cmdstat_evalsha:")).findFirst().orElse("cmdstat_evalsha:-");
            double usPerOp = measured.wallNanos / 1000.0 / measured.ops;
            double redisCpuUs = (cpuAfter - cpuBefore) / 1000.0 / measured.ops;
            System.out.printf(Locale.ROOT, "RESULT mode=redis-publish threads=%d history=%d ops=%d seconds=%.2f us_per_op=%.3f "
                            + "publish_p50_us=%.1f publish_p99_us=%.1f redis_cpu_us_per_publish=%.2f redis_cpu_ticks=%d "
                            + "redis_cpu_pct=%.0f %s load1=%s%n",
                    threads, historySize, measured.ops, measured.wallNanos / 1e9, usPerOp,
                    measured.percentile(50) / 1000.0, measured.percentile(99) / 1000.0, redisCpuUs,
                    (cpuAfter - cpuBefore) / 10_000_000L, 100.0 * (cpuAfter - cpuBefore) / measured.wallNanos,
                    evalsha.replace("cmdstat_evalsha:", "evalsha_").replace(",", " evalsha_"),
                    Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } finally {
            admin.shutdown();
            scheduler.shutdownNow();
        }
    }

    /** Publishes and per-publish latencies of one timed run. */
    private record Run(long ops, long wallNanos, long[] latencies) {
        double percentile(double p) {
            if (latencies.length == 0) return 0;
            return latencies[Math.min(latencies.length - 1, (int) Math.ceil(p / 100 * latencies.length) - 1)];
        }
    }

    /** Each thread keeps at most this many latencies (a sample of the first ones is plenty for p99). */
    private static final int KEPT = 50_000;

    private static Run run(RedisBroker broker, PublishOptions options, Message message, int threads, double seconds)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        long[][] latencies = new long[threads][KEPT];
        long[] counts = new long[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long n = 0;
                while (!stop.get()) {
                    long before = System.nanoTime();
                    broker.publish("channel", message, options);
                    long took = System.nanoTime() - before;
                    if (n < KEPT) latencies[id][(int) n] = took;
                    n++;
                }
                counts[id] = n;
            }, "publisher-" + t);
            workers[t].start();
        }
        long began = System.nanoTime();
        start.countDown();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread worker : workers) worker.join();
        long wall = System.nanoTime() - began;
        long ops = Arrays.stream(counts).sum();
        int kept = 0;
        for (long count : counts) kept += (int) Math.min(count, KEPT);
        long[] all = new long[kept];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            int n = (int) Math.min(counts[t], KEPT);
            System.arraycopy(latencies[t], 0, all, at, n);
            at += n;
        }
        Arrays.sort(all);
        return new Run(ops, wall, all);
    }

    /** utime + stime of a process, in nanoseconds (/proc counts 100 ticks per second). */
    private static long cpuNanos(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
    }
}
