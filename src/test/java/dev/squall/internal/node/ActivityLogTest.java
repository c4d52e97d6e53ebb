package dev.squall.internal.node;

import dev.squall.internal.hub.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The minute summary: one line with what changed since the last one, none when nothing did. */
class ActivityLogTest {

    private final Metrics metrics = new Metrics();
    private final AtomicInteger open = new AtomicInteger();
    private final ActivityLog activity = new ActivityLog(metrics, open::get);

    @AfterEach
    void close() {
        metrics.close();
    }

    @Test
    void a_quiet_node_writes_no_summary() {
        assertThat(activity.summary()).isNull();
        assertThat(activity.summary()).isNull();
    }

    @Test
    void the_summary_counts_what_happened_since_the_previous_one() {
        for (int i = 0; i < 30; i++) metrics.connected();
        for (int i = 0; i < 17; i++) metrics.disconnected(1000);
        metrics.disconnected(1008);
        metrics.slowConsumer();
        open.set(12);

        assertThat(activity.summary()).isEqualTo(
                "connections: 12 open, +30 opened, -18 closed, 1 slow consumer, 0 dead peers in the last 60 s");
        assertThat(activity.summary()).as("nothing new since").isNull();

        metrics.deadPeer();
        metrics.deadPeer();
        metrics.disconnected(1001);
        metrics.disconnected(1001);
        metrics.tooLarge();
        metrics.tooLarge();
        metrics.tooLarge();
        open.set(10);
        assertThat(activity.summary()).isEqualTo("connections: 10 open, +0 opened, -2 closed, 0 slow consumers, "
                + "2 dead peers, 3 request bodies refused as too large in the last 60 s");
    }
}
