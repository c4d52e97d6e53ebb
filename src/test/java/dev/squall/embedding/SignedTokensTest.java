package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import dev.squall.Identity;
import dev.squall.Payload;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.Tokens;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signed tokens end to end (issue 18): what a token lets a connection do on every protocol, what is refused, and how
 * expiry and refresh behave, against a real server and real clients.
 */
@Timeout(90)
class SignedTokensTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "a-test-secret-that-is-at-least-32-bytes-long";
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;
    private Squall squall;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null) app.stop();
    }

    private void start(Consumer<SquallPlugin.Config> more) {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.tokenHmacSecret = SECRET;
            cfg.channelsPath = "/channels";
            cfg.ssePath = "/sse/{channel}";
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            more.accept(cfg);
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        squall = plugin.squall();
    }

    /** A token for {@code user}, valid for {@code seconds}, with the claims {@code more} adds. */
    private static String token(String user, long seconds, Consumer<JWTClaimsSet.Builder> more) {
        JWTClaimsSet.Builder claims = Tokens.claims(user, Instant.now(), seconds);
        more.accept(claims);
        return Tokens.hmac(JWSAlgorithm.HS256, SECRET, claims.build());
    }

    private static String token(String user, String... channels) {
        return token(user, 3600, claims -> claims.claim("channels", List.of(channels)));
    }

    private WsTestClient connect(String path, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path), Map.of(), subprotocols);
        open.add(client);
        return client;
    }

    private RawHttp upgrade(String path) throws Exception {
        return RawHttp.get(app.port(), path, UPGRADE);
    }

    private static JsonNode call(WsTestClient client, String command) throws Exception {
        client.send(command);
        return reply(client);
    }

    private static JsonNode reply(WsTestClient client) throws Exception {
        while (true) {
            JsonNode frame = JSON.readTree(client.takeText());
            if (frame.has("id")) return frame;
        }
    }

    @Test
    void a_token_says_who_connects_and_which_channels_it_may_join() throws Exception {
        CompletableFuture<Identity> seen = new CompletableFuture<>();
        start(cfg -> cfg.ws("/hello", ws -> ws.onOpen(client -> seen.complete(client.identity()))));
        String ada = token("42", 3600, claims -> claims.claim("info", Map.of("name", "Ada")));
        connect("/hello?token=" + ada, List.of());
        assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(Identity.of("42", "{\"name\":\"Ada\"}"));

        assertThat(upgrade("/ws").status()).as("no token").isEqualTo(401);
        WsTestClient news = connect("/ws/news?token=" + token("42", "news"), List.of());
        assertThat(news.takeText()).contains("\"channel\":\"news\"");
        RawHttp other = upgrade("/ws/sports?token=" + token("42", "news"));
        assertThat(other.status()).as("a token for channel A used on B").isEqualTo(403);
        WsTestClient room = connect("/ws/chat:room7?token=" + token("42", "chat:*"), List.of());
        assertThat(room.takeText()).as("a prefix* pattern").contains("\"channel\":\"chat:room7\"");
        WsTestClient subscription = connect("/ws/private:42?token=" + token("42", 3600, c -> c.claim("channel", "private:42")), List.of());
        assertThat(subscription.takeText()).as("a subscription token for the path's channel").contains("private:42");
    }

    @Test
    void forged_unsigned_expired_early_and_misdirected_tokens_are_refused_before_the_handshake() throws Exception {
        start(cfg -> {
            cfg.tokenAudience = "squall";
            cfg.tokenIssuer = "https://app.example";
        });
        Consumer<JWTClaimsSet.Builder> good = c -> c.audience("squall").issuer("https://app.example").claim("channels", List.of("*"));
        String valid = token("42", 3600, good);
        assertThat(upgrade("/ws/news?token=" + valid).status()).isEqualTo(101);

        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("forged signature", Tokens.hmac(JWSAlgorithm.HS256, "another-secret-that-is-at-least-32-bytes", Tokens.claims("42", Instant.now(), 3600).audience("squall").issuer("https://app.example").build()));
        bad.put("alg none", new PlainJWT(new PlainHeader(), Tokens.claims("42", Instant.now(), 3600).audience("squall").issuer("https://app.example").build()).serialize());
        bad.put("the wrong algorithm", Tokens.rsa(JWSAlgorithm.RS256, Tokens.rsa("k1"), Tokens.claims("42", Instant.now(), 3600).audience("squall").issuer("https://app.example").build()));
        bad.put("expired", token("42", -60, good));
        bad.put("not yet valid", token("42", 3600, c -> {
            good.accept(c);
            c.notBeforeTime(java.util.Date.from(Instant.now().plusSeconds(600)));
        }));
        bad.put("wrong audience", token("42", 3600, c -> c.audience("other").issuer("https://app.example")));
        bad.put("wrong issuer", token("42", 3600, c -> c.audience("squall").issuer("https://evil.example")));
        for (Map.Entry<String, String> each : bad.entrySet()) {
            RawHttp refused = RawHttp.get(app.port(), "/ws/news", withBearer(each.getValue()));
            assertThat(refused.status()).as(each.getKey()).isEqualTo(401);
            assertThat(refused.header("WWW-Authenticate")).as(each.getKey()).contains("invalid_token");
            assertThat(refused.body()).as("never quotes the token").doesNotContain(each.getValue().substring(0, 20));
        }
    }

    private static Map<String, String> withBearer(String token) {
        Map<String, String> headers = new HashMap<>(UPGRADE);
        headers.put("Authorization", "Bearer " + token);
        return headers;
    }

    @Test
    void squall_v1_connects_by_command_and_nothing_comes_before_it() throws Exception {
        start(cfg -> cfg.connectTimeout = Duration.ofSeconds(1));
        WsTestClient client = connect("/ws", List.of("squall.v1"));
        JsonNode connected = call(client, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + token("42", "news") + "\"}");
        assertThat(connected.path("type").asText()).isEqualTo("connected");
        assertThat(connected.path("user").asText()).isEqualTo("42");
        assertThat(connected.path("expires").asLong()).isGreaterThan(Instant.now().getEpochSecond());
        assertThat(call(client, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\"}").path("type").asText()).isEqualTo("subscribed");
        assertThat(call(client, "{\"id\":3,\"type\":\"subscribe\",\"channel\":\"sports\"}").path("code").asText()).isEqualTo("forbidden");

        WsTestClient eager = connect("/ws", List.of("squall.v1"));
        assertThat(call(eager, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}").path("code").asText()).isEqualTo("unauthorized");
        assertThat(eager.awaitClose()).isEqualTo(3500);

        WsTestClient forged = connect("/ws", List.of("squall.v1"));
        String forgery = Tokens.hmac(JWSAlgorithm.HS256, "another-secret-that-is-at-least-32-bytes", Tokens.claims("42", Instant.now(), 60).build());
        assertThat(call(forged, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + forgery + "\"}").path("code").asText()).isEqualTo("unauthorized");
        assertThat(forged.awaitClose()).isEqualTo(3500);

        WsTestClient large = connect("/ws", List.of("squall.v1"));
        String tooLarge = token("42", 3600, c -> c.claim("padding", "x".repeat(9000)));
        JsonNode refused = call(large, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + tooLarge + "\"}");
        assertThat(refused.path("code").asText()).as("a token over the size bound").isEqualTo("unauthorized");
        assertThat(large.awaitClose()).isEqualTo(3500);

        WsTestClient silent = connect("/ws", List.of("squall.v1"));
        assertThat(silent.awaitClose()).as("no connect within the deadline").isEqualTo(3502);
    }

    @Test
    void a_subscription_token_grants_one_channel_to_its_own_user() throws Exception {
        start(cfg -> { });
        WsTestClient client = connect("/ws?token=" + token("42"), List.of("squall.v1"));
        String forMe = token("42", 3600, c -> c.claim("channel", "private:42"));
        String forBob = token("bob", 3600, c -> c.claim("channel", "private:bob"));
        assertThat(call(client, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"private:42\"}").path("code").asText()).isEqualTo("forbidden");
        assertThat(call(client, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"private:bob\",\"token\":\"" + forBob + "\"}").path("code").asText())
                .as("another user's").isEqualTo("forbidden");
        assertThat(call(client, "{\"id\":3,\"type\":\"subscribe\",\"channel\":\"private:bob\",\"token\":\"" + forMe + "\"}").path("code").asText())
                .as("for another channel").isEqualTo("forbidden");
        assertThat(call(client, "{\"id\":4,\"type\":\"subscribe\",\"channel\":\"private:42\",\"token\":\"" + forMe + "\"}").path("type").asText())
                .isEqualTo("subscribed");
    }

    @Test
    void a_refresh_before_expiry_keeps_the_connection_and_without_one_it_closes_at_expiry() throws Exception {
        start(cfg -> { });
        String shortLived = token("42", 2, c -> { });
        WsTestClient refreshed = connect("/ws", List.of("squall.v1"));
        WsTestClient unrefreshed = connect("/ws", List.of("squall.v1"));
        assertThat(call(refreshed, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + shortLived + "\"}").path("type").asText()).isEqualTo("connected");
        assertThat(call(unrefreshed, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + shortLived + "\"}").path("type").asText()).isEqualTo("connected");
        JsonNode reply = call(refreshed, "{\"id\":2,\"type\":\"refresh\",\"token\":\"" + token("42", 3600, c -> { }) + "\"}");
        assertThat(reply.path("type").asText()).isEqualTo("refreshed");

        assertThat(unrefreshed.awaitClose(Duration.ofSeconds(20))).isEqualTo(3005);
        assertThat(refreshed.isOpen()).as("closed at the same moment unless refreshed").isTrue();
        assertThat(call(refreshed, "{\"id\":3,\"type\":\"ping\"}").path("type").asText()).isEqualTo("pong");

        JsonNode otherUser = call(refreshed, "{\"id\":4,\"type\":\"refresh\",\"token\":\"" + token("bob", 3600, c -> { }) + "\"}");
        assertThat(otherUser.path("code").asText()).isEqualTo("unauthorized");
        assertThat(refreshed.awaitClose()).isEqualTo(3500);
    }

    @Test
    void an_expiry_costs_no_message_the_client_reconnects_with_a_fresh_token_from_its_offset() throws Exception {
        start(cfg -> { });
        int total = 60;
        Thread publisher = new Thread(() -> {
            for (int i = 1; i <= total; i++) {
                squall.publish("news", Payload.text("m" + i));
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        WsTestClient first = connect("/ws?token=" + token("42", 1, c -> c.claim("channels", List.of("news"))), List.of("squall.v1"));
        JsonNode started = call(first, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":0}");
        assertThat(started.path("type").asText()).isEqualTo("subscribed");
        String epoch = started.path("epoch").asText();
        publisher.start();
        TreeSet<Long> offsets = new TreeSet<>();
        WsTestClient.Event event;
        while (!(event = first.take(Duration.ofSeconds(20))).isClose()) collect(event, offsets);
        assertThat(event.closeCode()).isEqualTo(3005);
        long last = offsets.isEmpty() ? 0 : offsets.last();
        assertThat(last).as("closed while publishing went on").isLessThan(total);

        WsTestClient second = connect("/ws?token=" + token("42", "news"), List.of("squall.v1"));
        second.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":" + last + ",\"epoch\":\"" + epoch + "\"}");
        JsonNode subscribed = JSON.readTree(second.takeText());
        assertThat(subscribed.path("type").asText()).isEqualTo("subscribed");
        assertThat(subscribed.path("recovered").asBoolean()).isTrue();
        while (offsets.size() < total) collect(second.take(Duration.ofSeconds(20)), offsets);
        publisher.join(30_000);
        assertThat(offsets).hasSize(total).first().isEqualTo(1L);
        assertThat(offsets.last()).isEqualTo((long) total);
    }

    /** A publication's offset, each once. */
    private static void collect(WsTestClient.Event event, TreeSet<Long> offsets) throws Exception {
        assertThat(event.isClose()).as("closed: " + event.closeCode()).isFalse();
        JsonNode frame = JSON.readTree(event.text());
        if (frame.has("offset") && !frame.has("id")) {
            assertThat(offsets.add(frame.path("offset").asLong())).as("no duplicate").isTrue();
        }
    }

    @Test
    void http_reads_need_a_token_that_grants_the_channel_and_sse_takes_a_cookie_token() throws Exception {
        start(cfg -> cfg.tokenCookie = "squall_token");
        squall.publish("news", Payload.text("hello"));
        assertThat(RawHttp.get(app.port(), "/channels/news/history?token=" + token("42", "news"), Map.of("Origin", "http://127.0.0.1")).status())
                .isEqualTo(200);
        assertThat(RawHttp.get(app.port(), "/channels/news/history", Map.of("Authorization", "Bearer " + token("42", "sports"),
                "X-Forwarded-For", "10.0.0.1")).status()).as("a token for another channel").isEqualTo(403);
        assertThat(RawHttp.get(app.port(), "/channels/news/history", Map.of("X-Forwarded-For", "10.0.0.1")).status())
                .as("neither the publish right nor a token").isEqualTo(403);

        Map<String, String> cookie = Map.of("Cookie", "squall_token=" + token("42", "news"), "Accept", "text/event-stream");
        assertThat(RawHttp.get(app.port(), "/sse/sports", cookie).status()).isEqualTo(403);
        Map<String, String> crossSite = new HashMap<>(cookie);
        crossSite.put("Origin", "https://evil.example");
        assertThat(RawHttp.get(app.port(), "/sse/news", crossSite).status()).as("another site's page cannot use the cookie").isEqualTo(403);
    }
}
