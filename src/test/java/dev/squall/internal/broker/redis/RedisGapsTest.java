package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.support.RedisProcess;
import io.lettuce.core.RedisClient;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Gaps between Redis and one node, injected by writing to the channel's meta hash and stream as the publish
 * script does but without its PUBLISH (a lost pub/sub message): the node fills them from the stream, in order and
 * once, or tells its handlers {@code reset} when the stream no longer has them or the epoch changed.
 */
@Timeout(60)
class RedisGapsTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final PublishOptions KEEP_100 = new PublishOptions(100, Duration.ofMinutes(5), null, Duration.ZERO);
    private static RedisProcess redis;
    private static ScheduledExecutorService scheduler;
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    private final List<String> seen = new CopyOnWriteArrayList<>();
    private Broker broker;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        scheduler = Executors.newSingleThreadScheduledExecutor();
        client = RedisClient.create(redis.uri());
        connection = client.connect();
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        client.shutdown();
        scheduler.shutdownNow();
        redis.close();
    }

    @BeforeEach
    void node() {
        redis.flushAll();
        // Checks every 200 ms: an idle gap is filled within two checks.
        broker = new RedisBroker(redis.uri(), scheduler, RedisBroker.KEEP, RedisBroker.META_FLOOR, Duration.ofMillis(200));
        broker.register(new Broker.Handler() {
            @Override
            public int deliver(String channel, Publication publication) {
                seen.add(publication.offset() + " " + publication.message().textPayload());
                return 1;
            }

            @Override
            public void reset(String channel, StreamPosition position) {
                seen.add("reset after " + position.offset() + " " + position.epoch());
            }
        });
        broker.subscribe("g");
    }

    @AfterEach
    void close() {
        broker.close();
    }

    private static RedisCommands<String, String> redisCommands() {
        return connection.sync();
    }

    /** What publish.lua does for a text message, without the PUBLISH: numbered and kept, never sent. */
    private static long publishSilently(String channel, String text) {
        long offset = redisCommands().hincrby("squall:m:" + channel, "o", 1);
        redisCommands().xadd("squall:s:" + channel, new XAddArgs().id(offset + "-1").maxlen(100),
                "x", Long.toString(System.currentTimeMillis() + 300_000), "k", "t", "d", text);
        return offset;
    }

    private static String epoch(String channel) {
        return redisCommands().hget("squall:m:" + channel, "e");
    }

    /** A meta hash as the scripts write one for a new epoch: the epoch, and the Redis process that wrote it. */
    private static void newEpoch(String channel, String epoch) {
        redisCommands().hset("squall:m:" + channel, Map.of("e", epoch, "r", RedisBroker.runId(redisCommands().info("server"))));
    }

    @Test
    void a_lost_message_is_filled_from_the_stream_before_the_next_one_in_order_and_once() {
        broker.publish("g", Message.text("one"), KEEP_100);
        assertThat(publishSilently("g", "two")).isEqualTo(2);
        broker.publish("g", Message.text("three"), KEEP_100);

        until("three delivered", DEADLINE, () -> seen.contains("3 three"));
        assertThat(seen).containsExactly("1 one", "2 two", "3 three");
    }

    @Test
    void a_message_sent_twice_is_delivered_once() {
        broker.publish("g", Message.text("one"), KEEP_100);
        redisCommands().publish("squall:p:g", "t:1:" + epoch("g") + ":one");
        broker.publish("g", Message.text("two"), KEEP_100);

        until("two delivered", DEADLINE, () -> seen.contains("2 two"));
        assertThat(seen).containsExactly("1 one", "2 two");
    }

    @Test
    void an_idle_channels_lost_message_is_found_by_the_periodic_check() {
        broker.publish("g", Message.text("one"), KEEP_100);
        publishSilently("g", "two");

        until("two filled with nothing published after it", DEADLINE, () -> seen.contains("2 two"));
        assertThat(seen).containsExactly("1 one", "2 two");
    }

    @Test
    void a_gap_the_stream_no_longer_holds_resets_then_delivery_goes_on() {
        broker.publish("g", Message.text("one"), KEEP_100);
        redisCommands().hincrby("squall:m:g", "o", 1);      // offset 2 numbered, neither kept nor sent
        broker.publish("g", Message.text("three"), KEEP_100);

        until("three delivered", DEADLINE, () -> seen.contains("3 three"));
        assertThat(seen).containsExactly("1 one", "reset after 2 " + epoch("g"), "3 three");
    }

    @Test
    void a_new_epoch_resets_then_delivery_goes_on_from_it() {
        broker.publish("g", Message.text("one"), KEEP_100);
        // Redis lost the stream: a new meta hash, a new epoch, offsets from 1 again.
        redisCommands().del("squall:m:g", "squall:s:g");
        newEpoch("g", "00000000000000aa");
        broker.publish("g", Message.text("new one"), KEEP_100);

        until("the new epoch's first delivered", DEADLINE, () -> seen.contains("1 new one"));
        assertThat(seen).containsExactly("1 one", "reset after 0 00000000000000aa", "1 new one");
    }

    @Test
    void a_position_behind_what_was_delivered_in_the_same_epoch_moves_the_channel_to_a_new_epoch_and_resets() {
        for (int i = 1; i <= 3; i++) broker.publish("g", Message.text("m" + i), KEEP_100);
        until("all three", DEADLINE, () -> seen.size() == 3);
        String before = epoch("g");
        // What a Redis that lost writes shows without a new run id: the same epoch, an offset behind.
        redisCommands().hset("squall:m:g", "o", "1");

        until("reset", DEADLINE, () -> seen.size() == 4);
        String after = epoch("g");
        assertThat(after).isNotEqualTo(before);
        assertThat(seen).containsExactly("1 m1", "2 m2", "3 m3", "reset after 0 " + after);
        broker.publish("g", Message.text("next"), KEEP_100);
        until("live on the new epoch", DEADLINE, () -> seen.contains("1 next"));
    }

    @Test
    void an_idle_channel_whose_epoch_changed_is_reset_by_the_periodic_check() {
        broker.publish("g", Message.text("one"), KEEP_100);
        redisCommands().del("squall:m:g", "squall:s:g");
        newEpoch("g", "00000000000000bb");

        until("reset", DEADLINE, () -> seen.size() == 2);
        assertThat(seen).containsExactly("1 one", "reset after 0 00000000000000bb");
        broker.publish("g", Message.text("two"), KEEP_100);
        until("live again", DEADLINE, () -> seen.contains("1 two"));
        assertThat(seen).containsExactly("1 one", "reset after 0 00000000000000bb", "1 two");
    }
}
