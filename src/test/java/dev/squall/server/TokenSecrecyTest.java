package dev.squall.server;

import com.nimbusds.jose.JWSAlgorithm;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.ServerProcess;
import dev.squall.support.Tokens;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A token is a credential: sent in a URL's query (browsers cannot set a WebSocket's headers), it must never reach a log
 * line, at any level of Squall's loggers or Javalin's, whatever becomes of the request: admitted, refused, closed at
 * expiry, or a squall.v1 connect that fails (issue 18).
 */
@Timeout(90)
class TokenSecrecyTest {

    private static final String SECRET = "a-secret-of-at-least-32-bytes-for-this-test";
    private static final List<String> EVERYTHING = List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=trace",
            "-Dorg.slf4j.simpleLogger.log.io.javalin=trace");
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    private static String token(String user, long seconds, String... channels) {
        return Tokens.hmac(JWSAlgorithm.HS256, SECRET, Tokens.claims(user, Instant.now(), seconds)
                .claim("channels", List.of(channels)).build());
    }

    /** What a token shows that no other text does: its signature. */
    private static String signatureOf(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    @Test
    void no_token_reaches_the_log_at_any_level(@TempDir Path workingDir) throws Exception {
        int port = freePort();
        String admitted = token("ada", 3600, "news");
        String otherChannel = token("ada", 3600, "sports");
        String forged = Tokens.hmac(JWSAlgorithm.HS256, "another-secret-of-at-least-32-bytes-long",
                Tokens.claims("ada", Instant.now(), 3600).build());
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "token-secrecy.log"), EVERYTHING,
                "--port", Integer.toString(port), "--host", "127.0.0.1", "--token-hmac-secret", SECRET, "--drain-seconds", "0")) {
            Await.until("the start-up line (log: " + server.log() + ")", Duration.ofSeconds(30),
                    () -> server.output().contains("Squall listening on"));
            try (WsTestClient news = WsTestClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws/news?token=" + admitted))) {
                assertThat(news.takeText()).contains("\"channel\":\"news\"");
            }
            String shortLived = token("ada", 1, "news");                // minted now: the server took its time to start
            try (WsTestClient expiring = WsTestClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws/news?token=" + shortLived))) {
                assertThat(expiring.awaitClose(Duration.ofSeconds(20))).isEqualTo(3005);
            }
            assertThat(log(server)).doesNotContain(signatureOf(shortLived));
            assertThat(RawHttp.get(port, "/ws/news?token=" + forged, UPGRADE).status()).isEqualTo(401);
            assertThat(RawHttp.get(port, "/ws/news?token=" + otherChannel, UPGRADE).status()).isEqualTo(403);
            assertThat(RawHttp.get(port, "/channels/news/history?token=" + admitted, Map.of()).status()).isEqualTo(200);
            assertThat(RawHttp.get(port, "/channels/news/history?token=" + forged, Map.of("X-Forwarded-For", "10.0.0.1")).status()).isEqualTo(401);
            try (WsTestClient v1 = WsTestClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws"), Map.of(), List.of("squall.v1"))) {
                v1.send("{\"id\":1,\"type\":\"connect\",\"token\":\"" + forged + "\"}");
                assertThat(v1.takeText()).contains("unauthorized");
                assertThat(v1.awaitClose()).isEqualTo(3500);
            }
            server.terminate();
            assertThat(server.exitCode(30)).isZero();
            String log = server.output();
            assertThat(log).as("the log was written at debug level and below").contains("DEBUG dev.squall");
            for (String each : List.of(admitted, otherChannel, forged)) {
                assertThat(log).doesNotContain(signatureOf(each));
            }
            assertThat(log).doesNotContain(SECRET);
        }
    }

    private static String log(ServerProcess server) {
        return server.output();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
