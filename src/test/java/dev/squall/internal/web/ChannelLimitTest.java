package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.ServerSubscription;
import dev.squall.server.SquallConfig;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.RedisProcess;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18, {@code --max-channels}: past the node's limit a subscribe that would start a channel is refused in each
 * protocol's way ({@code squall.v1}: {@code channel_limit}; {@code /ws/{channel}}: 503 with {@code Retry-After} before
 * the handshake; SSE: a stream that ends at once with its retry hint, since an EventSource gives up for good on a 503),
 * channels that have subscribers keep taking more, and a channel frees its place the moment it empties, in memory and
 * on Redis.
 */
@Timeout(60)
class ChannelLimitTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private TestServer start(SquallConfig.Builder config) {
        server = TestServer.start(config.maxChannels(3).build());
        open.add(server);
        return server;
    }

    private WsTestClient v1() {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(client);
        return client;
    }

    private static JsonNode call(WsTestClient client, String command) throws Exception {
        client.send(command);
        return JSON.readTree(client.takeText());
    }

    private static JsonNode subscribe(WsTestClient client, int id, String channel) throws Exception {
        return call(client, "{\"id\":" + id + ",\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
    }

    private double refused() {
        return server.metric("squall_limited_total{limit=\"channels\"}");
    }

    @Test
    void past_the_limit_new_channels_are_refused_in_every_protocol_and_existing_ones_take_more() throws Exception {
        start(TestServer.config());
        WsTestClient alice = v1();
        for (String channel : new String[]{"a", "b", "c"}) assertThat(subscribe(alice, 1, channel).path("type").asText()).isEqualTo("subscribed");
        assertThat(server.metric("squall_channels")).isEqualTo(3.0);

        JsonNode refusal = subscribe(alice, 2, "d");
        assertThat(refusal.path("type").asText()).isEqualTo("error");
        assertThat(refusal.path("id").asInt()).isEqualTo(2);
        assertThat(refusal.path("code").asText()).isEqualTo("channel_limit");
        assertThat(refusal.path("message").asText()).contains("--max-channels", "3");
        assertThat(subscribe(alice, 3, "d").path("code").asText()).as("refused, not half kept").isEqualTo("channel_limit");

        RawHttp plain = RawHttp.get(server.port(), "/ws/d", Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13"));
        assertThat(plain.status()).isEqualTo(503);
        assertThat(plain.header("Retry-After")).isEqualTo("5");
        assertThat(JSON.readTree(plain.body()).path("error").asText()).contains("--max-channels");

        RawHttp stream = RawHttp.get(server.port(), "/sse/d", Map.of("Accept", "text/event-stream"));
        assertThat(stream.status()).as("not a 503, on which an EventSource would stop for good").isEqualTo(200);
        assertThat(stream.body()).startsWith("retry: 3000\n: ").contains("--max-channels").doesNotContain("data:");
        assertThat(refused()).isEqualTo(4.0);
        assertThat(server.metric("squall_limit_connections")).as("the refused stream held no place").isEqualTo(1.0);

        // What exists goes on: another client joins a channel that has subscribers, on every protocol.
        WsTestClient bob = v1();
        assertThat(subscribe(bob, 1, "a").path("type").asText()).isEqualTo("subscribed");
        WsTestClient plainOnB = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/b"));
        open.add(plainOnB);
        assertThat(plainOnB.takeText()).startsWith("{\"squall\":\"subscribed\"");
        SseTestClient sseOnC = SseTestClient.connect(server.http("/sse/c"));
        open.add(sseOnC);
        assertThat(sseOnC.take().event()).isEqualTo("subscribed");
        // The tutorial's broadcast channel is no named channel, and the app's own subscriptions are never refused.
        WsTestClient tutorial = WsTestClient.connect(server.ws());
        open.add(tutorial);
        assertThat(tutorial.takeText()).isEqualTo("Welcome");
        ServerSubscription app = server.app.plugin().squall().subscribe("app-only", message -> { });
        open.add(app::close);
        assertThat(server.metric("squall_channels")).isEqualTo(4.0);
        assertThat(refused()).isEqualTo(4.0);
    }

    @Test
    void a_channel_frees_its_place_when_its_last_subscriber_leaves_however_it_leaves() throws Exception {
        start(TestServer.config());
        assertPlacesComeBack();
    }

    @Test
    void on_redis_too_a_place_comes_back_at_once_and_the_new_channel_is_delivered() throws Exception {
        RedisProcess redis = RedisProcess.start();
        open.add(redis);
        start(TestServer.config().redis(redis.uri()));
        assertPlacesComeBack();
    }

    private void assertPlacesComeBack() throws Exception {
        WsTestClient alice = v1();
        WsTestClient bob = v1();
        assertThat(subscribe(alice, 1, "a").path("type").asText()).isEqualTo("subscribed");
        assertThat(subscribe(bob, 1, "a").path("type").asText()).isEqualTo("subscribed");
        assertThat(subscribe(alice, 2, "b").path("type").asText()).isEqualTo("subscribed");
        WsTestClient plainOnC = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/c"));
        assertThat(plainOnC.takeText()).startsWith("{\"squall\":\"subscribed\"");
        assertThat(subscribe(bob, 2, "d").path("code").asText()).isEqualTo("channel_limit");

        // One of a's two subscribers leaving frees nothing: a still has one.
        assertThat(call(bob, "{\"id\":3,\"type\":\"unsubscribe\",\"channel\":\"a\"}").path("type").asText()).isEqualTo("unsubscribed");
        assertThat(subscribe(bob, 4, "d").path("code").asText()).isEqualTo("channel_limit");
        // b's only subscriber unsubscribing frees b's place.
        assertThat(call(alice, "{\"id\":5,\"type\":\"unsubscribe\",\"channel\":\"b\"}").path("type").asText()).isEqualTo("unsubscribed");
        assertThat(subscribe(bob, 6, "d").path("type").asText()).isEqualTo("subscribed");
        assertThat(subscribe(bob, 7, "e").path("code").asText()).isEqualTo("channel_limit");
        // c's only subscriber disconnecting frees c's.
        plainOnC.close();
        Await.until("c forgotten", Duration.ofSeconds(10), () -> server.hub().subscribers("c"), 0);
        assertThat(subscribe(bob, 8, "e").path("type").asText()).isEqualTo("subscribed");
        assertThat(server.metric("squall_channels")).isEqualTo(3.0);

        // The channels that took the freed places are real ones: their publications arrive.
        server.publish("e", "\"to e\"");
        assertThat(JSON.readTree(bob.takeText()).path("data").asText()).isEqualTo("to e");
        server.publish("d", "\"to d\"");
        assertThat(JSON.readTree(bob.takeText()).path("data").asText()).isEqualTo("to d");
    }
}
