package dev.squall.server;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.squall.support.RawHttp;
import dev.squall.support.TestServer;
import dev.squall.support.Tokens;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The token flags reach the routes of a real standalone server: parsed as the command line parses them, a key file's
 * tokens admit and their absence refuses, and the start-up line says who may connect without showing a secret.
 */
@Timeout(60)
class TokenFlagsTest {

    private static final RSAKey RSA = Tokens.rsa("r1");
    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    @TempDir
    Path dir;

    /** The settings {@code args} give, as {@link Main} reads them, on a free loopback port. */
    private static SquallConfig flags(Map<String, String> env, String... args) {
        Main main = new Main();
        Main.commandLine(main, env, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())).parseArgs(args);
        return main.toConfig().toBuilder().host("127.0.0.1").port(0).stopTimeout(Duration.ofSeconds(2))
                .drainWindow(Duration.ZERO).build();
    }

    private static String rs256(String user, String... channels) {
        return Tokens.rsa(JWSAlgorithm.RS256, RSA, Tokens.claims(user, Instant.now(), 3600).claim("channels", List.of(channels)).build());
    }

    @Test
    void a_public_key_file_admits_its_tokens_and_the_routes_refuse_connections_without_one() throws Exception {
        Path key = Tokens.pem(RSA.toRSAPublicKey(), dir.resolve("public.pem"));
        try (TestServer server = TestServer.start(flags(Map.of(), "--token-public-key", key.toString()))) {
            assertThat(RawHttp.get(server.port(), "/ws", UPGRADE).status()).as("no token").isEqualTo(401);
            assertThat(RawHttp.get(server.port(), "/ws/news", Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                    "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
                    "Authorization", "Bearer " + rs256("ada", "sports"))).status()).as("a token for another channel").isEqualTo(403);
            WsTestClient news = WsTestClient.connect(URI.create("ws://127.0.0.1:" + server.port() + "/ws/news?token=" + rs256("ada", "news")));
            try {
                assertThat(news.takeText()).contains("\"channel\":\"news\"");
            } finally {
                news.close();
            }
            assertThat(server.app.plugin().describeConnecting()).startsWith("identity required: tokens signed for " + key);
        }
    }

    @Test
    void a_secret_from_the_environment_admits_its_tokens_and_is_not_in_the_start_up_description() throws Exception {
        try (TestServer server = TestServer.start(flags(Map.of("SQUALL_TOKEN_HMAC_SECRET", SECRET), "--token-audience", "squall"))) {
            String token = Tokens.hmac(JWSAlgorithm.HS256, SECRET, Tokens.claims("ada", Instant.now(), 3600).audience("squall").build());
            WsTestClient welcome = WsTestClient.connect(URI.create("ws://127.0.0.1:" + server.port() + "/ws?token=" + token));
            try {
                assertThat(welcome.takeText()).isEqualTo("Welcome");
            } finally {
                welcome.close();
            }
            String wrongAudience = Tokens.hmac(JWSAlgorithm.HS256, SECRET, Tokens.claims("ada", Instant.now(), 3600).build());
            assertThat(RawHttp.get(server.port(), "/ws?token=" + wrongAudience, UPGRADE).status()).isEqualTo(401);
            assertThat(server.app.plugin().describeConnecting()).contains("identity required", "audience squall").doesNotContain(SECRET);
        }
    }
}
