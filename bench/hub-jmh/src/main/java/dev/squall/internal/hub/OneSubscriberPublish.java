package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 7, item 2: a publish to a channel with one subscriber, with {@code idle} other connections open (joined
 * to another channel, queues empty). O(recipients) fan-out means the score does not depend on {@code idle}.
 *
 * <p>The hub is built as {@code App} builds it on this 2-core machine: one writer thread per core, the publisher
 * only queues and wakes the subscriber's writer. The wire completes every frame at once, so the figure is the
 * hub's cost alone (queue, ready queue, wake-up, flush, callback), no Jetty. {@code targetShard} puts the
 * subscriber on either writer. Each op waits until the wire has the frame, so it is the whole cost of one
 * publish (mostly the writer thread's wake-up) and a publisher can never run ahead of the writer: unpaced, it
 * would fill the subscriber's queue and have it closed as a slow consumer.
 *
 * <p>{@link BeforeScanPasses} quantifies what the code before this change did instead.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OneSubscriberPublish {

    @Param({"0", "10000"})
    public int idle;

    @Param({"0", "1"})
    public int targetShard;

    private ScheduledExecutorService scheduler;
    private ExecutorService writer;
    private ExecutorService secondWriter;
    private Hub hub;
    private InMemoryBroker broker;
    private CountingWire target;
    private long written;   // frames the subscriber's wire has had so far, greeting included
    private Connection targetConnection;
    private final Message message = Message.text("#0:1:123456789:" + "x".repeat(48));   // 64 bytes, as bench fanout
    private final Publication publication = new Publication(1, message);
    private final Message greeting = Message.text("Welcome");

    @Setup(Level.Trial)
    public void setUp() {
        scheduler = Executors.newSingleThreadScheduledExecutor(daemon("bench-scheduler"));
        writer = Executors.newSingleThreadExecutor(daemon("bench-writer-1"));
        secondWriter = Executors.newSingleThreadExecutor(daemon("bench-writer-2"));
        broker = new InMemoryBroker();
        hub = new Hub(new OutboundLimits(1 << 20, 1000, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
                new Metrics(), scheduler, List.of(writer, secondWriter), broker, 300);
        for (int i = 0; i < idle; i++) hub.join(new CountingWire(), "idle-" + i, "idle", greeting);
        target = new CountingWire();
        String id = idWithShard(targetShard, 2);
        targetConnection = hub.join(target, id, "target", greeting);
        if (targetConnection.shard().index() != targetShard) throw new AssertionError("target on the wrong shard");
        written = target.frames.get();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        writer.shutdown();
        secondWriter.shutdown();
        writer.awaitTermination(10, TimeUnit.SECONDS);
        secondWriter.awaitTermination(10, TimeUnit.SECONDS);
        // A figure only counts if every publish reached the one subscriber and nothing closed it.
        if (hub.subscribers("target") != 1 || hub.size() != idle + 1) {
            throw new AssertionError("the subscriber left (slow consumer?): subscribers=" + hub.subscribers("target")
                    + " connections=" + hub.size());
        }
        if (target.frames.get() != written) throw new AssertionError("frames " + target.frames.get() + " != " + written);
        scheduler.shutdownNow();
        broker.close();
    }

    /** The hub alone: what the broker calls for each publish. */
    @Benchmark
    public int deliver() {
        int delivered = hub.deliver("target", publication);
        awaitWritten();
        return delivered;
    }

    /** Through the in-memory broker, so its per-channel sequencer (striped lock) is included. */
    @Benchmark
    public int publish() {
        int delivered = broker.publish("target", message, PublishOptions.NO_HISTORY).delivered();
        awaitWritten();
        return delivered;
    }

    private void awaitWritten() {
        long expected = ++written;
        while (target.frames.get() < expected) Thread.onSpinWait();
    }

    static String idWithShard(int shard, int shards) {
        for (int i = 0; ; i++) {
            String id = "target-" + i;
            if (Math.floorMod(id.hashCode(), shards) == shard) return id;
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** A socket that takes every frame at once and counts it. */
    static final class CountingWire implements Wire {
        final AtomicLong frames = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();

        @Override
        public void send(Message message, boolean more, Written written) {
            frames.incrementAndGet();
            bytes.addAndGet(message.size());
            written.succeeded();
        }

        @Override
        public void flush() {
        }

        @Override
        public void ping() {
        }

        @Override
        public void close(int code, String reason) {
        }

        @Override
        public void abort() {
        }

        @Override
        public long inboundActivity() {
            return 0;
        }

        @Override
        public long outboundActivity() {
            return bytes.get();
        }
    }
}
