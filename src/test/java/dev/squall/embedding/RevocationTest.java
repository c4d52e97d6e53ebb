package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.Identity;
import dev.squall.ReadAccess;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.SseTestClient;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Revocation on one node (issue 18): {@link Squall#disconnect} and {@code POST /disconnect} close every connection of a
 * user, whatever its protocol, with 3503, and leave everyone else's alone; the route is guarded as publishing is, and
 * refuses what names no one. The app's authenticate hook names the user from a header, as it would from its session.
 */
@Timeout(60)
class RevocationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final String PUBLISH_TOKEN = "a-publish-token-of-some-length";

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;
    private Squall squall;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null) app.stop();
    }

    /** X-User names the user ("-": anonymous); "chat:" channels are open to all, with presence on. */
    private void start(Consumer<SquallPlugin.Config> more) {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.channelsPath = "/channels";
            cfg.ssePath = "/sse/{channel}";
            cfg.publishApiPath = "/publish";
            cfg.disconnectPath = "/disconnect";
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            cfg.authenticate(handshake -> {
                String user = handshake.header("X-User");
                if (user == null) return null;
                return user.equals("-") ? Identity.ANONYMOUS : Identity.of(user);
            });
            cfg.namespace("chat", ns -> {
                ns.presence = true;
                ns.subscribe = SubscribeAccess.PUBLIC;
                ns.read = ReadAccess.PUBLIC;
            });
            more.accept(cfg);
        });
        app = Javalin.create(javalin -> {
            javalin.registerPlugin(plugin);
            // Jetty's stop waits for requests, as the standalone server's does: with Javalin's default of none, an
            // event stream ending as the server stops leaves Javalin finishing a request Jetty has recycled already.
            javalin.jetty.modifyServer(server -> server.setStopTimeout(2000));
        }).start("127.0.0.1", 0);
        squall = plugin.squall();
    }

    private WsTestClient ws(String path, String user, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path), Map.of("X-User", user), subprotocols);
        open.add(client);
        return client;
    }

    private WsTestClient plain(String channel, String user) {
        WsTestClient client = ws("/ws/" + channel, user, List.of());
        client.takeText();                                                  // its subscribed notice
        return client;
    }

    private WsTestClient v1(String channel, String user) throws Exception {
        WsTestClient client = ws("/ws", user, List.of("squall.v1"));
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(JSON.readTree(client.takeText()).path("type").asText()).isEqualTo("subscribed");
        return client;
    }

    private SseTestClient sse(String channel, String user) {
        SseTestClient client = SseTestClient.connect(URI.create("http://127.0.0.1:" + app.port() + "/sse/" + channel), Map.of("X-User", user));
        open.add(client);
        assertThat(client.status()).isEqualTo(200);
        client.take();                                                      // its subscribed event
        return client;
    }

    private RawHttp post(String path, String contentType, String body, Map<String, String> more) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", contentType);
        headers.putAll(more);
        return RawHttp.request(app.port(), "POST", path, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    private RawHttp disconnect(String body, Map<String, String> more) throws Exception {
        return post("/disconnect", "application/json", body, more);
    }

    @Test
    void a_users_websockets_of_every_protocol_and_event_streams_close_with_3503_and_everyone_else_stays() throws Exception {
        start(cfg -> { });
        WsTestClient adaTutorial = ws("/ws", "ada", List.of());
        WsTestClient adaPlain = plain("chat:room", "ada");
        WsTestClient adaV1 = v1("chat:room", "ada");
        SseTestClient adaSse = sse("chat:room", "ada");
        WsTestClient bobPlain = plain("chat:room", "bob");
        WsTestClient bobV1 = v1("chat:room", "bob");
        SseTestClient anonymous = sse("chat:room", "-");
        Await.until("all seven open on the server", DEADLINE, () -> squall.connectionCount() == 7);
        assertThat(JSON.readTree(bobV1.takeText()).path("type").asText()).as("the anonymous stream joined after bob").isEqualTo("join");

        assertThat(squall.disconnect("ada")).as("four connections of ada's on this node").isEqualTo(4);

        for (WsTestClient ada : List.of(adaTutorial, adaPlain, adaV1)) {
            WsTestClient.Event closed;
            do {
                closed = ada.take(DEADLINE);                                 // what was queued before is dropped or read
            } while (!closed.isClose());
            assertThat(closed.closeCode()).isEqualTo(3503);
            assertThat(closed.reason()).isEqualTo("force disconnect");
        }
        assertThat(adaSse.awaitEnd(DEADLINE)).as("ada's event stream ended").isTrue();

        JsonNode room = JSON.readTree(RawHttp.get(app.port(), "/channels/chat:room", Map.of()).body());
        assertThat(room.path("subscribers").asInt()).as("ada's connections left at once").isEqualTo(3);
        assertThat(room.path("users").asInt()).isEqualTo(1);
        List<String> heard = new ArrayList<>();
        for (int i = 0; i < 3; i++) heard.add(JSON.readTree(bobV1.takeText()).path("user").asText());
        assertThat(heard).as("bob heard ada's three connections leave the room").containsExactly("ada", "ada", "ada");

        squall.publish("chat:room", "still here");
        assertThat(bobPlain.takeText()).isEqualTo("still here");
        assertThat(JSON.readTree(bobV1.takeText()).path("data").asText()).isEqualTo("still here");
        assertThat(anonymous.take().data()).contains("still here");
        assertThat(bobPlain.isOpen()).isTrue();
        assertThat(squall.disconnect("ada")).as("nothing of ada's is left").isZero();
    }

    @Test
    void a_user_with_no_connections_is_zero_closed_and_no_error() throws Exception {
        start(cfg -> { });
        WsTestClient bob = plain("chat:room", "bob");
        assertThat(squall.disconnect("nobody-here")).isZero();
        RawHttp answer = disconnect("{\"user\":\"nobody-here\"}", Map.of());
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("{\"disconnected\":0}");
        assertThat(bob.isOpen()).isTrue();
    }

    @Test
    void the_route_closes_a_users_connections_and_answers_how_many_it_closed_here() throws Exception {
        start(cfg -> { });
        WsTestClient one = plain("chat:a", "42");
        WsTestClient two = v1("chat:b", "42");
        WsTestClient other = plain("chat:a", "43");

        RawHttp answer = disconnect("{\"user\":\"42\"}", Map.of());
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("{\"disconnected\":2}");
        assertThat(one.awaitClose()).isEqualTo(3503);
        assertThat(two.awaitClose()).isEqualTo(3503);
        assertThat(other.isOpen()).isTrue();
    }

    @Test
    void anonymous_connections_are_not_one_user_and_are_refused() throws Exception {
        start(cfg -> { });
        WsTestClient anonymous = plain("chat:room", "-");
        assertThatThrownBy(() -> squall.disconnect("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("anonymous");
        RawHttp refused = disconnect("{\"user\":\"\"}", Map.of());
        assertThat(refused.status()).isEqualTo(400);
        assertThat(JSON.readTree(refused.body()).path("error").asText()).contains("anonymous connections are not one user");
        assertThat(anonymous.isOpen()).isTrue();
    }

    @Test
    void what_names_no_user_is_refused_with_a_sentence_and_closes_nothing() throws Exception {
        start(cfg -> { });
        WsTestClient ada = plain("chat:room", "ada");
        String tooLong = "x".repeat(Identity.MAX_USER_LENGTH + 1);
        assertThatThrownBy(() -> squall.disconnect(tooLong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most 256");

        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("", "the body is empty");
        bodies.put("{\"user\":\"ada\"", "not valid JSON");
        bodies.put("[\"ada\"]", "must be a JSON object");
        bodies.put("{}", "user is missing");
        bodies.put("{\"user\":42}", "user is missing or not a string");
        bodies.put("{\"user\":null}", "user is missing or not a string");
        bodies.put("{\"user\":\"ada\",\"channel\":\"x\"}", "unknown field 'channel'");
        bodies.put("{\"user\":\"" + tooLong + "\"}", "at most 256");
        bodies.put("{\"user\":\"ada\"}{\"user\":\"bob\"}", "more follows");
        for (Map.Entry<String, String> bad : bodies.entrySet()) {
            RawHttp refused = disconnect(bad.getKey(), Map.of());
            assertThat(refused.status()).as(bad.getKey()).isEqualTo(400);
            assertThat(JSON.readTree(refused.body()).path("error").asText()).as(bad.getKey()).contains(bad.getValue());
        }
        RawHttp text = post("/disconnect", "text/plain", "ada", Map.of());
        assertThat(text.status()).isEqualTo(415);
        assertThat(JSON.readTree(text.body()).path("error").asText()).contains("application/json");
        RawHttp query = post("/disconnect?user=ada", "application/json", "{\"user\":\"ada\"}", Map.of());
        assertThat(query.status()).as("it takes no query parameter").isEqualTo(400);
        assertThat(RawHttp.get(app.port(), "/disconnect", Map.of()).status()).as("a GET is no disconnect").isIn(404, 405);
        assertThat(ada.isOpen()).as("none of them closed anything").isTrue();
    }

    @Test
    void without_a_publish_token_the_route_is_refused_where_publishing_is_with_its_own_words() throws Exception {
        start(cfg -> { });
        WsTestClient ada = plain("chat:room", "ada");
        // Each refusal in the words of its check: the publish policy's name what was refused.
        Map<Map<String, String>, String> refusedToo = Map.of(
                Map.of("Sec-Fetch-Site", "cross-site"), "a cross-site browser request may not disconnect users",
                Map.of("Origin", "https://elsewhere.example"), "origin https://elsewhere.example is not allowed",
                Map.of("X-Forwarded-For", "203.0.113.9"), "this disconnect came through a proxy",
                Map.of("Host", "evil.example"), "Host 'evil.example' is not this machine");
        for (Map.Entry<Map<String, String>, String> each : refusedToo.entrySet()) {
            Map<String, String> headers = each.getKey();
            RawHttp publish = post("/publish", "application/json", "{\"channel\":\"chat:room\",\"data\":1}", headers);
            RawHttp refused = disconnect("{\"user\":\"ada\"}", headers);
            assertThat(refused.status()).as(headers.toString()).isEqualTo(publish.status()).isEqualTo(403);
            assertThat(JSON.readTree(refused.body()).path("error").asText()).as(headers.toString()).startsWith(each.getValue());
        }
        assertThat(ada.isOpen()).isTrue();
        assertThat(disconnect("{\"user\":\"ada\"}", Map.of()).status()).as("this machine may").isEqualTo(200);
        assertThat(ada.awaitClose()).isEqualTo(3503);
    }

    @Test
    void with_a_publish_token_the_route_needs_it_as_publishing_does() throws Exception {
        start(cfg -> cfg.publishToken = PUBLISH_TOKEN);
        WsTestClient ada = plain("chat:room", "ada");
        List<Map<String, String>> refusedToo = List.of(Map.of(), Map.of("Authorization", "Bearer not-the-publish-token-at-all"));
        for (Map<String, String> headers : refusedToo) {
            RawHttp publish = post("/publish", "application/json", "{\"channel\":\"chat:room\",\"data\":1}", headers);
            RawHttp refused = disconnect("{\"user\":\"ada\"}", headers);
            assertThat(refused.status()).as(headers.toString()).isEqualTo(publish.status()).isIn(401, 403);
            if (refused.status() == 401) assertThat(refused.header("WWW-Authenticate")).startsWith("Bearer");
        }
        assertThat(ada.isOpen()).isTrue();
        RawHttp allowed = disconnect("{\"user\":\"ada\"}", Map.of("Authorization", "Bearer " + PUBLISH_TOKEN));
        assertThat(allowed.body()).isEqualTo("{\"disconnected\":1}");
        assertThat(ada.awaitClose()).isEqualTo(3503);
    }

    @Test
    void a_peer_that_ignores_the_close_frame_is_cut_and_holds_nothing() throws Exception {
        start(cfg -> { });
        Map<String, String> headers = new HashMap<>();
        headers.put("X-User", "ada");
        RawWsClient stubborn = RawWsClient.connect(app.port(), headers, 0);
        open.add(stubborn);
        assertThat(stubborn.status()).isEqualTo(101);
        Await.until("the connection to be open on the server", DEADLINE, () -> squall.connectionCount() == 1);

        assertThat(squall.disconnect("ada")).isEqualTo(1);
        assertThat(stubborn.readUntil(RawWsClient.CLOSE, DEADLINE).closeCode()).isEqualTo(3503);
        // It never answers the close: the server drops the socket after the close grace.
        assertThat(stubborn.awaitServerClose(DEADLINE)).isEqualTo(1006);
        assertThat(squall.connectionCount()).isZero();
    }

    @Test
    void the_route_is_mounted_only_when_asked_for() throws Exception {
        start(cfg -> cfg.disconnectPath = null);
        assertThat(disconnect("{\"user\":\"ada\"}", Map.of()).status()).isEqualTo(404);
    }
}
