package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.Unavailable;
import dev.squall.support.RedisProcess;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Presence across two nodes on one real redis-server: counts that sum over the nodes and follow their changes, a
 * node that stops sharing dropping out once its share expires (lives shortened from 25 s / 60 s), and join and
 * leave events that reach the other node once, in order with the channel's publications.
 */
@Timeout(60)
class RedisPresenceTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final Duration LIFE = Duration.ofMillis(1500);
    private static final RedisPresence.Timing SHORT = new RedisPresence.Timing(Duration.ofMillis(300), LIFE, Duration.ofMillis(50));
    private static RedisProcess redis;

    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisClient client;
    private StatefulRedisConnection<String, String> direct;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void empty() {
        redis.flushAll();
        client = RedisClient.create(redis.uri());
        direct = client.connect();
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
        direct.close();
        client.shutdown();
    }

    /** A broker on its own scheduler, so a test can stop the one of a node that "dies". */
    private Node node() {
        return node(SHORT);
    }

    private Node node(RedisPresence.Timing timing) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        RedisBroker broker = new RedisBroker(redis.uri(), scheduler, timing);
        Node node = new Node(broker, scheduler);
        broker.register(node);
        open.add(node);
        return node;
    }

    /** A node's broker and a hub's worth of it: local counts per channel, and what it was delivered. */
    private static final class Node implements Broker.Handler, AutoCloseable {
        final RedisBroker broker;
        final ScheduledExecutorService scheduler;
        final ConcurrentHashMap<String, AtomicInteger> local = new ConcurrentHashMap<>();
        final List<String> heard = new CopyOnWriteArrayList<>();

        Node(RedisBroker broker, ScheduledExecutorService scheduler) {
            this.broker = broker;
            this.scheduler = scheduler;
        }

        void count(String channel, int subscribers) {
            local.computeIfAbsent(channel, c -> new AtomicInteger()).set(subscribers);
            broker.counted(channel);
        }

        @Override
        public int deliver(String channel, Publication publication) {
            heard.add(publication.offset() + " " + publication.message().textPayload());
            return 1;
        }

        @Override
        public int subscribers(String channel) {
            AtomicInteger count = local.get(channel);
            return count == null ? 0 : count.get();
        }

        @Override
        public void presence(String channel, boolean joined, String client) {
            heard.add((joined ? "join " : "leave ") + client);
        }

        @Override
        public void close() {
            broker.close();
            scheduler.shutdownNow();
        }
    }

    @Test
    void counts_sum_over_both_nodes_and_follow_their_joins_and_leaves() {
        Node a = node();
        Node b = node();
        a.count("room", 2);
        b.count("room", 3);

        until("both nodes to count both", DEADLINE, () -> a.broker.subscribers("room") == 5 && b.broker.subscribers("room") == 5);
        a.count("room", 4);
        assertThat(a.broker.subscribers("room")).as("a node's own change counts at once").isEqualTo(7);
        until("the other node to see it", DEADLINE, () -> b.broker.subscribers("room"), 7);

        a.count("room", 0);
        until("a's last leave to reach b", DEADLINE, () -> b.broker.subscribers("room"), 3);
        assertThat(direct.sync().hkeys("squall:c:room")).as("a's field was taken out, not left to expire").hasSize(1);
        b.count("room", 0);
        until("the channel's counts to be gone from Redis", DEADLINE, () -> direct.sync().exists("squall:c:room") == 0);
        assertThat(a.broker.subscribers("room")).isZero();
    }

    @Test
    void a_burst_of_joins_is_one_write_to_redis_not_one_per_join() {
        Node a = node(new RedisPresence.Timing(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMillis(200)));
        direct.sync().configResetstat();

        for (int joined = 1; joined <= 100; joined++) a.count("room", joined);

        until("the last count in Redis", DEADLINE, () -> {
            String value = direct.sync().hvals("squall:c:room").stream().findFirst().orElse("");
            return value.startsWith("100:");
        });
        String stats = direct.sync().info("commandstats");
        java.util.regex.Matcher evalsha = java.util.regex.Pattern.compile("cmdstat_evalsha:calls=(\\d+)").matcher(stats);
        assertThat(evalsha.find()).as(stats).isTrue();
        assertThat(Integer.parseInt(evalsha.group(1))).as("writes for 100 joins (a flush may split the burst)").isLessThanOrEqualTo(2);
    }

    @Test
    void a_node_that_stops_sharing_without_taking_its_count_back_drops_out_once_its_share_expires() {
        Node dying = node();
        Node b = node();
        dying.count("room", 4);
        b.count("room", 1);
        until("b to count the dying node's subscribers", DEADLINE, () -> b.broker.subscribers("room"), 5);
        long alive = System.nanoTime();
        until("twice a share's life to pass", DEADLINE, () -> System.nanoTime() - alive > 2 * LIFE.toNanos());
        assertThat(b.broker.subscribers("room")).as("a live node keeps its share alive past its life").isEqualTo(5);

        dying.scheduler.shutdownNow();                  // it shares nothing more, and never says goodbye
        long died = System.nanoTime();

        until("the dead node's share to expire", DEADLINE, () -> b.broker.subscribers("room"), 1);
        assertThat(Duration.ofNanos(System.nanoTime() - died)).as("gone within about one life").isLessThan(LIFE.multipliedBy(3));
        assertThat(direct.sync().hkeys("squall:c:room")).as("the read dropped the expired field").hasSize(1);
    }

    @Test
    void a_node_that_closes_takes_its_counts_back_at_once() {
        Node a = node();
        Node b = node();
        a.count("one", 2);
        a.count("two", 1);
        until("b to count a's subscribers", DEADLINE, () -> b.broker.subscribers("one") == 2 && b.broker.subscribers("two") == 1);

        a.broker.close();

        assertThat(b.broker.subscribers("one")).isZero();
        assertThat(b.broker.subscribers("two")).isZero();
    }

    @Test
    void joins_and_leaves_reach_the_other_node_once_in_order_with_publications_and_take_no_offset() {
        Node a = node();
        Node b = node();
        a.broker.subscribe("chat");
        b.broker.subscribe("chat");

        a.broker.announce("chat", true, "alice");
        a.broker.publish("chat", Message.text("hi"), PublishOptions.NO_HISTORY);
        a.broker.announce("chat", false, "alice");
        b.broker.announce("chat", true, "bob");
        a.broker.publish("chat", Message.text("fence"), PublishOptions.NO_HISTORY);
        until("b's join at a", DEADLINE, () -> a.heard.contains("join bob"));
        b.broker.publish("chat", Message.text("last"), PublishOptions.NO_HISTORY);

        until("the last publication at both", DEADLINE, () -> a.heard.contains("3 last") && b.heard.contains("3 last"));
        assertThat(b.heard).as("a's events in a's order, between its publications, offsets untouched")
                .containsExactly("join alice", "1 hi", "leave alice", "2 fence", "3 last");
        // b's join and a's fence went over two connections: Redis may have taken either first.
        assertThat(a.heard).as("never its own events; b's once").containsExactlyInAnyOrder("1 hi", "2 fence", "join bob", "3 last");
        assertThat(a.heard.get(3)).as("b's join before b's later publication").isEqualTo("3 last");
    }

    @Test
    void while_redis_is_away_a_count_read_throws_unavailable_an_event_is_lost_quietly_and_counts_come_back_at_the_next_flush() throws IOException {
        // Shared again only every minute: what brings the count back after the restart is the flush that notices it.
        Node a = node(new RedisPresence.Timing(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMillis(50)));
        Node b = node();
        a.count("room", 2);
        until("b to count a's subscribers", DEADLINE, () -> b.broker.subscribers("room"), 2);

        redis.kill();
        try {
            assertThatThrownBy(() -> b.broker.subscribers("room")).isInstanceOf(Unavailable.class);
            a.broker.announce("room", true, "lost");             // neither throws nor waits
        } finally {
            redis.restart();
        }

        // Redis restarted empty: a shares its counts again at its first flush once Redis is back.
        until("b to count a's subscribers again", DEADLINE, () -> {
            try {
                return b.broker.subscribers("room") == 2;
            } catch (Unavailable reconnecting) {
                return false;
            }
        });
    }
}
