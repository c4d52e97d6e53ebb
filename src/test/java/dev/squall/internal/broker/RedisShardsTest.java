package dev.squall.internal.broker;

import dev.squall.internal.broker.redis.RedisShards;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The broker contract against channels spread over two real redis-servers of the test's own, and what only
 * shards do: each channel on one of them, and a dead shard that takes only its own channels down.
 */
class RedisShardsTest extends BrokerContract {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static RedisProcess first;
    private static RedisProcess second;
    private static ScheduledExecutorService scheduler;

    @BeforeAll
    static void startRedis() throws IOException {
        first = RedisProcess.start();
        second = RedisProcess.start();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopRedis() {
        scheduler.shutdownNow();
        first.close();
        second.close();
    }

    @Override
    Broker newBroker() {
        first.flushAll();
        second.flushAll();
        return shards();
    }

    private static RedisShards shards() {
        return new RedisShards(List.of(first.uri(), second.uri()), scheduler);
    }

    /** The first channel named {@code prefix + i} that lives on shard {@code index}. */
    private static String channelOn(RedisShards shards, int index, String prefix) {
        for (int i = 0; ; i++) {
            if (shards.shardOf(prefix + i) == index) return prefix + i;
        }
    }

    @Test
    void each_channel_lives_on_exactly_one_redis_and_both_hold_some() {
        try (RedisShards shards = shards()) {
            first.flushAll();
            second.flushAll();
            Set<String> expectedFirst = new HashSet<>();
            Set<String> expectedSecond = new HashSet<>();
            for (int i = 0; i < 40; i++) {
                String channel = "spread" + i;
                shards.publish(channel, Message.text("x"), KEEP_100);
                (shards.shardOf(channel) == 0 ? expectedFirst : expectedSecond).add("squall:m:" + channel);
            }

            assertThat(new HashSet<>(first.keys("squall:m:*"))).isEqualTo(expectedFirst);
            assertThat(new HashSet<>(second.keys("squall:m:*"))).isEqualTo(expectedSecond);
            assertThat(expectedFirst.size()).as("spread, not all on one").isBetween(10, 30);
            assertThat(first.keys("squall:s:*")).hasSize(expectedFirst.size());
        }
    }

    @Test
    void nodes_that_list_the_shards_in_another_order_still_share_every_channel_in_order() {
        first.flushAll();
        second.flushAll();
        try (RedisShards a = shards(); RedisShards b = new RedisShards(List.of(second.uri(), first.uri()), scheduler)) {
            String onFirst = channelOn(a, 0, "ordered");
            String onSecond = channelOn(a, 1, "ordered");
            List<String> atA = new CopyOnWriteArrayList<>();
            List<String> atB = new CopyOnWriteArrayList<>();
            a.register(recorder(atA));
            b.register(recorder(atB));
            for (String channel : List.of(onFirst, onSecond)) {
                a.subscribe(channel);
                b.subscribe(channel);
            }

            for (int i = 1; i <= 30; i++) {
                (i % 2 == 0 ? a : b).publish(onFirst, Message.text("m" + i), KEEP_100);
                (i % 2 == 0 ? b : a).publish(onSecond, Message.text("m" + i), KEEP_100);
            }

            until("60 at each node", DEADLINE, () -> atA.size() == 60 && atB.size() == 60);
            for (String channel : List.of(onFirst, onSecond)) {
                List<String> expected = new ArrayList<>();
                for (int i = 1; i <= 30; i++) expected.add(channel + " " + i + " m" + i);
                assertThat(atA.stream().filter(r -> r.startsWith(channel + " ")).toList()).containsExactlyElementsOf(expected);
                assertThat(atB.stream().filter(r -> r.startsWith(channel + " ")).toList()).containsExactlyElementsOf(expected);
            }
            assertThat(first.keys("squall:m:*")).containsExactly("squall:m:" + onFirst);
            assertThat(second.keys("squall:m:*")).containsExactly("squall:m:" + onSecond);
        }
    }

    @Test
    void a_dead_shard_makes_only_its_own_channels_unavailable_and_they_come_back_with_it() throws IOException {
        first.flushAll();
        second.flushAll();
        try (RedisShards shards = shards()) {
            String alive = channelOn(shards, 0, "alive");
            String dead = channelOn(shards, 1, "dead");
            List<String> received = new CopyOnWriteArrayList<>();
            shards.register(recorder(received));
            shards.subscribe(alive);
            shards.subscribe(dead);

            second.kill();
            try {
                until("the dead shard's channel to be refused", DEADLINE, () -> refused(() -> shards.publish(dead, Message.text("lost"), KEEP_100)));
                assertThatThrownBy(() -> shards.history(dead, 0, 10)).isInstanceOf(Unavailable.class);
                assertThatThrownBy(() -> shards.latest(dead, 10)).isInstanceOf(Unavailable.class);

                PublishResult published = shards.publish(alive, Message.text("still here"), KEEP_100);
                assertThat(published.position().offset()).isEqualTo(1);
                until("the other shard's channel to deliver", DEADLINE, () -> received.contains(alive + " 1 still here"));
                assertThat(shards.history(alive, 0, 10).publications()).hasSize(1);
            } finally {
                second.restart();
            }
            until("the restarted shard to take publishes again", DEADLINE, () -> !refused(() -> shards.publish(dead, Message.text("back"), KEEP_100)));
            assertThat(received).as("nothing refused was delivered").noneMatch(r -> r.endsWith(" lost"));
        }
    }

    private static boolean refused(Runnable publish) {
        try {
            publish.run();
            return false;
        } catch (Unavailable e) {
            return true;
        }
    }

    private static Broker.Handler recorder(List<String> into) {
        return (channel, publication) -> {
            into.add(channel + " " + publication.offset() + " " + publication.message().textPayload());
            return 1;
        };
    }
}
