package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bounded queue, driven through a {@link RecordingWire}: the test decides when each frame is written, so
 * the interleavings that matter (a drop next to a reply, an overflow while a writer runs, the drop-oldest window
 * refilling) happen every time, in the chosen order.
 */
@Timeout(30)
class ConnectionTest {

    private InMemoryBroker broker;

    private static final String CHANNEL = "c";

    private final Metrics metrics = new Metrics();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private Hub hub;

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        metrics.close();
    }

    private Connection open(RecordingWire wire, long maxBytes, int maxMessages, SlowConsumerPolicy policy) {
        hub = new Hub(new OutboundLimits(maxBytes, maxMessages, policy, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        return hub.join(wire, "conn-1", CHANNEL, Message.text("W"));
    }

    private int publish(String text) {
        return broker.publish(CHANNEL, Message.text(text), PublishOptions.NO_HISTORY).delivered();
    }

    private double metric(String name) {
        return metrics.scrape().lines().filter(line -> line.startsWith(name + " ")).mapToDouble(
                line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void drop_oldest_drops_publications_around_a_reply_and_never_the_reply() {
        RecordingWire wire = new RecordingWire();
        Connection connection = open(wire, 1 << 20, 6, SlowConsumerPolicy.DROP_OLDEST);   // window: 3 frames
        publish("m1");
        publish("m2");
        assertThat(wire.texts()).containsExactly("W", "m1", "m2");                         // the window is full

        connection.send(Message.text("reply"));          // queued: W, m1, m2 (in the wire), reply
        publish("m3");
        publish("m4");
        publish("m5");                                   // the reply is the oldest waiting: m3 makes room instead
        publish("m6");                                   // and m4
        wire.completeAll();
        wire.completeAll();

        assertThat(wire.texts()).as("the notice counts the publications it stands for, and the reply is not one")
                .containsExactly("W", "m1", "m2", "{\"squall\":\"dropped\",\"count\":2}", "reply", "m5", "m6");
        assertThat(metric("squall_dropped_messages_total")).isEqualTo(2.0);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void drop_oldest_closes_a_client_whose_queue_is_full_of_replies_it_does_not_read() {
        RecordingWire wire = new RecordingWire();
        Connection connection = open(wire, 1 << 20, 6, SlowConsumerPolicy.DROP_OLDEST);   // window: 3 frames
        publish("m1");
        publish("m2");                                   // W, m1, m2 in the wire: nothing of it can be dropped
        publish("m3");
        for (int i = 1; i <= 3; i++) assertThat(connection.send(Message.text("reply " + i))).as("reply %d", i).isTrue();

        assertThat(connection.send(Message.text("reply 4"))).as("no publication is left to make room").isFalse();

        assertThat(wire.closeCode).isEqualTo(Connection.SLOW_CONSUMER);
        assertThat(metric("squall_slow_consumers_total")).isEqualTo(1.0);
    }

    @Test
    void a_message_drop_oldest_drops_on_arrival_is_not_counted_as_delivered() {
        RecordingWire wire = new RecordingWire();
        Connection connection = open(wire, 1024, 100, SlowConsumerPolicy.DROP_OLDEST);
        String big = "x".repeat(600);
        assertThat(publish(big)).isEqualTo(1);           // in the wire's hands: it cannot be dropped any more
        double sentBefore = metric("squall_messages_sent_total");

        assertThat(publish(big)).as("nothing queued is droppable, so it is dropped itself").isZero();

        assertThat(metric("squall_messages_sent_total")).isEqualTo(sentBefore);
        assertThat(metric("squall_dropped_messages_total")).isEqualTo(1.0);
        wire.completeAll();
        publish("next");
        assertThat(wire.texts()).containsExactly("W", big, "{\"squall\":\"dropped\",\"count\":1}", "next");
        wire.completeAll();
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void a_queue_that_overflows_while_a_writer_runs_is_closed_when_that_writer_finishes() {
        RecordingWire wire = new RecordingWire();
        hub = new Hub(new OutboundLimits(1 << 20, 3, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        // While the greeting is being written, three publishes arrive: two fit, the third overflows. The flushes
        // they trigger find the writer busy and return; the busy writer itself must notice.
        wire.onSend = frame -> {
            if (frame.text().equals("W")) {
                publish("m1");
                publish("m2");
                publish("m3");
            }
        };
        hub.join(wire, "conn-1", CHANNEL, Message.text("W"));

        assertThat(wire.closeCode).isEqualTo(Connection.SLOW_CONSUMER);
        assertThat(wire.texts()).as("nothing more is written to a slow consumer").containsExactly("W");
        assertThat(hub.size()).isZero();
        assertThat(hub.subscribers(CHANNEL)).isZero();
        assertThat(metric("squall_slow_consumers_total")).isEqualTo(1.0);
    }

    @Test
    void with_drop_oldest_each_written_frame_lets_exactly_one_more_into_the_window_in_order() {
        RecordingWire wire = new RecordingWire();
        Connection connection = open(wire, 1 << 20, 6, SlowConsumerPolicy.DROP_OLDEST);   // window: 3 frames
        for (int i = 1; i <= 5; i++) publish("m" + i);
        assertThat(wire.texts()).containsExactly("W", "m1", "m2");

        wire.completeNext();
        assertThat(wire.texts()).containsExactly("W", "m1", "m2", "m3");
        assertThat(wire.inFlight()).isEqualTo(3);
        wire.completeNext();
        wire.completeNext();
        assertThat(wire.texts()).containsExactly("W", "m1", "m2", "m3", "m4", "m5");
        wire.completeAll();

        assertThat(connection.queuedBytes()).isZero();
        assertThat(metric("squall_dropped_messages_total")).isZero();
    }

    @Test
    void one_connection_whose_write_throws_does_not_keep_the_publish_from_the_others() {
        hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        RecordingWire broken = new RecordingWire();
        RecordingWire fine = new RecordingWire();
        hub.join(broken, "broken", CHANNEL, Message.text("W"));
        hub.join(fine, "fine", CHANNEL, Message.text("W"));
        broken.failSend = new IllegalStateException("a wire that throws");

        assertThat(publish("hello")).isEqualTo(2);

        assertThat(fine.texts()).containsExactly("W", "hello");
    }

    @Test
    void a_publish_reaches_only_the_channel_it_was_published_to() {
        hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler, List.of(), broker = new InMemoryBroker(), 300);
        RecordingWire listener = new RecordingWire();
        RecordingWire elsewhere = new RecordingWire();
        hub.join(listener, "listener", CHANNEL, Message.text("W"));
        hub.join(elsewhere, "elsewhere", "other", Message.text("W"));

        assertThat(publish("for c")).isEqualTo(1);

        assertThat(listener.texts()).containsExactly("W", "for c");
        assertThat(elsewhere.texts()).containsExactly("W");
        hub.leave("listener", 1000);
        assertThat(hub.subscribers(CHANNEL)).isZero();
        assertThat(hub.channelCount()).as("a channel without subscribers is gone").isEqualTo(1);
    }
}
