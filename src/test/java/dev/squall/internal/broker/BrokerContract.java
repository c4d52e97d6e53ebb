package dev.squall.internal.broker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract of {@link Broker} (its Javadoc), run against every implementation: each one extends this class
 * and says how to make a broker ({@code InMemoryBrokerTest}, {@code RedisBrokerTest} against a real
 * redis-server). Deliveries are awaited with a deadline, never assumed to have happened when {@code publish}
 * returns: a networked broker delivers afterwards, on its own thread.
 */
@Timeout(60)
abstract class BrokerContract {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    static final PublishOptions KEEP_100 = new PublishOptions(100, Duration.ofMinutes(5), null, Duration.ZERO);

    private Broker broker;

    abstract Broker newBroker();

    @BeforeEach
    void open() {
        broker = newBroker();
    }

    @AfterEach
    void close() {
        broker.close();
    }

    private PublishResult publish(String channel, String text) {
        return broker.publish(channel, Message.text(text), KEEP_100);
    }

    @Test
    void every_handler_receives_each_publication_of_a_subscribed_channel_with_its_offset() {
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        broker.register(recorder(first));
        broker.register(recorder(second));
        broker.subscribe("news");

        publish("news", "hello");

        until("both handlers to receive it", DEADLINE, () -> first.size() == 1 && second.size() == 1);
        assertThat(first).containsExactly("news 1 hello");
        assertThat(second).containsExactly("news 1 hello");
    }

    @Test
    void only_subscribed_channels_are_delivered_and_unsubscribing_stops_them() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.register(recorder(received));
        broker.subscribe("on");

        publish("off", "never");
        publish("on", "one");
        broker.unsubscribe("on");
        publish("on", "after");
        broker.subscribe("on");
        broker.subscribe("on");                                           // twice is one subscription
        publish("on", "again");

