package dev.squall.broker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * The delivery contract of {@link Broker}, run against every implementation: each one extends this class and
 * says how to make a broker.
 */
@Timeout(60)
abstract class BrokerContract {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

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

    @Test
    void every_subscriber_receives_each_published_message_with_its_channel() {
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(first));
        broker.subscribe(recorder(second));

        broker.publish("news", Message.text("hello"));

        until("both subscribers to receive it", DEADLINE, () -> first.size() == 1 && second.size() == 1);
        assertThat(first).containsExactly("news hello");
        assertThat(second).containsExactly("news hello");
    }

    @Test
    void messages_published_one_after_another_arrive_in_that_order() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(received));

        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            sent.add("c m" + i);
            broker.publish("c", Message.text("m" + i));
        }

        until("all 1000 to arrive", DEADLINE, () -> received.size() == 1000);
        assertThat(received).containsExactlyElementsOf(sent);
    }

    @Test
    void concurrent_publishers_to_one_channel_are_seen_in_one_order_by_every_subscriber() throws Exception {
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(first));
        broker.subscribe(recorder(second));

        publishConcurrently(4, 500, publisher -> "c");

        until("every message at both subscribers", DEADLINE, () -> first.size() == 2000 && second.size() == 2000);
        assertThat(second).as("one order for the channel, the same for every subscriber").isEqualTo(first);
        assertEachPublishersOrder(first);
    }

    @Test
    void a_channel_is_never_delivered_to_from_two_threads_at_once() throws Exception {
        // The hub relies on this instead of a lock of its own: the broker is the channel's sequencer.
        Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger deliveries = new AtomicInteger();
        broker.subscribe((channel, message) -> {
            AtomicInteger here = inside.computeIfAbsent(channel, c -> new AtomicInteger());
            if (here.incrementAndGet() > 1) overlaps.incrementAndGet();
            Thread.onSpinWait();
            here.decrementAndGet();
            deliveries.incrementAndGet();
            return 1;
        });

        publishConcurrently(4, 500, publisher -> "c" + (publisher % 2));

        until("every delivery", DEADLINE, () -> deliveries.get() == 2000);
        assertThat(overlaps.get()).isZero();
    }

    @Test
    void channels_are_kept_apart() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(received));

        broker.publish("a", Message.text("1"));
        broker.publish("b", Message.text("2"));

        until("both", DEADLINE, () -> received.size() == 2);
        assertThat(received).containsExactly("a 1", "b 2");
    }

    @Test
    void binary_payloads_arrive_unchanged() {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        broker.subscribe((channel, message) -> {
            byte[] bytes = new byte[message.size()];
            message.payload().get(bytes);
            received.add(bytes);
            return 1;
        });

        broker.publish("c", Message.binary(new byte[]{0, (byte) 0xff, 7}));

        until("the binary message", DEADLINE, () -> received.size() == 1);
        assertThat(received.get(0)).containsExactly(0, 0xff, 7);
    }

    @Test
    void a_subscriber_that_throws_does_not_keep_the_message_from_the_others_nor_fail_the_publish() {
        List<String> before = new CopyOnWriteArrayList<>();
        List<String> after = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(before));
        broker.subscribe((channel, message) -> {
            throw new IllegalStateException("a broken subscriber");
        });
        broker.subscribe(recorder(after));

        broker.publish("c", Message.text("one"));
        broker.publish("c", Message.text("two"));

        until("both messages at both working subscribers", DEADLINE, () -> before.size() == 2 && after.size() == 2);
        assertThat(before).containsExactly("c one", "c two");
        assertThat(after).containsExactly("c one", "c two");
    }

    @Test
    void publish_after_close_is_refused_and_delivers_nothing() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(received));
        broker.publish("c", Message.text("before"));
        until("the message before close", DEADLINE, () -> received.size() == 1);

        broker.close();

        assertThatThrownBy(() -> broker.publish("c", Message.text("after")))
                .isInstanceOf(IllegalStateException.class);
        broker.close();                                              // idempotent
        assertThat(received).containsExactly("c before");
    }

    private void publishConcurrently(int publishers, int each, java.util.function.IntFunction<String> channelOf) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(publishers);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                int publisher = p;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) broker.publish(channelOf.apply(publisher), Message.text("p" + publisher + ":" + i));
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    /** Each publisher's messages (channel p<N>:<seq>) appear in its own publish order. */
    private static void assertEachPublishersOrder(List<String> received) {
        Map<String, Integer> next = new ConcurrentHashMap<>();
        for (String line : received) {
            String[] parts = line.substring(line.indexOf(' ') + 1).split(":");
            int expected = next.getOrDefault(parts[0], 0);
            assertThat(Integer.parseInt(parts[1])).as(line).isEqualTo(expected);
            next.put(parts[0], expected + 1);
        }
    }

    private static Broker.Subscriber recorder(List<String> into) {
        return (channel, message) -> {
            into.add(channel + " " + message.textPayload());
            return 1;
        };
    }
}
