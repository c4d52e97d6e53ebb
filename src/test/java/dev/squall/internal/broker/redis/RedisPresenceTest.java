package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
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
        final ConcurrentHashMap<String, Set<String>> people = new ConcurrentHashMap<>();
        final List<String> heard = new CopyOnWriteArrayList<>();

        Node(RedisBroker broker, ScheduledExecutorService scheduler) {
            this.broker = broker;
            this.scheduler = scheduler;
        }

        void count(String channel, int subscribers) {
            local.computeIfAbsent(channel, c -> new AtomicInteger()).set(subscribers);
            broker.counted(channel, "");
        }

        /** One more subscriber, of {@code user}, as the hub would count it. */
        void join(String channel, String user) {
            people.computeIfAbsent(channel, c -> ConcurrentHashMap.newKeySet()).add(user);
            local.computeIfAbsent(channel, c -> new AtomicInteger()).incrementAndGet();
            broker.counted(channel, user);
        }

        /** {@code user}'s one subscriber of {@code channel} has left. */
        void leave(String channel, String user) {
            people.get(channel).remove(user);
            local.get(channel).decrementAndGet();
            broker.counted(channel, user);
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
        public Set<String> users(String channel) {
            Set<String> users = people.get(channel);
            return users == null ? Set.of() : users;
        }

        @Override
        public void presence(String channel, boolean joined, Member who) {
            heard.add((joined ? "join " : "leave ") + who.client() + (who.user().isEmpty() ? "" : " " + who.user())
                    + (who.info() == null ? "" : " " + who.info()));
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

        until("both nodes to count both", DEADLINE, () -> a.broker.presence("room").subscribers() == 5 && b.broker.presence("room").subscribers() == 5);
        a.count("room", 4);
        assertThat(a.broker.presence("room").subscribers()).as("a node's own change counts at once").isEqualTo(7);
        until("the other node to see it", DEADLINE, () -> b.broker.presence("room").subscribers(), 7);

        a.count("room", 0);
        until("a's last leave to reach b", DEADLINE, () -> b.broker.presence("room").subscribers(), 3);
        assertThat(direct.sync().hkeys("squall:c:room")).as("a's field was taken out, not left to expire").hasSize(1);
        b.count("room", 0);
        until("the channel's counts to be gone from Redis", DEADLINE, () -> direct.sync().exists("squall:c:room") == 0);
        assertThat(a.broker.presence("room").subscribers()).isZero();
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
        until("b to count the dying node's subscribers", DEADLINE, () -> b.broker.presence("room").subscribers(), 5);
        long alive = System.nanoTime();
        until("twice a share's life to pass", DEADLINE, () -> System.nanoTime() - alive > 2 * LIFE.toNanos());
        assertThat(b.broker.presence("room").subscribers()).as("a live node keeps its share alive past its life").isEqualTo(5);

        dying.scheduler.shutdownNow();                  // it shares nothing more, and never says goodbye
        long died = System.nanoTime();

        until("the dead node's share to expire", DEADLINE, () -> b.broker.presence("room").subscribers(), 1);
        assertThat(Duration.ofNanos(System.nanoTime() - died)).as("gone within about one life").isLessThan(LIFE.multipliedBy(3));
        assertThat(direct.sync().hkeys("squall:c:room")).as("the read dropped the expired field").hasSize(1);
    }

    @Test
    void a_node_that_closes_takes_its_counts_back_at_once() {
        Node a = node();
        Node b = node();
        a.count("one", 2);
        a.count("two", 1);
        until("b to count a's subscribers", DEADLINE, () -> b.broker.presence("one").subscribers() == 2 && b.broker.presence("two").subscribers() == 1);

        a.broker.close();

        assertThat(b.broker.presence("one").subscribers()).isZero();
        assertThat(b.broker.presence("two").subscribers()).isZero();
    }

    @Test
    void joins_and_leaves_reach_the_other_node_once_in_order_with_publications_and_take_no_offset() {
        Node a = node();
        Node b = node();
        a.broker.subscribe("chat");
        b.broker.subscribe("chat");

        a.broker.announce("chat", true, new Member("alice", "", null));
        a.broker.publish("chat", Message.text("hi"), PublishOptions.NO_HISTORY);
        a.broker.announce("chat", false, new Member("alice", "", null));
        b.broker.announce("chat", true, new Member("bob", "", null));
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
        until("b to count a's subscribers", DEADLINE, () -> b.broker.presence("room").subscribers(), 2);

        redis.kill();
        try {
            assertThatThrownBy(() -> b.broker.presence("room").subscribers()).isInstanceOf(Unavailable.class);
            a.broker.announce("room", true, new Member("lost", "", null));             // neither throws nor waits
        } finally {
            redis.restart();
        }

        // Redis restarted empty: a shares its counts again at its first flush once Redis is back.
        until("b to count a's subscribers again", DEADLINE, () -> {
            try {
                return b.broker.presence("room").subscribers() == 2;
            } catch (Unavailable reconnecting) {
                return false;
            }
        });
    }

    private static int users(Node at, String channel) {
        return at.broker.presence(channel).users();
    }

    @Test
    void users_count_once_over_both_nodes_and_follow_their_joins_and_leaves() {
        Node a = node();
        Node b = node();
        a.join("room", "ada");
        a.join("room", "bob");
        b.join("room", "bob");
        b.join("room", "carol");

        until("both nodes to count ada, bob and carol", DEADLINE, () -> users(a, "room") == 3 && users(b, "room") == 3);
        assertThat(a.broker.presence("room").subscribers()).isEqualTo(4);
        a.join("room", "dan");
        assertThat(users(a, "room")).as("a node's own join counts at once").isEqualTo(4);
        until("the other node to see it", DEADLINE, () -> users(b, "room"), 4);

        a.leave("room", "bob");
        until("a's leave to reach b", DEADLINE, () -> b.broker.presence("room").subscribers(), 4);
        assertThat(users(b, "room")).as("bob is still on b").isEqualTo(4);
        b.leave("room", "bob");
        assertThat(users(b, "room")).isEqualTo(3);
        until("b's leave to reach a", DEADLINE, () -> users(a, "room"), 3);

        for (String user : List.of("ada", "dan")) a.leave("room", user);
        b.leave("room", "carol");
        until("the channel's users to be gone from Redis", DEADLINE, () -> direct.sync().exists("squall:u:room") == 0);
        assertThat(a.broker.presence("room")).isEqualTo(Presence.NONE);
    }

    @Test
    void a_node_of_anonymous_subscribers_keeps_no_users_in_redis() {
        Node a = node();
        Node b = node();
        a.count("room", 3);
        until("b to count a's subscribers", DEADLINE, () -> b.broker.presence("room").subscribers(), 3);
        assertThat(users(b, "room")).isZero();
        assertThat(direct.sync().exists("squall:u:room")).as("no users hash").isZero();
    }

    @Test
    void a_burst_of_joins_of_distinct_users_is_one_write_to_redis_not_one_per_join() {
        Node a = node(new RedisPresence.Timing(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMillis(200)));
        direct.sync().configResetstat();

        for (int joined = 1; joined <= 100; joined++) a.join("room", "user-" + joined);

        // Watched with HLEN, not a presence read, which is an EVALSHA too.
        until("every user in Redis, with a's generation", DEADLINE, () -> direct.sync().hlen("squall:u:room") == 101);
        String stats = direct.sync().info("commandstats");
        java.util.regex.Matcher evalsha = java.util.regex.Pattern.compile("cmdstat_evalsha:calls=(\\d+)").matcher(stats);
        assertThat(evalsha.find()).as(stats).isTrue();
        assertThat(Integer.parseInt(evalsha.group(1))).as("writes for 100 joins (a flush may split the burst)").isLessThanOrEqualTo(2);
        assertThat(direct.sync().hget("squall:c:room", direct.sync().hkeys("squall:c:room").get(0))).startsWith("100:");
    }

    @Test
    void a_channel_with_more_users_than_one_write_carries_is_written_in_several_and_counted_whole() {
        Node a = node();
        Node b = node();
        int many = RedisPresence.CHUNK * 2 + 500;
        for (int i = 0; i < many; i++) a.join("crowd", "user-" + i);

        until("b to count every user of a", DEADLINE, () -> users(b, "crowd"), many);
        b.join("crowd", "user-7");                                     // already on a: no new user
        b.join("crowd", "someone-else");
        assertThat(users(b, "crowd")).isEqualTo(many + 1);
        assertThat(b.broker.presence("crowd").subscribers()).isEqualTo(many + 2);
    }

    @Test
    void a_node_that_stops_sharing_loses_its_users_with_its_count_and_one_that_closes_takes_them_back_at_once() {
        Node dying = node();
        Node closing = node();
        Node b = node();
        dying.join("room", "ada");
        closing.join("room", "bob");
        b.join("room", "carol");
        until("b to count all three", DEADLINE, () -> users(b, "room"), 3);

        dying.scheduler.shutdownNow();
        closing.broker.close();
        assertThat(users(b, "room")).as("the closed node's users went with it").isEqualTo(2);
        until("the dead node's users to expire with its count", DEADLINE, () -> users(b, "room"), 1);
        assertThat(direct.sync().hlen("squall:u:room")).as("the reads dropped the others': b's generation and carol are left")
                .isEqualTo(2);
    }

    @Test
    void a_delta_that_finds_its_share_gone_writes_every_user_again() {
        Node a = node();
        Node b = node();
        a.join("room", "ada");
        a.join("room", "bob");
        until("b to count a's users", DEADLINE, () -> users(b, "room"), 2);

        // As if a's share had lapsed and a read had dropped it: its count and users are gone from Redis.
        direct.sync().del("squall:c:room", "squall:u:room");
        a.join("room", "carol");                                       // a delta, which finds nothing of a's

        until("b to count all of a's users again", DEADLINE, () -> users(b, "room"), 3);
        assertThat(b.broker.presence("room").subscribers()).isEqualTo(3);
    }

    @Test
    void a_user_field_of_an_older_generation_never_counts_and_the_read_drops_it() {
        Node a = node();
        Node b = node();
        a.join("room", "ada");
        until("b to count ada", DEADLINE, () -> users(b, "room"), 1);
        String aNode = direct.sync().hkeys("squall:c:room").get(0);
        // What a could not take out before it wrote everything again under a newer generation.
        direct.sync().hset("squall:u:room", aNode + ":ghost", "0");

        assertThat(users(b, "room")).isEqualTo(1);
        assertThat(direct.sync().hexists("squall:u:room", aNode + ":ghost")).as("dropped by the read").isFalse();
        assertThat(direct.sync().hexists("squall:u:room", aNode + ":ada")).isTrue();
    }

    @Test
    void users_come_back_after_redis_restarted_empty() throws IOException {
        Node a = node(new RedisPresence.Timing(Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMillis(50)));
        Node b = node();
        a.join("room", "ada");
        a.join("room", "bob");
        until("b to count a's users", DEADLINE, () -> users(b, "room"), 2);

        redis.kill();
        redis.restart();

        until("b to count a's users again", DEADLINE, () -> {
            try {
                return users(b, "room") == 2;
            } catch (Unavailable reconnecting) {
                return false;
            }
        });
    }

    @Test
    void a_join_and_a_leave_carry_the_user_and_the_info_to_the_other_node() {
        Node a = node();
        Node b = node();
        a.broker.subscribe("chat");
        b.broker.subscribe("chat");

        a.broker.announce("chat", true, new Member("c-1", "ada", "{\"name\":\"Ada: \\u00e9\"}"));
        a.broker.announce("chat", false, new Member("c-1", "user:with:colons", null));
        a.broker.announce("chat", true, new Member("c-2", "", null));
        a.broker.publish("chat", Message.text("fence"), PublishOptions.NO_HISTORY);

        until("the fence at b", DEADLINE, () -> b.heard.contains("1 fence"));
        assertThat(b.heard).containsExactly("join c-1 ada {\"name\":\"Ada: \\u00e9\"}", "leave c-1 user:with:colons",
                "join c-2", "1 fence");
    }

    @Test
    void an_event_no_squall_node_wrote_is_ignored() throws Exception {
        Node b = node();
        b.broker.subscribe("chat");
        for (String forged : List.of("J:", "J:x", "J:node:1:1", "J:node:5:0:abc", "J:node:a:0:abc", "J:node:0:0:", "L:node:-1:0:x",
                "J:node:1234567890:0:x")) {
            direct.sync().publish("squall:p:chat", forged);
        }
        Node a = node();
        a.broker.subscribe("chat");
        a.broker.announce("chat", true, new Member("real", "ada", null));

        until("the real join at b", DEADLINE, () -> b.heard.contains("join real ada"));
        assertThat(b.heard).containsExactly("join real ada");
    }
}
