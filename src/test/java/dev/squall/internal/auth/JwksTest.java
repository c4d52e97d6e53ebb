package dev.squall.internal.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.sun.net.httpserver.HttpServer;
import dev.squall.internal.auth.TokenRejected.Reason;
import dev.squall.support.Tokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@code --token-jwks-url}: keys from a real JWKS endpoint (the JDK's HTTP server on a free port, counting what it is
 * asked): fetched when first needed, fetched again for a new key id, never more often than the rate limit however
 * many made-up key ids arrive, and an endpoint that is down refuses tokens as keys unavailable, not as bad ones.
 */
@Timeout(120)
class JwksTest {

    private static final RSAKey R1 = Tokens.rsa("r1");
    private static final RSAKey R2 = Tokens.rsa("r2");
    private static final ECKey E1 = Tokens.ec(Curve.P_256, "e1");

    private HttpServer server;
    private final AtomicInteger fetches = new AtomicInteger();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicReference<String> body = new AtomicReference<>();

    @BeforeEach
    void serve() throws IOException {
        serve(R1);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/jwks.json", exchange -> {
            fetches.incrementAndGet();
            byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.get(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** The endpoint serves these keys' public halves from now on. */
    private void serve(JWK... keys) {
        body.set(new JWKSet(List.of(keys)).toString(true));
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    private TokenVerifier verifier(String url) {
        TokenVerifier verifier = TokenVerifier.create(new TokenSettings(null, null, url, null, null), field -> "--token-jwks-url");
        assertThat(verifier).isNotNull();
        return verifier;
    }

    private static JWTClaimsSet claims() {
        return Tokens.claims("ada", Instant.now(), 60).build();
    }

    private static String rs256(RSAKey key) {
        return Tokens.rsa(JWSAlgorithm.RS256, key, claims());
    }

    private static TokenRejected rejected(TokenVerifier verifier, String token) {
        TokenRejected rejected = catchThrowableOfType(TokenRejected.class, () -> verifier.verify(token));
        assertThat(rejected).as("refused").isNotNull();
        assertThat(Tokens.quotes(rejected.getMessage(), token)).isFalse();
        return rejected;
    }

    @Test
    void keys_are_fetched_when_first_needed_and_then_cached() throws Exception {
        TokenVerifier verifier = verifier(url());
        assertThat(fetches.get()).as("nothing fetched at start").isZero();
        for (int i = 0; i < 20; i++) assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        assertThat(fetches.get()).isEqualTo(1);
        assertThat(verifier.describe()).contains("the keys of the JWKS at " + url(), "RS256", "ES256").doesNotContain("HS256");
    }

    @Test
    void a_new_key_id_is_fetched_after_a_rotation() throws Exception {
        TokenVerifier verifier = verifier(url());
        assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        serve(R1, R2);
        assertThat(verifier.verify(rs256(R2)).identity().user()).isEqualTo("ada");
        assertThat(fetches.get()).isEqualTo(2);
        assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        assertThat(fetches.get()).isEqualTo(2);
    }

    @Test
    void a_flood_of_unknown_key_ids_fetches_no_more_often_than_the_rate_limit_allows() throws Exception {
        TokenVerifier verifier = verifier(url());
        long start = System.nanoTime();
        assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        RSAKey forger = Tokens.rsa("forger");
        for (int i = 0; i < 300; i++) {
            RSAKey made = new RSAKey.Builder(forger).keyID(UUID.randomUUID().toString()).build();
            assertThat(rejected(verifier, rs256(made)).reason()).isEqualTo(Reason.BAD_SIGNATURE);
        }
        assertThat(verifier.verify(rs256(R1)).identity().user()).as("the known key still works").isEqualTo("ada");
        // Two fetches per interval (one for expiry, one for a rotation): however long a busy machine took, no more.
        long intervals = 1 + Duration.ofNanos(System.nanoTime() - start).dividedBy(Jwks.MIN_FETCH_INTERVAL);
        assertThat(fetches.get()).isBetween(1, (int) (2 * intervals));
    }

    @Test
    void an_endpoint_that_is_down_refuses_tokens_as_keys_unavailable() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        TokenVerifier verifier = verifier("http://127.0.0.1:" + closed + "/jwks.json");
        for (int i = 0; i < 5; i++) {
            TokenRejected rejected = rejected(verifier, rs256(R1));
            assertThat(rejected.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
            assertThat(rejected.reason().retryable()).isTrue();
            assertThat(rejected.getMessage()).contains("try again later").doesNotContain(String.valueOf(closed));
        }
    }

    @Test
    void an_endpoint_that_answers_an_error_or_no_key_set_refuses_tokens_as_keys_unavailable() {
        status.set(503);
        assertThat(rejected(verifier(url()), rs256(R1)).reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        status.set(200);
        body.set("<html>not a key set</html>");
        assertThat(rejected(verifier(url()), rs256(R1)).reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(fetches.get()).isEqualTo(2);
    }

    @Test
    void keys_fetched_before_the_endpoint_went_down_still_check_tokens() throws Exception {
        TokenVerifier verifier = verifier(url());
        assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        server.stop(0);
        assertThat(verifier.verify(rs256(R1)).identity().user()).isEqualTo("ada");
        assertThat(rejected(verifier, rs256(R2)).reason()).as("an unknown key id, the endpoint down: the cached set has no such key")
                .isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void ec_keys_are_used_and_the_key_sets_use_and_alg_are_respected() throws Exception {
        RSAKey encryptionOnly = new RSAKey.Builder(R2).keyUse(KeyUse.ENCRYPTION).build();
        RSAKey ps256Only = new RSAKey.Builder(Tokens.rsa("ps")).algorithm(JWSAlgorithm.PS256).build();
        serve(E1, encryptionOnly, ps256Only);
        TokenVerifier verifier = verifier(url());
        assertThat(verifier.verify(Tokens.ec(JWSAlgorithm.ES256, E1, claims())).identity().user()).isEqualTo("ada");
        assertThat(rejected(verifier, rs256(R2)).reason()).as("a key for encryption only").isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(verifier.verify(Tokens.rsa(JWSAlgorithm.PS256, ps256Only, claims())).identity().user()).isEqualTo("ada");
        assertThat(rejected(verifier, Tokens.rsa(JWSAlgorithm.RS256, ps256Only, claims())).reason()).as("its alg is PS256")
                .isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void an_hmac_key_in_the_set_is_never_used_and_hs256_is_refused_before_any_fetch() throws Exception {
        String secret = "0123456789abcdef0123456789abcdef";
        serve(R1, new OctetSequenceKey.Builder(secret.getBytes(StandardCharsets.UTF_8)).keyID("h1").build());
        TokenVerifier verifier = verifier(url());
        String token = Tokens.hmac(JWSAlgorithm.HS256, secret, claims());
        assertThat(rejected(verifier, token).reason()).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(fetches.get()).isZero();
    }
}
