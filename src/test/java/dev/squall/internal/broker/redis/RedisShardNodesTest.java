package dev.squall.internal.broker.redis;

import dev.squall.SquallPlugin;
import dev.squall.internal.broker.redis.RedisShards;
import dev.squall.internal.node.NodeSettings;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Two Squall nodes in one JVM on two real redis-servers, channels spread over them: still one system. */
@Timeout(60)
class RedisShardNodesTest {

    private static RedisProcess first;
    private static RedisProcess second;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws IOException {
        first = RedisProcess.start();
        second = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        first.close();
        second.close();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private TestServer node(String redis) {
        TestServer server = TestServer.start(TestServer.config().redis(redis).build());
        open.add(server);
        return server;
    }

    private WsTestClient connect(TestServer server, String pathAndQuery) throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + pathAndQuery));
        open.add(client);
        assertThat(client.takeText()).contains("\"squall\":\"subscribed\"");
        return client;
    }

    /** A channel on each shard, as the nodes place them. */
    private static List<String> oneChannelPerShard() {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (RedisShards shards = new RedisShards(List.of(first.uri(), second.uri()), scheduler)) {
            String[] found = new String[2];
            for (int i = 0; found[0] == null || found[1] == null; i++) {
                if (found[shards.shardOf("room" + i)] == null) found[shards.shardOf("room" + i)] = "room" + i;
            }
            return List.of(found);
        } finally {
            scheduler.shutdownNow();
        }
    }

    @Test
    void a_publish_on_one_node_reaches_subscribers_on_the_other_in_order_for_channels_on_both_shards() throws Exception {
        first.flushAll();
        second.flushAll();
        List<String> channels = oneChannelPerShard();
        TestServer a = node(first.uri() + "," + second.uri());
        TestServer b = node(second.uri() + ", " + first.uri());               // another order: the same placement
        List<WsTestClient> onB = new ArrayList<>();
        for (String channel : channels) onB.add(connect(b, "/ws/" + channel));

        for (int i = 1; i <= 10; i++) {
            for (String channel : channels) {
                assertThat(a.publish(channel, "\"" + channel + "-" + i + "\"").path("offset").asLong()).isEqualTo(i);
            }
        }

        for (int c = 0; c < channels.size(); c++) {
            for (int i = 1; i <= 10; i++) assertThat(onB.get(c).takeText()).isEqualTo(channels.get(c) + "-" + i);
        }
        assertThat(first.keys("squall:s:*")).containsExactly("squall:s:" + channels.get(0));
        assertThat(second.keys("squall:s:*")).containsExactly("squall:s:" + channels.get(1));
    }

    /** The start-up line's part on Redis (RedisNodesTest sees it in a real node's output, for one Redis). */
    @Test
    void the_start_up_line_names_every_redis_without_its_password() {
        assertThat(NodeSettings.describeChannels(NodeSettings.redisUris("redis://:hunter2@10.0.0.5:6379,rediss://app:hunter2@10.0.0.6")))
                .isEqualTo("shared with other nodes through 2 Redis instances, each channel on one of them: "
                        + "redis://:***@10.0.0.5:6379, rediss://app:***@10.0.0.6");
        assertThat(NodeSettings.describeChannels(NodeSettings.redisUris("redis://:hunter2@10.0.0.5:6379")))
                .isEqualTo("shared with other nodes through Redis at redis://:***@10.0.0.5:6379");
        assertThat(NodeSettings.describeChannels(java.util.List.of())).isEqualTo("in this process");
    }

    @Test
    void a_node_with_one_of_its_redis_unreachable_starts_not_ready_and_serves_the_channels_of_the_others() throws Exception {
        int closed;
        try (ServerSocket free = new ServerSocket(0)) {
            closed = free.getLocalPort();
        }
        TestServer server = node(first.uri() + ",redis://:hunter2@127.0.0.1:" + closed);

        assertThat(server.get("/ready").statusCode()).as("not every Redis is reached").isEqualTo(503);
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            statuses.add(server.post("/publish", "application/json",
                    ("{\"channel\":\"c" + i + "\",\"data\":1}").getBytes(java.nio.charset.StandardCharsets.UTF_8)).statusCode());
        }
        assertThat(statuses).as("the reachable Redis's channels publish, the other's are refused as unavailable")
                .contains(200, 503).containsOnly(200, 503);
    }

    @Test
    void the_plugin_takes_several_redis_in_its_one_field_and_refuses_an_empty_entry_naming_it() {
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(
                new SquallPlugin(cfg -> cfg.redis = first.uri() + ",," + second.uri()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.redis has an empty entry 2 of 3 in '" + first.uri() + ",," + second.uri()
                        + "'; separate the URIs with single commas");
    }
}
