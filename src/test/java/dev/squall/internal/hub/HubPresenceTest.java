package dev.squall.internal.hub;

import dev.squall.Identity;
import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Join and leave events: sent to a channel's other subscribers whose framing has them, only on channels the
 * presence predicate accepts, and never ahead of a recovering subscriber's first frame; the broker hears every
 * count change and every join and leave (for the other nodes), and the hub tells its live subscribers the ones the
 * broker brings from other nodes.
 */
class HubPresenceTest {

    /** Frames publications as their text, and join/leave as {@code join:ID} / {@code leave:ID}. */
    private static final Framing EVENTS = new Framing() {
        @Override public Message frame(String channel, Publication publication) { return publication.message(); }
        @Override public Message dropped(int count) { return Message.text("dropped:" + count); }
        @Override public Message joined(String channel, Member who) { return Message.text("join:" + shown(who)); }
        @Override public Message left(String channel, Member who) { return Message.text("leave:" + shown(who)); }
        @Override public long frameBound(String channel, Message message) { return message.size(); }
        @Override public String clients() { return "test clients"; }
    };

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final Metrics metrics = new Metrics();
    private final InMemoryBroker real = new InMemoryBroker();
    private Runnable duringHistoryRead;                    // runs inside the next history read, once
    private volatile Broker.Handler registered;            // the hub, as the broker sees it
    private final List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();   // what the other nodes would hear
    private final List<String> counted = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<String> countedUsers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Broker racing = new Broker() {
        @Override public void register(Handler handler) {
            registered = handler;
            real.register(handler);
        }
        @Override public void counted(String channel, String user) {
            counted.add(channel);
            if (!user.isEmpty()) countedUsers.add(channel + "/" + user);
        }
        @Override public void announce(String channel, boolean joined, Member who) {
            told.add((joined ? "join:" : "leave:") + shown(who));
        }
        @Override public void subscribe(String channel) { real.subscribe(channel); }
        @Override public void unsubscribe(String channel) { real.unsubscribe(channel); }
        @Override public PublishResult publish(String channel, Message message, PublishOptions options) {
            return real.publish(channel, message, options);
        }
        @Override public History history(String channel, long since, int limit) {
            Runnable hook = duringHistoryRead;
            duringHistoryRead = null;
            if (hook != null) hook.run();
            return real.history(channel, since, limit);
        }
        @Override public History latest(String channel, int limit) { return real.latest(channel, limit); }
        @Override public Presence presence(String channel) { return real.presence(channel); }
        @Override public void close() { real.close(); }
    };
    private final Hub hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
            metrics, scheduler, List.of(), racing, 300, channel -> channel.startsWith("chat:"));

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        metrics.close();
    }

    /** The client, and its user and info when it has them: {@code id}, {@code id/user}, {@code id/user/info}. */
    private static String shown(Member who) {
        return who.client() + (who.user().isEmpty() ? "" : "/" + who.user()) + (who.info() == null ? "" : "/" + who.info());
    }

    private Connection open(String id, RecordingWire wire, Framing framing, String channel) {
        return open(id, Identity.ANONYMOUS, wire, framing, channel);
    }

    private Connection open(String id, Identity identity, RecordingWire wire, Framing framing, String channel) {
        Connection connection = hub.connect(wire, id, framing);
        connection.identify(identity);
        hub.subscribe(connection, channel, Recovery.FROM_NOW, started -> Message.text("subscribed:" + id));
        hub.opened(connection);
        return connection;
    }

    @Test
    void the_other_subscribers_hear_a_join_and_a_leave_by_unsubscribe_or_disconnect_and_plain_ones_hear_nothing() {
        RecordingWire alice = new RecordingWire();
        RecordingWire plain = new RecordingWire();
        RecordingWire bob = new RecordingWire();
        open("alice", alice, EVENTS, "chat:room");
        open("plain", plain, Framing.PLAIN, "chat:room");
        Connection bobs = open("bob", bob, EVENTS, "chat:room");

        hub.unsubscribe(bobs, "chat:room");
        hub.subscribe(bobs, "chat:room", Recovery.FROM_NOW, started -> null);
        hub.leave("bob", 1000);
        hub.leave("plain", 1000);

        assertThat(alice.texts()).containsExactly("subscribed:alice", "join:plain", "join:bob", "leave:bob", "join:bob",
                "leave:bob", "leave:plain");
        assertThat(bob.texts()).as("not its own join").containsExactly("subscribed:bob");
        assertThat(plain.texts()).containsExactly("subscribed:plain");
    }

    @Test
    void a_channel_the_predicate_refuses_has_no_events() {
        RecordingWire alice = new RecordingWire();
        open("alice", alice, EVENTS, "news");
        open("bob", new RecordingWire(), EVENTS, "news");
        hub.leave("bob", 1000);
        assertThat(alice.texts()).containsExactly("subscribed:alice");
    }

    @Test
    void a_join_while_a_subscriber_recovers_does_not_go_ahead_of_its_first_frame() {
        RecordingWire recovering = new RecordingWire();
        Connection connection = hub.connect(recovering, "late", EVENTS);
        duringHistoryRead = () -> open("bob", new RecordingWire(), EVENTS, "chat:room");
        hub.subscribe(connection, "chat:room", Recovery.since(0, null), started -> Message.text("subscribed:late"));
        hub.opened(connection);
        hub.leave("bob", 1000);

        assertThat(recovering.texts()).as("bob joined while its history was read: too early to be told")
                .containsExactly("subscribed:late", "leave:bob");
    }

    @Test
    void the_broker_hears_every_count_change_and_every_join_and_leave_even_the_last_one_to_tell_the_other_nodes() {
        Connection alice = open("alice", new RecordingWire(), EVENTS, "chat:room");
        open("bob", new RecordingWire(), Framing.PLAIN, "chat:room");
        open("carol", new RecordingWire(), EVENTS, "news");
        hub.leave("bob", 1000);
        hub.unsubscribe(alice, "chat:room");

        assertThat(told).as("the last leave too: nobody is left here, but there may be on other nodes")
                .containsExactly("join:alice", "join:bob", "leave:bob", "leave:alice");
        assertThat(counted).containsExactly("chat:room", "chat:room", "news", "chat:room", "chat:room");
        assertThat(registered.subscribers("news")).as("the hub answers its local count").isEqualTo(1);
        assertThat(registered.subscribers("chat:room")).isZero();
    }

    @Test
    void a_join_from_another_node_reaches_live_subscribers_but_not_one_still_recovering_nor_a_channel_without_presence() {
        RecordingWire alice = new RecordingWire();
        open("alice", alice, EVENTS, "chat:room");
        RecordingWire recovering = new RecordingWire();
        Connection connection = hub.connect(recovering, "late", EVENTS);
        duringHistoryRead = () -> registered.presence("chat:room", true, new Member("remote", "", null));
        hub.subscribe(connection, "chat:room", Recovery.since(0, null), started -> Message.text("subscribed:late"));
        hub.opened(connection);
        registered.presence("chat:room", false, new Member("remote", "", null));
        RecordingWire news = new RecordingWire();
        open("reader", news, EVENTS, "news");
        registered.presence("news", true, new Member("remote", "", null));

        assertThat(alice.texts()).containsExactly("subscribed:alice", "join:late", "join:remote", "leave:remote");
        assertThat(recovering.texts()).as("the join came while its history was read: too early to be told")
                .containsExactly("subscribed:late", "leave:remote");
        assertThat(news.texts()).containsExactly("subscribed:reader");
    }

    @Test
    void a_channels_users_are_its_identified_subscribers_each_once() {
        Identity ada = Identity.of("ada");
        open("ada-phone", ada, new RecordingWire(), EVENTS, "chat:room");
        Connection adaLaptop = open("ada-laptop", ada, new RecordingWire(), Framing.PLAIN, "chat:room");
        Connection bob = open("bob", Identity.of("bob"), new RecordingWire(), EVENTS, "chat:room");
        open("someone", new RecordingWire(), EVENTS, "chat:room");
        open("ada-news", ada, new RecordingWire(), EVENTS, "news");

        assertThat(registered.users("chat:room")).as("anonymous ones are no user").containsExactlyInAnyOrder("ada", "bob");
        assertThat(registered.subscribers("chat:room")).isEqualTo(4);
        assertThat(real.presence("chat:room")).isEqualTo(new Presence(4, 2));
        hub.leave("ada-laptop", 1000);
        assertThat(registered.users("chat:room")).as("ada is still there on her phone").containsExactlyInAnyOrder("ada", "bob");
        hub.unsubscribe(bob, "chat:room");
        hub.leave("ada-phone", 1000);
        assertThat(registered.users("chat:room")).isEmpty();
        assertThat(registered.users("news")).containsExactly("ada");
        assertThat(countedUsers).as("the broker hears whose subscription came or went")
                .containsExactly("chat:room/ada", "chat:room/ada", "chat:room/bob", "news/ada", "chat:room/ada",
                        "chat:room/bob", "chat:room/ada");
        assertThat(adaLaptop.isOpen()).isFalse();

        hub.leave("someone", 1000);
        hub.leave("ada-news", 1000);
        assertThat(hub.users("chat:room")).isEmpty();
        assertThat(hub.users("news")).isEmpty();
        assertThat(hub.channelCount()).isZero();
    }

    @Test
    void a_join_and_a_leave_carry_the_user_and_the_info_here_and_to_the_other_nodes() {
        RecordingWire watcher = new RecordingWire();
        open("watcher", watcher, EVENTS, "chat:room");
        open("ada", Identity.of("ada", "{ \"name\" : \"Ada\" }"), new RecordingWire(), EVENTS, "chat:room");
        hub.leave("ada", 1000);

        assertThat(watcher.texts()).containsExactly("subscribed:watcher", "join:ada/ada/{\"name\":\"Ada\"}",
                "leave:ada/ada/{\"name\":\"Ada\"}");
        assertThat(told).containsExactly("join:watcher", "join:ada/ada/{\"name\":\"Ada\"}", "leave:ada/ada/{\"name\":\"Ada\"}");
    }
}
