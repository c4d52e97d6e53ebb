package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.support.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The switch-over from history to the live stream, with a publish landing in the one place a race can put it:
 * after the subscriber is registered for live publications, before history is read. It is then both in history
 * and among the buffered live ones, and must arrive once.
 */
class HubRecoveryTest {

    private static final PublishOptions KEEP = new PublishOptions(100, Duration.ofMinutes(5), null, Duration.ZERO);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final Metrics metrics = new Metrics();
    private final InMemoryBroker real = new InMemoryBroker();
    private String racedIn;                                 // published from inside the next history read, once
    private Runnable duringRead;                            // runs inside the next history read, once
    private Broker.Handler hubHandler;
    /** Channels subscribed at the broker right now, as the broker hears of it. */
    private final java.util.Set<String> atBroker = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Broker racing = new Broker() {
        @Override public void register(Handler handler) {
            hubHandler = handler;
            real.register(handler);
        }
        @Override public void subscribe(String channel) {
            real.subscribe(channel);
            atBroker.add(channel);
        }
        @Override public void unsubscribe(String channel) {
            atBroker.remove(channel);
            real.unsubscribe(channel);
        }
        @Override public PublishResult publish(String channel, Message message, PublishOptions options) {
            return real.publish(channel, message, options);
        }
        @Override public History history(String channel, long since, int limit) {
            race(channel);
            return real.history(channel, since, limit);
        }
        @Override public History latest(String channel, int limit) {
            race(channel);
            return real.latest(channel, limit);
        }
        @Override public Presence presence(String channel) { return real.presence(channel); }
        @Override public void close() { real.close(); }
    };
    private final Hub hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
            metrics, scheduler, List.of(), racing, 300);

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        metrics.close();
    }

    private void race(String channel) {
        Runnable hook = duringRead;
        duringRead = null;
        if (hook != null) hook.run();
        if (racedIn == null) return;
        String text = racedIn;
        racedIn = null;
        real.publish(channel, Message.text(text), KEEP);
    }

    private RecordingWire subscribe(String id, Recovery recovery) {
        RecordingWire wire = new RecordingWire();
        Connection connection = hub.connect(wire, id);
        hub.subscribe(connection, "room", recovery, Notice::subscribed);
        hub.opened(connection);
        return wire;
    }

    @Test
    void a_publish_between_registering_and_reading_history_is_replayed_once() {
        hub.subscribe(hub.connect(new RecordingWire(), "keeps-the-channel"), "room");
        String epoch = real.publish("room", Message.text("m1"), KEEP).position().epoch();
        real.publish("room", Message.text("m2"), KEEP);

        racedIn = "m3";
        RecordingWire wire = subscribe("back", Recovery.since(1, epoch));
        real.publish("room", Message.text("m4"), KEEP);

        assertThat(wire.texts()).containsExactly(
                "{\"squall\":\"subscribed\",\"channel\":\"room\",\"offset\":1,\"epoch\":\"" + epoch + "\",\"recovered\":true}",
                "m2", "m3", "m4");
    }

    @Test
    void from_now_a_publish_in_the_window_is_counted_in_the_position_and_not_sent() {
        hub.subscribe(hub.connect(new RecordingWire(), "keeps-the-channel"), "room");
        String epoch = real.publish("room", Message.text("m1"), KEEP).position().epoch();

        racedIn = "m2";
        RecordingWire wire = subscribe("new", Recovery.FROM_NOW);
        real.publish("room", Message.text("m3"), KEEP);

        assertThat(wire.texts()).as("the notice says 2: the next message is 3, and it is").containsExactly(
                "{\"squall\":\"subscribed\",\"channel\":\"room\",\"offset\":2,\"epoch\":\"" + epoch + "\"}", "m3");
    }

    @Test
    void the_channel_is_subscribed_at_the_broker_while_it_has_local_subscribers_only() {
        Connection connection = hub.connect(new RecordingWire(), "only");
        hub.subscribe(connection, "room");
        assertThat(real.publish("room", Message.text("in"), PublishOptions.NO_HISTORY).delivered()).isEqualTo(1);
        assertThat(real.history("room", 0, 10).position().offset()).as("a subscribed stream is kept").isEqualTo(1);

        assertThat(atBroker).containsExactly("room");

        hub.leave("only", 1000);
        dev.squall.support.Await.until("the broker to be unsubscribed", Duration.ofSeconds(10), atBroker::isEmpty);
        assertThat(hub.subscribers("room")).isZero();
    }

    @Test
    void a_reset_while_a_subscriber_recovers_is_told_after_its_replay_and_the_new_streams_publications_follow_it() {
        hub.subscribe(hub.connect(new RecordingWire(), "keeps-the-channel"), "room");
        String epoch = real.publish("room", Message.text("m1"), KEEP).position().epoch();
        real.publish("room", Message.text("m2"), KEEP);
        real.publish("room", Message.text("m3"), KEEP);

        // What a networked broker does when Redis loses the stream while the subscriber reads history: it resets the
        // channel, and the new epoch's offsets start again below the ones the subscriber is being replayed.
        duringRead = () -> {
            hubHandler.reset("room", new StreamPosition(0, "e2"));
            hubHandler.deliver("room", new Publication(1, Message.text("n1"), "e2"));
            hubHandler.deliver("room", new Publication(2, Message.text("n2"), "e2"));
        };
        RecordingWire wire = subscribe("back", Recovery.since(1, epoch));
        hubHandler.deliver("room", new Publication(3, Message.text("n3"), "e2"));

        assertThat(wire.texts()).as("never a silent hole: the reset is told where it happened").containsExactly(
                "{\"squall\":\"subscribed\",\"channel\":\"room\",\"offset\":1,\"epoch\":\"" + epoch + "\",\"recovered\":true}",
                "m2", "m3",
                "{\"squall\":\"subscribed\",\"channel\":\"room\",\"offset\":0,\"epoch\":\"e2\",\"recovered\":false}",
                "n1", "n2", "n3");
    }

    @Test
    void a_publication_a_networked_broker_delivers_after_the_replay_had_it_is_not_sent_again() {
        Connection keeper = hub.connect(new RecordingWire(), "keeps-the-channel");
        hub.subscribe(keeper, "room");
        String epoch = real.publish("room", Message.text("m1"), KEEP).position().epoch();
        real.publish("room", Message.text("m2"), KEEP);

        RecordingWire wire = subscribe("back", Recovery.since(1, epoch));
        // Redis's stripe lags: m2, already replayed from history, reaches the hub only now, then m3.
        hubHandler.deliver("room", new Publication(2, Message.text("m2"), epoch));
        hubHandler.deliver("room", new Publication(3, Message.text("m3"), epoch));

        assertThat(wire.texts()).containsExactly(
                "{\"squall\":\"subscribed\",\"channel\":\"room\",\"offset\":1,\"epoch\":\"" + epoch + "\",\"recovered\":true}",
                "m2", "m3");
    }
}
