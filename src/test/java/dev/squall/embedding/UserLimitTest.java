package dev.squall.embedding;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.SseTestClient;
import dev.squall.support.Tokens;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18, {@code maxConnectionsPerUser} end to end, with signed tokens: a user known at the upgrade (a token in
 * the request) past the limit is refused with 429 before any handshake, on a WebSocket and on an event stream; one
 * known only at a {@code squall.v1} {@code connect} is closed with 3504; other users are not affected, and a user
 * gets a place back when one of theirs closes.
 */
@Timeout(60)
class UserLimitTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;

    @BeforeEach
    void start() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.tokenHmacSecret = SignedTokensTest.SECRET;
            cfg.ssePath = "/sse/{channel}";
            cfg.metricsPath = "/metrics";
            cfg.maxConnectionsPerUser = 2;
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        app.stop();
    }

    private static String token(String user) {
        return Tokens.hmac(JWSAlgorithm.HS256, SignedTokensTest.SECRET, Tokens.claims(user, Instant.now(), 3600)
                .claim("channels", List.of("news")).build());
    }

    private WsTestClient ws(String pathAndQuery, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + pathAndQuery), Map.of(), subprotocols);
        open.add(client);
        return client;
    }

    private double metric(String series) throws Exception {
        for (String line : RawHttp.get(app.port(), "/metrics", Map.of()).body().split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1));
        }
        return 0;
    }

    @Test
    void a_user_past_the_limit_is_refused_before_the_handshake_or_closed_with_3504_after_connect() throws Exception {
        String ada = token("ada");
        WsTestClient first = ws("/ws?token=" + ada, List.of());
        SseTestClient stream = SseTestClient.connect(URI.create("http://127.0.0.1:" + app.port() + "/sse/news?token=" + ada));
        open.add(stream);
        assertThat(stream.status()).isEqualTo(200);
        Await.until("ada's two counted under one user", Duration.ofSeconds(10), () -> {
            try {
                return metric("squall_limit_users") == 1.0 && metric("squall_limit_connections") == 2.0;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        RawHttp refused = RawHttp.get(app.port(), "/ws?token=" + ada, UPGRADE);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isEqualTo("10");
        assertThat(JSON.readTree(refused.body()).path("error").asText()).contains("SquallPlugin.Config.maxConnectionsPerUser");
        assertThat(RawHttp.get(app.port(), "/sse/news?token=" + ada, Map.of()).status()).isEqualTo(429);

        // Known only after the handshake: the connect command proves ada, and the connection closes with 3504.
        WsTestClient late = ws("/ws", List.of("squall.v1"));
        late.send("{\"id\":1,\"type\":\"connect\",\"token\":\"" + ada + "\"}");
        WsTestClient.Event closed = late.take();
        assertThat(closed.closeCode()).as("no connected reply, a close").isEqualTo(3504);
        assertThat(closed.reason()).isEqualTo("connection limit");
        assertThat(metric("squall_limited_total{limit=\"connections_per_user\"}")).isEqualTo(3.0);

        // Someone else is not affected, and ada has a place again once one of hers has gone.
        WsTestClient grace = ws("/ws", List.of("squall.v1"));
        grace.send("{\"id\":1,\"type\":\"connect\",\"token\":\"" + token("grace") + "\"}");
        assertThat(JSON.readTree(grace.takeText()).path("type").asText()).isEqualTo("connected");
        first.close();
        Await.until("ada's place back", Duration.ofSeconds(10), () -> {
            try {
                return metric("squall_limit_connections") == 2.0;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        WsTestClient again = ws("/ws", List.of("squall.v1"));
        again.send("{\"id\":1,\"type\":\"connect\",\"token\":\"" + ada + "\"}");
        assertThat(JSON.readTree(again.takeText()).path("type").asText()).isEqualTo("connected");
        assertThat(metric("squall_limit_users")).isEqualTo(2.0);
    }
}
