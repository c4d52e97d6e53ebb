package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.ChannelMessage;
import dev.squall.ChannelSubscriber;
import dev.squall.Payload;
import dev.squall.Published;
import dev.squall.ServerSubscription;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What an app does with Squall's API beyond broadcasting text (issue 17): publishing values and keys, without
 * waiting, listening to a channel from the server, naming a route's channel from its request, reaching the handle
 * from a handler, serving {@code squall.js}. Through the public API only, against a real server and real clients.
 */
@Timeout(60)
class ApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;
    private SquallPlugin plugin;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null) app.stop();
    }

    private Squall start(Consumer<SquallPlugin.Config> config) {
        plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;                    // each test stops its app: no 3 s of draining
            config.accept(cfg);
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        return plugin.squall();
    }

    private WsTestClient connect(String path, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path), Map.of(), subprotocols);
        open.add(client);
        return client;
    }

    private WsTestClient v1Subscriber(String channel) throws Exception {
        WsTestClient client = connect("/ws", List.of("squall.v1"));
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(JSON.readTree(client.takeText()).path("type").asText()).isEqualTo("subscribed");
        return client;
    }

    record Order(String id, int items) {
    }

    @Test
    void a_value_published_as_json_reaches_v1_clients_and_history_as_json_and_plain_clients_as_compact_text() throws Exception {
        Squall squall = start(cfg -> {
            cfg.ws("/ws", ws -> { });
            cfg.ws("/plain/{channel}", ws -> ws.channelFrom("channel"));
            cfg.channelsPath = "/channels";
        });
        WsTestClient v1 = v1Subscriber("orders");
        WsTestClient plain = connect("/plain/orders", List.of());
        assertThat(plain.takeText()).startsWith("{\"squall\":\"subscribed\"");

        Published published = squall.publish("orders", Payload.json(new Order("o-1", 3)));
        squall.publish("orders", Payload.rawJson("{ \"total\" :  42 }"));
        squall.publish("orders", Payload.text("{\"a\":1}"));

        assertThat(published.offset()).isEqualTo(1);
        assertThat(JSON.readTree(v1.takeText()).path("data")).isEqualTo(JSON.readTree("{\"id\":\"o-1\",\"items\":3}"));
        assertThat(JSON.readTree(v1.takeText()).path("data")).isEqualTo(JSON.readTree("{\"total\":42}"));
        assertThat(JSON.readTree(v1.takeText()).path("data").asText()).as("text stays a string").isEqualTo("{\"a\":1}");
        assertThat(plain.takeText()).isEqualTo("{\"id\":\"o-1\",\"items\":3}");
        assertThat(plain.takeText()).as("compact").isEqualTo("{\"total\":42}");
        JsonNode history = JSON.readTree(RawHttp.get(app.port(), "/channels/orders/history", Map.of()).body());
        assertThat(history.path("publications").get(0).path("data").path("items").asInt()).isEqualTo(3);
    }

    @Test
    void json_that_is_not_one_value_or_forges_a_notice_is_refused_before_anything_is_published() {
        Squall squall = start(cfg -> { });
        assertThatThrownBy(() -> squall.publish("c", Payload.rawJson("{\"a\":1} {\"b\":2}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one value");
        assertThatThrownBy(() -> squall.publish("c", Payload.rawJson("{\"a\":")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> squall.publish("c", Payload.json(Map.of("squall", "dropped"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> squall.publish("c", Payload.json(new Object())))
                .as("a value the mapper cannot write").isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON mapper");
        assertThat(squall.publish("c", Payload.text("first")).offset()).as("nothing was published before").isEqualTo(1);
    }

    @Test
    void a_retried_publish_with_its_idempotency_key_is_published_once() {
        Squall squall = start(cfg -> { });
        Payload paid = Payload.json(Map.of("order", "o-1", "state", "paid")).idempotencyKey("o-1-paid");

        Published first = squall.publish("orders", paid);
        Published retry = squall.publish("orders", paid);

        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.offset()).isEqualTo(first.offset());
        assertThat(squall.publish("orders", Payload.text("next")).offset()).isEqualTo(first.offset() + 1);
        assertThatThrownBy(() -> Payload.text("x").idempotencyKey("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void publish_async_completes_with_where_it_went_or_with_the_exception_publish_would_throw() throws Exception {
        Squall squall = start(cfg -> { });
        CompletableFuture<Published> published = squall.publishAsync("news", Payload.text("hello"));
        assertThat(published.get(10, TimeUnit.SECONDS).offset()).isEqualTo(1);

        CompletableFuture<Published> refused = squall.publishAsync("bad name!", Payload.text("x"));
        assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void a_server_side_subscriber_gets_every_publication_in_order_until_it_closes() throws Exception {
        Squall squall = start(cfg -> cfg.publishApiPath = "/publish");
        List<String> got = new CopyOnWriteArrayList<>();
        ServerSubscription subscription = squall.subscribe("prices", message ->
                got.add(message.offset() + " " + message.kind() + " " + message.text()));
        assertThat(subscription.startOffset()).isZero();
        assertThat(subscription.startEpoch()).isNotEmpty();

        for (int i = 1; i <= 50; i++) squall.publish("prices", Payload.json(Map.of("p", i)));
        RawHttp posted = RawHttp.request(app.port(), "POST", "/publish", Map.of("Content-Type", "application/json"),
                "{\"channel\":\"prices\",\"data\":\"over http\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(posted.status()).isEqualTo(200);
        Await.until("every publication", DEADLINE, () -> got.size() == 51);

        assertThat(got.get(0)).isEqualTo("1 JSON {\"p\":1}");
        assertThat(got.get(49)).isEqualTo("50 JSON {\"p\":50}");
        assertThat(got.get(50)).isEqualTo("51 TEXT over http");
        subscription.close();
        assertThat(subscription.isActive()).isFalse();
        squall.publish("prices", Payload.text("after"));
        squall.publish("quiet", Payload.text("a publish that waits for the one before, so the last is past the hub"));
        assertThat(got).hasSize(51);
        assertThat(squall.connectionCount()).as("no client's connection").isZero();
    }

    @Test
    void a_subscriber_that_falls_too_far_behind_is_closed_as_a_slow_client_would_be() throws Exception {
        Squall squall = start(cfg -> cfg.maxQueueMessages = 5);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> closed = new CompletableFuture<>();
        ServerSubscription subscription = squall.subscribe("fast", new ChannelSubscriber() {
            @Override
            public void onPublication(ChannelMessage message) throws Exception {
                release.await(10, TimeUnit.SECONDS);            // stuck on the first one
            }

            @Override
            public void onClose(String reason) {
                closed.complete(reason);
            }
        });

        for (int i = 0; i < 20; i++) squall.publish("fast", Payload.text("m" + i));
        release.countDown();

        assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo("slow consumer");
        assertThat(subscription.isActive()).isFalse();
    }

    @Test
    void a_route_names_its_channel_from_the_request_and_a_handler_publishes_through_its_connection() throws Exception {
        Squall squall = start(cfg -> cfg.ws("/rooms/{room}", ws -> {
            ws.channelFrom(handshake -> handshake.queryParam("private") != null ? null : "room:" + handshake.pathParam("room"));
            ws.onMessage((client, text) -> client.squall().publish("room:" + client.pathParam("room"), Payload.text(text)));
        }));
        WsTestClient ann = connect("/rooms/lobby", List.of());
        JsonNode subscribed = JSON.readTree(ann.takeText());
        assertThat(subscribed.path("channel").asText()).isEqualTo("room:lobby");

        ann.send("hello everyone");
        assertThat(ann.takeText()).isEqualTo("hello everyone");
        squall.publish("room:lobby", Payload.text("from the app"));
        assertThat(ann.takeText()).isEqualTo("from the app");

        RawHttp refused = RawHttp.get(app.port(), "/rooms/lobby?private=1", Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
        assertThat(refused.status()).as("no channel for this request").isEqualTo(400);
        assertThat(refused.body()).contains("no channel");
    }

    @Test
    void a_channel_name_from_a_function_outside_the_rule_is_refused_and_one_that_throws_is_a_500() throws Exception {
        start(cfg -> {
            cfg.ws("/bad/{x}", ws -> ws.channelFrom(handshake -> "has space " + handshake.pathParam("x")));
            cfg.ws("/broken/{x}", ws -> ws.channelFrom(handshake -> {
                throw new IllegalStateException("the app's bug");
            }));
        });
        Map<String, String> upgrade = Map.of("Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        RawHttp bad = RawHttp.get(app.port(), "/bad/1", upgrade);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("a space");
        RawHttp broken = RawHttp.get(app.port(), "/broken/1", upgrade);
        assertThat(broken.status()).isEqualTo(500);
        assertThat(broken.body()).doesNotContain("the app's bug");
    }

    @Test
    void the_browser_client_is_served_at_the_path_the_app_gives_and_nothing_else_is() throws Exception {
        start(cfg -> cfg.clientPath = "/js/squall.js");
        RawHttp script = RawHttp.get(app.port(), "/js/squall.js", Map.of());

        assertThat(script.status()).isEqualTo(200);
        assertThat(script.header("Content-Type")).startsWith("text/javascript");
        assertThat(script.body()).isEqualTo(Files.readString(Path.of("public/squall.js"), StandardCharsets.UTF_8));
        RawHttp again = RawHttp.get(app.port(), "/js/squall.js", Map.of("If-None-Match", script.header("ETag")));
        assertThat(again.status()).isEqualTo(304);
        assertThat(RawHttp.get(app.port(), "/js/app.js", Map.of()).status()).isEqualTo(404);
        assertThat(RawHttp.get(app.port(), "/squall.js", Map.of()).status()).isEqualTo(404);
    }
}
