package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Issue 9: what keeping history costs a fan-out. One publish through the in-memory broker to a channel with
 * {@code subscribers} local subscribers, with a history of {@code history} publications (0: none, offsets only),
 * waiting until every subscriber's wire has the frame. The hub is built as the node builds it (one writer per
 * core, the publisher helping); the wires complete at once, so the figure is Squall's cost without Jetty.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HistoryPublish {

    @Param({"0", "100"})
    public int history;

    @Param({"1000"})
    public int subscribers;

    private ScheduledExecutorService scheduler;
    private List<ExecutorService> writers;
    private InMemoryBroker broker;
    private Hub hub;
    private PublishOptions options;
    private final List<OneSubscriberPublish.CountingWire> wires = new ArrayList<>();
    private long written;
    private final Message message = Message.text("#0:1:123456789:" + "x".repeat(48));   // 64 bytes, as bench fanout

    @Setup(Level.Trial)
    public void setUp() {
        scheduler = Executors.newSingleThreadScheduledExecutor(OneSubscriberPublish.daemon("bench-scheduler"));
        writers = List.of(Executors.newSingleThreadExecutor(OneSubscriberPublish.daemon("bench-writer-1")),
                Executors.newSingleThreadExecutor(OneSubscriberPublish.daemon("bench-writer-2")));
        broker = new InMemoryBroker();
        hub = new Hub(new OutboundLimits(1 << 20, 1000, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
                new Metrics(), scheduler, writers, broker, 300);
        options = new PublishOptions(history, Duration.ofMinutes(5), null, Duration.ZERO);
        Message greeting = Message.text("Welcome");
        for (int i = 0; i < subscribers; i++) {
            OneSubscriberPublish.CountingWire wire = new OneSubscriberPublish.CountingWire();
            wires.add(wire);
            hub.join(wire, "s-" + i, "bench", greeting);
        }
        written = 1;
        for (OneSubscriberPublish.CountingWire wire : wires) {
            while (wire.frames.get() < written) Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (hub.subscribers("bench") != subscribers) throw new AssertionError("a subscriber left: " + hub.subscribers("bench"));
        writers.forEach(ExecutorService::shutdownNow);
        scheduler.shutdownNow();
        broker.close();
    }

    @Benchmark
    public int publish() {
        int delivered = broker.publish("bench", message, options).delivered();
        hub.helpWrite();
        long expected = ++written;
        for (OneSubscriberPublish.CountingWire wire : wires) {
            while (wire.frames.get() < expected) Thread.onSpinWait();
        }
        return delivered;
    }
}
