package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * How long a channel's stream lives in Redis: as long as some node is subscribed to it (each node refreshes the
 * meta hash of its channels), and not much longer once none is and it keeps no history. Run with short lives.
 */
@Timeout(60)
class RedisStreamLifeTest {

    private static final Duration KEEP = Duration.ofMillis(600);
    private static final Duration FLOOR = Duration.ofMillis(300);
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

    private RedisBroker broker() {
        return new RedisBroker(redis.uri(), scheduler, KEEP, FLOOR);
    }

    @Test
    void a_subscribed_channel_without_history_keeps_its_epoch_for_many_lives_of_its_meta() {
        try (RedisBroker subscriber = broker(); RedisBroker publisher = broker()) {
            subscriber.subscribe("kept");
            StreamPosition published = publisher.publish("kept", Message.text("x"), PublishOptions.NO_HISTORY).position();

            long start = System.nanoTime();
            until("five lives of the meta hash to pass", DEADLINE, () -> System.nanoTime() - start > KEEP.multipliedBy(5).toNanos());

            assertThat(publisher.history("kept", 0, 10).position()).as("refreshed by the subscribed node").isEqualTo(published);
        }
    }

    @Test
    void once_no_node_is_subscribed_a_channel_without_history_is_forgotten_and_starts_a_new_epoch() {
        try (RedisBroker node = broker()) {
            node.subscribe("gone");
            StreamPosition first = node.publish("gone", Message.text("x"), PublishOptions.NO_HISTORY).position();
            node.unsubscribe("gone");

            until("the channel to be forgotten", DEADLINE, () -> redis.keys("squall:m:gone").isEmpty());
            StreamPosition next = node.publish("gone", Message.text("y"), PublishOptions.NO_HISTORY).position();
            assertThat(next.epoch()).isNotEqualTo(first.epoch());
            assertThat(next.offset()).isEqualTo(1);
        }
    }
}
