package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.Message;
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

/**
 * Not the hub's code path: the loop with which the code before issue 7 (885775c, {@code Hub.flush(int shard)})
 * looked for each shard's connections after every broadcast, run once per shard (2 on this machine) over
 * {@code idle + 1} connections whose queues are empty:
 * {@code for (c : connections.values()) if (c.shard() == shard) c.flush();}. Before, every publish went to every
 * connection, so there was no one-recipient publish; this is the part of any publish's cost that grew with the
 * number of open connections however few it was for, i.e. what a channel publish would have cost on top of its
 * recipients had channels been added to the old hub. Run on today's {@link Connection} (its flush of an empty
 * queue is the same two checks as the old one's), not the old classes, which need real Jetty sessions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BeforeScanPasses {

    @Param({"0", "10000"})
    public int idle;

    private ScheduledExecutorService scheduler;
    private ExecutorService writer;
    private Hub hub;

    @Setup(Level.Trial)
    public void setUp() {
        scheduler = Executors.newSingleThreadScheduledExecutor(OneSubscriberPublish.daemon("bench-scheduler"));
        writer = Executors.newSingleThreadExecutor(OneSubscriberPublish.daemon("bench-writer"));
        hub = new Hub(new OutboundLimits(1 << 20, 1000, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
                new Metrics(), scheduler, List.of(writer), new dev.squall.internal.broker.InMemoryBroker(), 300);
        Message greeting = Message.text("Welcome");
        for (int i = 0; i < idle; i++) hub.join(new OneSubscriberPublish.CountingWire(), "idle-" + i, "idle", greeting);
        hub.join(new OneSubscriberPublish.CountingWire(), "target-0", "target", greeting);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        writer.shutdownNow();
        scheduler.shutdownNow();
    }

    @Benchmark
    public int scanBothShards() {
        int visited = 0;
        for (int shard = 0; shard < 2; shard++) {
            for (Connection connection : hub.connections()) {
                if (connection.shard().index() == shard) {
                    connection.flush();
                    visited++;
                }
            }
        }
        return visited;
    }
}
