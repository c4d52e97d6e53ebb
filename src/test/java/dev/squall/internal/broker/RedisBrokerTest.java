package dev.squall.internal.broker;

import dev.squall.internal.broker.redis.RedisBroker;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The broker contract against a real redis-server of the test's own, and what only a shared, networked broker
 * does: two nodes on one Redis, a Redis that restarts empty.
 */
class RedisBrokerTest extends BrokerContract {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static RedisProcess redis;
    private static ScheduledExecutorService scheduler;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopRedis() {
        scheduler.shutdownNow();
        redis.close();
    }

    @Override
    Broker newBroker() {
        // Each test on an empty Redis: channel names repeat from test to test.
        redis.flushAll();
        return new RedisBroker(redis.uri(), scheduler);
    }

    @Test
    void a_publish_on_one_node_reaches_the_other_in_order_with_offsets_counted_across_nodes() {
        try (Broker a = new RedisBroker(redis.uri(), scheduler); Broker b = new RedisBroker(redis.uri(), scheduler)) {
            List<String> atA = new CopyOnWriteArrayList<>();
            List<String> atB = new CopyOnWriteArrayList<>();
            a.register(recorder(atA));
            b.register(recorder(atB));
            a.subscribe("two-nodes");
            b.subscribe("two-nodes");

            for (int i = 1; i <= 50; i++) (i % 2 == 0 ? a : b).publish("two-nodes", Message.text("m" + i), KEEP_100);

            until("all 50 at both nodes", DEADLINE, () -> atA.size() == 50 && atB.size() == 50);
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 50; i++) expected.add(i + " m" + i);
            assertThat(atA).containsExactlyElementsOf(expected);
            assertThat(atB).isEqualTo(atA);
            assertThat(b.history("two-nodes", 48, 10).publications()).extracting(Publication::offset).containsExactly(49L, 50L);
        }
    }

    @Test
    void a_publish_answers_delivered_not_known_since_delivery_happens_after_it_returns() {
        try (Broker broker = new RedisBroker(redis.uri(), scheduler)) {
            broker.register((channel, publication) -> 1);
            broker.subscribe("c");
            assertThat(broker.publish("c", Message.text("x"), KEEP_100).delivered()).isEqualTo(PublishResult.NOT_KNOWN);
        }
    }

    @Test
    void deliveries_of_each_channel_come_on_one_thread_its_stripe_never_the_event_loop() {
        try (Broker broker = new RedisBroker(redis.uri(), scheduler)) {
            ConcurrentHashMap<String, Set<String>> threads = new ConcurrentHashMap<>();
            AtomicInteger deliveries = new AtomicInteger();
            broker.register((channel, publication) -> {
                threads.computeIfAbsent(channel, c -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread().getName());
                deliveries.incrementAndGet();
                return 1;
            });
            for (int c = 0; c < 4; c++) broker.subscribe("t" + c);
            for (int i = 0; i < 200; i++) broker.publish("t" + (i % 4), Message.text("x"), PublishOptions.NO_HISTORY);

            until("every delivery", DEADLINE, () -> deliveries.get() == 200);
            assertThat(threads).as("what the class comment promises about the stripes").hasSize(4);
            threads.values().forEach(names -> assertThat(names).hasSize(1).allMatch(name -> name.startsWith("squall-redis-sequence-")));
        }
    }

    @Test
    void an_idempotency_key_holds_across_nodes() {
        try (Broker a = new RedisBroker(redis.uri(), scheduler); Broker b = new RedisBroker(redis.uri(), scheduler)) {
            PublishOptions keyed = KEEP_100.withIdempotencyKey("order-7", Duration.ofMinutes(1));
            PublishResult first = a.publish("keyed", Message.text("paid"), keyed);
            PublishResult retry = b.publish("keyed", Message.text("paid"), keyed);

            assertThat(retry.duplicate()).isTrue();
            assertThat(retry.position()).isEqualTo(first.position());
            assertThat(a.history("keyed", 0, 10).publications()).hasSize(1);
        }
    }

    @Test
    void each_publication_expires_on_its_own_not_with_the_newest() {
        try (Broker broker = new RedisBroker(redis.uri(), scheduler)) {
            PublishOptions oneSecond = new PublishOptions(100, Duration.ofMillis(1000), null, Duration.ZERO);
            broker.subscribe("ttl");
            broker.publish("ttl", Message.text("old"), oneSecond);
            long oldAt = System.nanoTime();
            until("half the TTL to pass", DEADLINE, () -> System.nanoTime() - oldAt > Duration.ofMillis(500).toNanos());
            broker.publish("ttl", Message.text("new"), oneSecond);

            until("the old one to expire while the new one stays", DEADLINE, () -> broker.history("ttl", 0, 10).publications().size() == 1);
            History left = broker.history("ttl", 0, 10);
            assertThat(left.publications()).extracting(p -> p.message().textPayload()).containsExactly("new");
            assertThat(left.position().offset()).isEqualTo(2);
        }
    }

    @Test
    void json_text_and_binary_keep_their_kind_through_pub_sub_and_history() {
        try (Broker broker = new RedisBroker(redis.uri(), scheduler)) {
            List<Message> received = new CopyOnWriteArrayList<>();
            broker.register((channel, publication) -> {
                received.add(publication.message());
                return 1;
            });
            broker.subscribe("kinds");
            broker.publish("kinds", Message.json("{\"a\":[1,2]}"), KEEP_100);
            broker.publish("kinds", Message.text("plain: with colons: é"), KEEP_100);
            broker.publish("kinds", Message.binary(new byte[]{':', 0, (byte) 0x80}), KEEP_100);

            until("all three", DEADLINE, () -> received.size() == 3);
            List<Message> kept = new ArrayList<>();
            for (Publication publication : broker.history("kinds", 0, 10).publications()) kept.add(publication.message());
            for (List<Message> messages : List.of(received, kept)) {
                assertThat(messages.get(0).isJson()).isTrue();
                assertThat(messages.get(0).textPayload()).isEqualTo("{\"a\":[1,2]}");
                assertThat(messages.get(1).isJson()).isFalse();
                assertThat(messages.get(1).textPayload()).isEqualTo("plain: with colons: é");
                assertThat(messages.get(2).kind()).isEqualTo(Message.Kind.BINARY);
                byte[] bytes = new byte[messages.get(2).size()];
                messages.get(2).payload().get(bytes);
                assertThat(bytes).containsExactly(':', 0, 0x80);
            }
        }
    }

    @Test
    void after_redis_restarts_empty_the_channel_starts_a_new_epoch_and_the_scripts_are_loaded_again() throws IOException {
        try (Broker broker = new RedisBroker(redis.uri(), scheduler)) {
            List<String> received = new CopyOnWriteArrayList<>();
            broker.register(recorder(received));
            broker.subscribe("lost");
            StreamPosition before = broker.publish("lost", Message.text("before"), KEEP_100).position();
            until("the first publication", DEADLINE, () -> received.size() == 1);

            redis.restart();

            // Lettuce reconnects with backoff and subscribes again; until then publishes fail, none is queued.
            StreamPosition[] after = new StreamPosition[1];
            until("a publish to succeed after the restart", DEADLINE, () -> {
                try {
                    after[0] = broker.publish("lost", Message.text("after"), KEEP_100).position();
                    return true;
                } catch (RuntimeException notYet) {
                    return false;
                }
            });
            assertThat(after[0].epoch()).as("a lost stream has a new epoch").isNotEmpty().isNotEqualTo(before.epoch());
            assertThat(after[0].offset()).isEqualTo(1);
            assertThat(broker.history("lost", 0, 10).publications()).extracting(p -> p.message().textPayload()).containsExactly("after");
            until("deliveries after the restart", DEADLINE, () -> {
                broker.publish("lost", Message.text("probe"), PublishOptions.NO_HISTORY);
                return received.stream().anyMatch(r -> r.endsWith(" probe"));
            });
        }
    }

    private static Broker.Handler recorder(List<String> into) {
        return (channel, publication) -> {
            into.add(publication.offset() + " " + publication.message().textPayload());
            return 1;
        };
    }
}
