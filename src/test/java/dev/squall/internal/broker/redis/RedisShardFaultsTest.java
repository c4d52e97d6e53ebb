package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.redis.RedisShards;
import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node over two Redis shards with one of them down: the README says that Redis "takes only its own channels with
 * it", so a new subscriber of a channel on the other shard is served as usual.
 */
@Timeout(60)
class RedisShardFaultsTest {

    private static final Duration BACK = Duration.ofSeconds(20);

    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisProcess down;
    private RedisProcess up;
    private TestServer node;

    @BeforeEach
    void start() throws Exception {
        down = RedisProcess.start();
        open.add(down);
        up = RedisProcess.start();
        open.add(up);
        node = TestServer.start(TestServer.config().redis(down.uri() + "," + up.uri()).build());
        open.add(node);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    /** A channel that the node places on the Redis that stays up (index 1 in its list). */
    private String channelOnTheShardThatStaysUp() {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (RedisShards shards = new RedisShards(List.of(down.uri(), up.uri()), scheduler)) {
            for (int i = 0; ; i++) if (shards.shardOf("room" + i) == 1) return "room" + i;
        } finally {
            scheduler.shutdownNow();
        }
    }

    /** A channel on each shard (down's, then up's) that shared one of the 64 broker-subscription locks the hub striped. */
    private List<String> twoChannelsSharingALock() {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (RedisShards shards = new RedisShards(List.of(down.uri(), up.uri()), scheduler)) {
            String[] byLockOnDown = new String[64];
            for (int i = 0; ; i++) {
                String channel = "room" + i;
                int hash = channel.hashCode();
                int lock = (hash ^ (hash >>> 16)) & 63;
                if (shards.shardOf(channel) == 0) {
                    if (byLockOnDown[lock] == null) byLockOnDown[lock] = channel;
                } else if (byLockOnDown[lock] != null) {
                    return List.of(byLockOnDown[lock], channel);
                }
            }
        } finally {
            scheduler.shutdownNow();
        }
    }

    private void killTheOtherShard() {
        down.kill();
        Await.until("the node sees one shard lost", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
    }

    @Test
    void a_new_websocket_on_a_channel_of_the_shard_that_is_up_is_served_while_the_other_shard_is_down() throws Exception {
        String channel = channelOnTheShardThatStaysUp();
        killTheOtherShard();
        assertThat(node.publish(channel, "\"fine\"").path("offset").asLong())
                .as("publishing on that channel works, as the README says").isEqualTo(1);

        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/" + channel));
        open.add(client);
        assertThat(client.takeText()).contains("\"squall\":\"subscribed\"");
    }

    @Test
    void a_slow_shard_does_not_delay_a_subscribe_to_a_channel_of_the_other_shard() throws Exception {
        List<String> channels = twoChannelsSharingALock();
        WsTestClient leaving = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/" + channels.get(0)));
        open.add(leaving);
        assertThat(leaving.takeText()).contains("\"squall\":\"subscribed\"");

        down.freeze(Duration.ofSeconds(6));
        leaving.close();                    // its channel empties: the node unsubscribes it from the frozen Redis
        Await.until("the channel to empty", BACK, () -> node.hub().subscribers(channels.get(0)) == 0);
        long start = System.nanoTime();
        WsTestClient joining = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/" + channels.get(1)));
        open.add(joining);
        assertThat(joining.takeText()).contains("\"squall\":\"subscribed\"");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("subscribed on the Redis that answers")
                .isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void a_new_sse_stream_on_a_channel_of_the_shard_that_is_up_is_served_while_the_other_shard_is_down() throws Exception {
        String channel = channelOnTheShardThatStaysUp();
        killTheOtherShard();

        SseTestClient stream = SseTestClient.connect(URI.create("http://localhost:" + node.port() + "/sse/" + channel));
        open.add(stream);
        assertThat(stream.status()).isEqualTo(200);
        assertThat(stream.take(Duration.ofSeconds(10)).event()).isEqualTo("subscribed");
    }
}
