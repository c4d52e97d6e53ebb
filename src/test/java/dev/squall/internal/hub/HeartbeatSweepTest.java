package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** The heartbeat's sweep, on recording wires: one connection's failure never stops it for the others. */
@Timeout(30)
class HeartbeatSweepTest {

    private InMemoryBroker broker;

    private final Metrics metrics = new Metrics();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        metrics.close();
    }

    @Test
    void a_connection_whose_ping_throws_does_not_stop_the_heartbeat_for_the_others() {
        Hub hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        RecordingWire throwing = new RecordingWire();
        throwing.failPing = new IllegalStateException("a wire whose ping throws");
        RecordingWire silent = new RecordingWire();
        hub.join(throwing, "throwing", "c", Message.text("W"));
        hub.join(silent, "silent", "c", Message.text("W"));
        throwing.completeAll();
        silent.completeAll();

        try (Heartbeat heartbeat = new Heartbeat(hub, scheduler, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ZERO)) {
            heartbeat.start();
            until("the silent peer pinged, then dropped", Duration.ofSeconds(10), () -> silent.aborted);
            // Sweeps go on after the throws: the silent one keeps being checked, and pings keep being attempted.
            until("more sweeps", Duration.ofSeconds(10), () -> silent.pings >= 1);
        }
        assertThat(silent.pings).isGreaterThanOrEqualTo(1);
        assertThat(throwing.aborted).isFalse();
    }

    @Test
    void pings_of_connections_opened_together_are_spread_over_a_fifth_of_the_interval() {
        Hub hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        int count = 200;
        RecordingWire[] wires = new RecordingWire[count];
        for (int i = 0; i < count; i++) {
            wires[i] = new RecordingWire();
            hub.join(wires[i], "c" + i, "c", Message.text("W"));
        }
        long[] firstPingAt = new long[count];
        long start = System.nanoTime();
        // An interval of 2 s and a 100 ms timeout, so the sweep ticks every 25 ms: first pings fall in 2.0-2.4 s.
        try (Heartbeat heartbeat = new Heartbeat(hub, scheduler, Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ZERO)) {
            heartbeat.start();
            until("every connection's first ping", Duration.ofSeconds(10), () -> {
                boolean all = true;
                for (int i = 0; i < count; i++) {
                    if (firstPingAt[i] == 0 && wires[i].pings > 0) firstPingAt[i] = System.nanoTime() - start;
                    all &= firstPingAt[i] != 0;
                }
                return all;
            });
        }
        long earliest = java.util.Arrays.stream(firstPingAt).min().orElseThrow();
        long latest = java.util.Arrays.stream(firstPingAt).max().orElseThrow();
        assertThat(Duration.ofNanos(earliest)).isGreaterThanOrEqualTo(Duration.ofMillis(1950));
        assertThat(Duration.ofNanos(latest - earliest)).as("not all in one instant").isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }
}