        until("the second delivery", DEADLINE, () -> received.size() == 2);
        assertThat(received).containsExactly("on 1 one", "on 3 again");
        broker.unsubscribe("never-subscribed");                           // nothing to do
    }

    @Test
    void offsets_start_at_one_are_contiguous_per_channel_and_keep_the_epoch() {
        broker.subscribe("a");
        PublishResult a1 = publish("a", "x");
        PublishResult a2 = publish("a", "y");
        PublishResult b1 = publish("b", "z");

        assertThat(a1.position().offset()).isEqualTo(1);
        assertThat(a2.position().offset()).isEqualTo(2);
        assertThat(b1.position().offset()).as("channels count on their own").isEqualTo(1);
        assertThat(a1.position().epoch()).isNotEmpty().isEqualTo(a2.position().epoch());
        assertThat(a1.duplicate()).isFalse();
    }

    @Test
    void history_returns_what_came_after_an_offset_oldest_first_with_the_position() {
        for (int i = 1; i <= 5; i++) publish("c", "m" + i);

        History after2 = broker.history("c", 2, 100);
        assertThat(texts(after2)).containsExactly("3 m3", "4 m4", "5 m5");
        assertThat(after2.position().offset()).isEqualTo(5);
        assertThat(after2.firstOffset()).isEqualTo(3);
        assertThat(texts(broker.history("c", 0, 2))).as("the oldest ones after the offset").containsExactly("1 m1", "2 m2");
        assertThat(broker.history("c", 5, 100).publications()).isEmpty();
        assertThat(texts(broker.latest("c", 2))).as("the newest ones").containsExactly("4 m4", "5 m5");
    }

    @Test
    void history_keeps_at_most_its_size_and_none_with_size_zero() {
        PublishOptions keep3 = new PublishOptions(3, Duration.ofMinutes(5), null, Duration.ZERO);
        for (int i = 1; i <= 10; i++) broker.publish("c", Message.text("m" + i), keep3);
        assertThat(texts(broker.history("c", 0, 100))).containsExactly("8 m8", "9 m9", "10 m10");

        broker.subscribe("off");
        PublishResult last = null;
        for (int i = 1; i <= 3; i++) last = broker.publish("off", Message.text("m" + i), PublishOptions.NO_HISTORY);
        assertThat(last.position().offset()).as("offsets go on without history").isEqualTo(3);
        History none = broker.history("off", 0, 100);
        assertThat(none.publications()).isEmpty();
        assertThat(none.position()).isEqualTo(last.position());
    }

    @Test
    void history_expires_after_its_ttl() {
        PublishOptions brief = new PublishOptions(100, Duration.ofMillis(300), null, Duration.ZERO);
        broker.subscribe("c");
        broker.publish("c", Message.text("soon gone"), brief);
        assertThat(broker.history("c", 0, 100).publications()).hasSize(1);

        until("the publication to expire", DEADLINE, () -> broker.history("c", 0, 100).publications().isEmpty());
        assertThat(broker.history("c", 0, 100).position().offset()).as("a subscribed channel keeps its offset").isEqualTo(1);
    }

    @Test
    void a_read_of_a_channel_without_a_stream_makes_one_whose_epoch_later_reads_subscribes_and_publishes_keep() {
        StreamPosition read = broker.history("new", 0, 10).position();
        assertThat(read.offset()).isZero();
        assertThat(read.epoch()).as("an epoch a client can offer back").isNotEmpty();
        assertThat(broker.latest("new", 1).position()).isEqualTo(read);

        broker.subscribe("new");
        assertThat(broker.history("new", 0, 10).position()).isEqualTo(read);
        assertThat(publish("new", "first").position()).isEqualTo(new StreamPosition(1, read.epoch()));
    }

    @Test
    void a_channel_is_delivering_once_subscribe_has_returned() {
        broker.subscribe("c");
        assertThat(broker.delivering("c")).isTrue();
    }

    @Test
    void subscribing_creates_the_stream_so_its_epoch_holds_from_before_the_first_publish() {
        broker.subscribe("c");
        StreamPosition before = broker.history("c", 0, 10).position();
        StreamPosition after = publish("c", "first").position();

        assertThat(before.offset()).isZero();
        assertThat(before.epoch()).isNotEmpty().isEqualTo(after.epoch());
    }

    @Test
    void a_retried_publish_with_the_same_idempotency_key_is_published_once() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.register(recorder(received));
        broker.subscribe("c");
        PublishOptions keyed = KEEP_100.withIdempotencyKey("order-42", Duration.ofMinutes(1));

        PublishResult first = broker.publish("c", Message.text("paid"), keyed);
        PublishResult retry = broker.publish("c", Message.text("paid"), keyed);
        PublishResult other = broker.publish("c", Message.text("shipped"), KEEP_100.withIdempotencyKey("order-43", Duration.ofMinutes(1)));

        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.delivered()).isZero();
        assertThat(retry.position()).isEqualTo(first.position());
        assertThat(other.position().offset()).isEqualTo(2);
        until("both publications", DEADLINE, () -> received.size() == 2);
        assertThat(received).containsExactly("c 1 paid", "c 2 shipped");
        assertThat(texts(broker.history("c", 0, 10))).containsExactly("1 paid", "2 shipped");
    }

    @Test
    void a_retry_within_the_window_is_published_once_however_many_other_keys_came_between() {
        PublishOptions first = KEEP_100.withIdempotencyKey("order-1", Duration.ofMinutes(5));
        PublishResult published = broker.publish("c", Message.text("paid"), first);
        for (int i = 2; i <= 10_002; i++) {
            broker.publish("c", Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("order-" + i, Duration.ofMinutes(5)));
        }

        PublishResult retry = broker.publish("c", Message.text("paid"), first);

        assertThat(retry.duplicate()).as("10,001 keys later, still within the window").isTrue();
        assertThat(retry.position()).isEqualTo(published.position());
    }

    @Test
    void an_idempotency_key_is_forgotten_after_its_window() {
        PublishOptions keyed = KEEP_100.withIdempotencyKey("k", Duration.ofMillis(200));
        broker.subscribe("c");
        broker.publish("c", Message.text("once"), keyed);

        until("the key to expire", DEADLINE, () -> !broker.publish("c", Message.text("again"), keyed).duplicate());
    }

    @Test
    void concurrent_publishers_get_unique_contiguous_offsets_delivered_in_offset_order() throws Exception {
        List<Long> first = new CopyOnWriteArrayList<>();
        List<Long> second = new CopyOnWriteArrayList<>();
        broker.register((channel, publication) -> {
            first.add(publication.offset());
            return 1;
        });
        broker.register((channel, publication) -> {
            second.add(publication.offset());
            return 1;
        });
        broker.subscribe("c");

        List<Long> assigned = new CopyOnWriteArrayList<>();
        publishConcurrently(4, 500, publisher -> "c", assigned);

        until("every publication at both handlers", DEADLINE, () -> first.size() == 2000 && second.size() == 2000);
        List<Long> expected = new ArrayList<>();
        for (long offset = 1; offset <= 2000; offset++) expected.add(offset);
        assertThat(first).as("offset order, one order for every handler").containsExactlyElementsOf(expected);
        assertThat(second).isEqualTo(first);
        assertThat(new HashSet<>(assigned)).as("each publish got its own offset").hasSize(2000);
    }

    @Test
    void history_read_while_publishing_never_misses_a_publication_between_position_and_list() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> publishing = pool.submit(() -> {
                for (int i = 0; i < 2000; i++) publish("c", "m" + i);
            });
            while (!publishing.isDone()) {
                History read = broker.history("c", 0, 1000);
                if (!read.publications().isEmpty()) {
                    Publication newest = read.publications().get(read.publications().size() - 1);
                    assertThat(newest.offset()).as("the list reaches the position it came with").isEqualTo(read.position().offset());
                }
            }
            publishing.get();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void a_channel_is_never_delivered_to_from_two_threads_at_once() throws Exception {
        // The hub relies on this instead of a lock of its own: the broker is the channel's sequencer.
        Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger deliveries = new AtomicInteger();
        broker.register((channel, publication) -> {
            AtomicInteger here = inside.computeIfAbsent(channel, c -> new AtomicInteger());
            if (here.incrementAndGet() > 1) overlaps.incrementAndGet();
            Thread.onSpinWait();
            here.decrementAndGet();
            deliveries.incrementAndGet();
            return 1;
        });
        broker.subscribe("c0");
        broker.subscribe("c1");

        publishConcurrently(4, 500, publisher -> "c" + (publisher % 2), new CopyOnWriteArrayList<>());

        until("every delivery", DEADLINE, () -> deliveries.get() == 2000);
        assertThat(overlaps.get()).isZero();
    }

    @Test
    void binary_payloads_arrive_unchanged() {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        broker.register((channel, publication) -> {
            byte[] bytes = new byte[publication.message().size()];
            publication.message().payload().get(bytes);
            received.add(bytes);
            return 1;
        });
        broker.subscribe("c");

        broker.publish("c", Message.binary(new byte[]{0, (byte) 0xff, 7}), KEEP_100);

        until("the binary message", DEADLINE, () -> received.size() == 1);
        assertThat(received.get(0)).containsExactly(0, 0xff, 7);
        assertThat(broker.history("c", 0, 1).publications().get(0).message().kind()).isEqualTo(Message.Kind.BINARY);
    }

    @Test
    void a_handler_that_throws_does_not_keep_the_publication_from_the_others_nor_fail_the_publish() {
        List<String> before = new CopyOnWriteArrayList<>();
        List<String> after = new CopyOnWriteArrayList<>();
        broker.register(recorder(before));
        broker.register((channel, publication) -> {
            throw new IllegalStateException("a broken handler");
        });
        broker.register(recorder(after));
        broker.subscribe("c");

        publish("c", "one");
        publish("c", "two");

        until("both publications at both working handlers", DEADLINE, () -> before.size() == 2 && after.size() == 2);
        assertThat(before).containsExactly("c 1 one", "c 2 two");
        assertThat(after).containsExactly("c 1 one", "c 2 two");
    }

    @Test
    void publish_after_close_is_refused_and_delivers_nothing() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.register(recorder(received));
        broker.subscribe("c");
        publish("c", "before");
        until("the publication before close", DEADLINE, () -> received.size() == 1);

        broker.close();

        assertThatThrownBy(() -> publish("c", "after")).isInstanceOf(IllegalStateException.class);
        broker.close();                                              // idempotent
        assertThat(received).containsExactly("c 1 before");
    }

    @Test
    void subscribers_is_what_this_nodes_handlers_count_and_follows_a_change_at_once() {
        AtomicInteger hub = new AtomicInteger(2);
        AtomicInteger other = new AtomicInteger(3);
        broker.register(counter(hub));
        broker.register(counter(other));
        broker.register(new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) { return 0; }
            @Override public int subscribers(String channel) { throw new IllegalStateException("a broken handler"); }
        });
        broker.subscribe("c");

        assertThat(broker.presence("c").subscribers()).as("a broken handler counts none").isEqualTo(5);
        hub.set(4);
        broker.counted("c", "");
        assertThat(broker.presence("c").subscribers()).as("this node's own change counts at once, before any sharing").isEqualTo(7);
        hub.set(0);
        other.set(0);
        broker.counted("c", "");
        assertThat(broker.presence("c")).isEqualTo(Presence.NONE);
        assertThat(broker.presence("nobody-here")).isEqualTo(Presence.NONE);
    }

    @Test
    void users_are_the_distinct_users_of_this_nodes_handlers_each_once_and_follow_a_change_at_once() {
        Set<String> hub = ConcurrentHashMap.newKeySet();
        Set<String> other = ConcurrentHashMap.newKeySet();
        broker.register(users(hub, 3));
        broker.register(users(other, 1));
        broker.register(new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) { return 0; }
            @Override public Set<String> users(String channel) { throw new IllegalStateException("a broken handler"); }
        });
        broker.subscribe("c");
        hub.addAll(List.of("ada", "bob"));
        other.add("bob");                                                  // bob is on two of them: one user
        broker.counted("c", "ada");
        broker.counted("c", "bob");

        assertThat(broker.presence("c")).as("a broken handler holds no user").isEqualTo(new Presence(4, 2));
        hub.add("carol");
        broker.counted("c", "carol");
        assertThat(broker.presence("c").users()).as("this node's own change counts at once").isEqualTo(3);
        hub.removeAll(List.of("ada", "bob", "carol"));
        for (String user : List.of("ada", "bob", "carol")) broker.counted("c", user);
        assertThat(broker.presence("c").users()).as("bob is still on the other handler").isEqualTo(1);
        other.clear();
        broker.counted("c", "bob");
        assertThat(broker.presence("c").users()).isZero();
        assertThat(broker.presence("elsewhere").users()).isZero();
    }

    @Test
    void an_announced_join_or_leave_is_no_publication_and_never_reaches_this_nodes_own_handlers() {
        List<String> received = new CopyOnWriteArrayList<>();
        List<String> events = new CopyOnWriteArrayList<>();
        broker.register(new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) {
                received.add(channel + " " + publication.offset() + " " + publication.message().textPayload());
                return 1;
            }
            @Override public void presence(String channel, boolean joined, Member who) {
                events.add(channel + " " + joined + " " + who);
            }
        });
        broker.subscribe("c");

        broker.announce("c", true, new Member("client-1", "ada", "{\"name\":\"Ada\"}"));
        broker.announce("c", false, new Member("client-1", "ada", null));
        publish("c", "after");

        // A networked broker sends the events ahead of the publish on one connection: they would arrive first.
        until("the publication after the events", DEADLINE, () -> received.size() == 1);
        assertThat(received).as("the events took no offset").containsExactly("c 1 after");
        assertThat(events).as("this node's hub told its own subscribers already").isEmpty();
        assertThat(texts(broker.history("c", 0, 10))).as("nothing of them in history").containsExactly("1 after");
    }

    @Test
    void a_disconnect_never_reaches_this_nodes_own_handlers_and_takes_no_offset() {
        List<String> disconnected = new CopyOnWriteArrayList<>();
        List<String> received = new CopyOnWriteArrayList<>();
        broker.register(new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) {
                received.add(channel + " " + publication.offset());
                return 1;
            }
            @Override public void disconnect(String user) { disconnected.add(user); }
        });
        broker.subscribe("c");

        broker.disconnect("ada");
        publish("c", "after");

        until("the publication after it", DEADLINE, () -> received.size() == 1);
        assertThat(received).containsExactly("c 1");
        assertThat(disconnected).as("this node closes its own before it asks the others").isEmpty();
    }

    /** A handler whose users of "c" are {@code users}, with {@code count} subscribers there. */
    private static Broker.Handler users(Set<String> users, int count) {
        return new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) { return 0; }
            @Override public int subscribers(String channel) { return channel.equals("c") ? count : 0; }
            @Override public Set<String> users(String channel) { return channel.equals("c") ? users : Set.of(); }
        };
    }

    private static Broker.Handler counter(AtomicInteger count) {
        return new Broker.Handler() {
            @Override public int deliver(String channel, Publication publication) { return 0; }
            @Override public int subscribers(String channel) { return channel.equals("c") ? count.get() : 0; }
        };
    }

    private void publishConcurrently(int publishers, int each, java.util.function.IntFunction<String> channelOf,
                                     List<Long> assigned) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(publishers);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                int publisher = p;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        assigned.add(publish(channelOf.apply(publisher), "p" + publisher + ":" + i).position().offset());
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> texts(History history) {
        List<String> texts = new ArrayList<>();
        for (Publication publication : history.publications()) texts.add(publication.offset() + " " + publication.message().textPayload());
        return texts;
    }

    private static Broker.Handler recorder(List<String> into) {
        return (channel, publication) -> {
            into.add(channel + " " + publication.offset() + " " + publication.message().textPayload());
            return 1;
        };
    }
}
