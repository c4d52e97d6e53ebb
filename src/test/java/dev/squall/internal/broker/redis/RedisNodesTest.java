package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.SquallPlugin;
import dev.squall.server.SquallConfig;
import dev.squall.support.Await;
import dev.squall.support.ContinuousPublisher;
import dev.squall.support.RedisProcess;
import dev.squall.support.ServerProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Two Squall nodes in one JVM on one real redis-server: they act as one, as issue 10 asks. */
@Timeout(60)
class RedisNodesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static RedisProcess redis;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private TestServer node() {
        return node(TestServer.config());
    }

    private TestServer node(SquallConfig.Builder config) {
        TestServer server = TestServer.start(config.redis(redis.uri()).build());
        open.add(server);
        return server;
    }

    private WsTestClient connect(TestServer server, String pathAndQuery) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + pathAndQuery));
        open.add(client);
        return client;
    }

    private static JsonNode notice(WsTestClient client) throws Exception {
        JsonNode notice = JSON.readTree(client.takeText());
        assertThat(notice.path("squall").asText()).isEqualTo("subscribed");
        return notice;
    }

    @Test
    void a_publish_on_one_node_reaches_clients_on_both_in_order_with_offsets_counted_across_nodes() throws Exception {
        redis.flushAll();
        TestServer a = node();
        TestServer b = node();
        WsTestClient onA = connect(a, "/ws/news");
        WsTestClient onB = connect(b, "/ws/news");
        JsonNode startA = notice(onA);
        JsonNode startB = notice(onB);
        assertThat(startB.path("epoch").asText()).as("one stream for both nodes").isEqualTo(startA.path("epoch").asText());

        for (int i = 1; i <= 20; i++) {
            JsonNode published = (i % 2 == 0 ? a : b).publish("news", "\"m" + i + "\"");
            assertThat(published.path("offset").asLong()).isEqualTo(i);
            assertThat(published.path("delivered").asInt()).as("not known on Redis").isEqualTo(-1);
        }

        for (int i = 1; i <= 20; i++) {
            assertThat(onA.takeText()).isEqualTo("m" + i);
            assertThat(onB.takeText()).isEqualTo("m" + i);
        }
        assertThat(JSON.readTree(b.get("/receive?msg=everyone").body()).path("delivered").asInt()).isEqualTo(-1);
    }

    @Test
    void a_client_that_reconnects_to_the_other_node_recovers_what_was_published_meanwhile() throws Exception {
        redis.flushAll();
        TestServer a = node();
        TestServer b = node();
        WsTestClient first = connect(a, "/ws/feed");
        String epoch = notice(first).path("epoch").asText();
        a.publish("feed", "\"one\"");
        assertThat(first.takeText()).isEqualTo("one");
        first.close();

        a.publish("feed", "\"two\"");
        b.publish("feed", "\"three\"");

        WsTestClient again = connect(b, "/ws/feed?since=1&epoch=" + epoch);
        JsonNode resumed = notice(again);
        assertThat(resumed.path("recovered").asBoolean()).isTrue();
        assertThat(again.takeText()).isEqualTo("two");
        assertThat(again.takeText()).isEqualTo("three");
        a.publish("feed", "\"four\"");
        assertThat(again.takeText()).as("then live, from the other node").isEqualTo("four");
        assertThat(JSON.readTree(a.get("/channels/feed/history").body()).toString()).contains("\"offset\":4");
    }

    @Test
    void with_three_nodes_a_publish_on_one_reaches_plain_and_v1_clients_on_the_other_two_in_order_exactly_once() throws Exception {
        redis.flushAll();
        TestServer a = node();
        TestServer b = node();
        TestServer c = node();
        WsTestClient onB = connect(b, "/ws/scores");
        WsTestClient onC = connect(c, "/ws/scores");
        notice(onB);
        notice(onC);
        WsTestClient v1OnC = WsTestClient.connect(URI.create("ws://localhost:" + c.port() + "/ws"), java.util.Map.of(), List.of("squall.v1"));
        open.add(v1OnC);
        v1OnC.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"scores\"}");
        assertThat(JSON.readTree(v1OnC.takeText()).path("type").asText()).isEqualTo("subscribed");

        for (int i = 1; i <= 50; i++) a.publish("scores", "\"m" + i + "\"");
        a.publish("scores", "\"end\"");

        for (WsTestClient plain : List.of(onB, onC)) {
            List<String> got = new ArrayList<>();
            for (String text = plain.takeText(); !text.equals("end"); text = plain.takeText()) got.add(text);
            assertThat(got).as("each once, in order, and nothing else before the end").containsExactlyElementsOf(numbered(50));
        }
        List<String> v1Got = new ArrayList<>();
        for (JsonNode frame = JSON.readTree(v1OnC.takeText()); !frame.path("data").asText().equals("end"); frame = JSON.readTree(v1OnC.takeText())) {
            assertThat(frame.path("offset").asLong()).as("global offsets").isEqualTo(v1Got.size() + 1);
            v1Got.add(frame.path("data").asText());
        }
        assertThat(v1Got).containsExactlyElementsOf(numbered(50));
    }

    private static List<String> numbered(int count) {
        List<String> texts = new ArrayList<>();
        for (int i = 1; i <= count; i++) texts.add("m" + i);
        return texts;
    }

    @Test
    void the_recovery_property_holds_while_the_client_moves_to_another_node_at_every_reconnect() throws Exception {
        redis.flushAll();
        List<TestServer> nodes = List.of(
                node(TestServer.config().historySize(100_000).maxRecovery(100_000)),
                node(TestServer.config().historySize(100_000).maxRecovery(100_000)),
                node(TestServer.config().historySize(100_000).maxRecovery(100_000)));
        WsTestClient client = connect(nodes.get(1), "/ws/load");
        JsonNode start = notice(client);
        long startedAfter = start.path("offset").asLong();
        String epoch = start.path("epoch").asText();
        List<String> received = new ArrayList<>();
        long offset = startedAfter;
        try (ContinuousPublisher publisher = ContinuousPublisher.start(nodes.get(0), "load")) {
            for (int reconnect = 0; reconnect < 30; reconnect++) {
                int take = java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 20);
                for (int i = 0; i < take; i++) {
                    received.add(client.takeText());
                    offset++;
                }
                client.close();                                         // the network blips; the balancer picks another node
                client = connect(nodes.get(reconnect % 3), "/ws/load?since=" + offset + "&epoch=" + epoch);
                JsonNode resumed = notice(client);
                assertThat(resumed.path("recovered").asBoolean()).as("reconnect " + reconnect).isTrue();
                assertThat(resumed.path("offset").asLong()).isEqualTo(offset);
            }
            long last = publisher.stop();
            while (offset < last) {
                received.add(client.takeText());
                offset++;
            }
            List<String> expected = publisher.publishedAfter(startedAfter);
            assertThat(received).as("exactly what was published, in order, across nodes").containsExactlyElementsOf(expected);
            assertThat(expected).hasSizeGreaterThan(30);
        }
    }

    /** What the publish script does for a text message, minus its PUBLISH: a pub/sub message lost on the way. */
    private static void publishSilently(String channel, String text) {
        try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
             var connection = client.connect()) {
            long offset = connection.sync().hincrby("squall:m:" + channel, "o", 1);
            connection.sync().xadd("squall:s:" + channel, new io.lettuce.core.XAddArgs().id(offset + "-1").maxlen(100),
                    "x", Long.toString(System.currentTimeMillis() + 300_000), "k", "t", "d", text);
        }
    }

    @Test
    void a_message_lost_between_redis_and_the_node_reaches_the_client_from_the_stream_in_order_once() throws Exception {
        redis.flushAll();
        TestServer a = node();
        WsTestClient client = connect(a, "/ws/gap");
        notice(client);
        a.publish("gap", "\"one\"");
        publishSilently("gap", "two");
        a.publish("gap", "\"three\"");

        assertThat(client.takeText()).isEqualTo("one");
        assertThat(client.takeText()).isEqualTo("two");
        assertThat(client.takeText()).isEqualTo("three");
        a.publish("gap", "\"four\"");
        assertThat(client.takeText()).as("once: no second copy of anything before it").isEqualTo("four");
    }

    @Test
    void a_gap_the_stream_no_longer_holds_tells_the_client_it_is_not_recovered_then_it_goes_on_live() throws Exception {
        redis.flushAll();
        TestServer a = node();
        WsTestClient client = connect(a, "/ws/lost");
        String epoch = notice(client).path("epoch").asText();
        a.publish("lost", "\"one\"");
        assertThat(client.takeText()).isEqualTo("one");
        try (io.lettuce.core.RedisClient redisClient = io.lettuce.core.RedisClient.create(redis.uri());
             var connection = redisClient.connect()) {
            connection.sync().hincrby("squall:m:lost", "o", 1);   // offset 2: numbered, neither kept nor sent
        }
        a.publish("lost", "\"three\"");

        JsonNode reset = notice(client);
        assertThat(reset.path("recovered").asBoolean(true)).isFalse();
        assertThat(reset.path("offset").asLong()).isEqualTo(2);
        assertThat(reset.path("epoch").asText()).isEqualTo(epoch);
        assertThat(client.takeText()).isEqualTo("three");
    }

    @Test
    void a_squall_v1_client_is_sent_a_reset_event_when_its_node_lost_what_the_stream_no_longer_holds() throws Exception {
        redis.flushAll();
        TestServer a = node();
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + a.port() + "/ws"), java.util.Map.of(), List.of("squall.v1"));
        open.add(client);
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"v1lost\"}");
        String epoch = JSON.readTree(client.takeText()).path("epoch").asText();
        try (io.lettuce.core.RedisClient redisClient = io.lettuce.core.RedisClient.create(redis.uri());
             var connection = redisClient.connect()) {
            connection.sync().hincrby("squall:m:v1lost", "o", 1);
        }
        a.publish("v1lost", "\"two\"");

        assertThat(JSON.readTree(client.takeText()).toString())
                .isEqualTo("{\"type\":\"reset\",\"channel\":\"v1lost\",\"offset\":1,\"epoch\":\"" + epoch + "\",\"recovered\":false}");
        assertThat(JSON.readTree(client.takeText()).path("offset").asLong()).isEqualTo(2);
    }

    @Test
    void the_start_up_line_says_the_channels_are_shared_through_redis(@TempDir Path workingDir) throws Exception {
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "redis-nodes-startup.log"),
                List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info"), "--port", "0", "--host", "127.0.0.1", "--redis", redis.uri())) {
            Await.until("the start-up line", Duration.ofSeconds(30), () -> server.output().contains("Squall listening on"));
            assertThat(server.output()).contains("channels: shared with other nodes through Redis at " + redis.uri() + ";");
        }
    }

    @Test
    void a_password_in_the_redis_uri_is_never_shown() {
        assertThat(RedisBrokers.shown("redis://:hunter2@10.0.0.5:6379/0")).isEqualTo("redis://:***@10.0.0.5:6379/0");
        assertThat(RedisBrokers.shown("rediss://app:hunter2@cache.example:6380")).isEqualTo("rediss://app:***@cache.example:6380");
        assertThat(RedisBrokers.shown("redis://10.0.0.5:6379")).isEqualTo("redis://10.0.0.5:6379");
    }

    @Test
    void a_bad_redis_uri_in_the_plugin_config_is_refused_naming_the_field() {
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.redis = "localhost:6379"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.redis must be a redis:// or rediss:// URI (such as redis://127.0.0.1:6379), got 'localhost:6379'");
    }
}
