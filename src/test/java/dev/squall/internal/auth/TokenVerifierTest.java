package dev.squall.internal.auth;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectEncrypter;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import dev.squall.Identity;
import dev.squall.internal.auth.TokenRejected.Reason;
import dev.squall.support.Tokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Tokens against each kind of key: what a good one grants, and each reason a bad one is refused, with a message that
 * never quotes it. Keys are real (nimbus's generators; RSA once per class), the clock is fixed so that the 1 s of
 * leeway is tested to the millisecond.
 */
@Timeout(60)
class TokenVerifierTest {

    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
    /** 32 bytes: HS256 only. */
    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    /** 64 bytes: HS256, HS384 and HS512. */
    private static final String LONG_SECRET = SECRET + SECRET;
    private static final RSAKey RSA = Tokens.rsa("r1");
    private static final ECKey EC = Tokens.ec(Curve.P_256, "e1");

    @TempDir
    Path dir;

    private static TokenVerifier verifier(TokenSettings settings) {
        return verifier(settings, NOW);
    }

    private static TokenVerifier verifier(TokenSettings settings, Instant now) {
        TokenVerifier verifier = TokenVerifier.create(settings, field -> "--" + field, Clock.fixed(now, ZoneOffset.UTC));
        assertThat(verifier).isNotNull();
        return verifier;
    }

    private static TokenVerifier hmac() {
        return verifier(new TokenSettings(SECRET, null, null, null, null));
    }

    private TokenVerifier rsaPem() throws JOSEException {
        return verifier(new TokenSettings(null, Tokens.pem(RSA.toRSAPublicKey(), dir.resolve("rsa.pem")), null, null, null));
    }

    private static JWTClaimsSet.Builder claims() {
        return Tokens.claims("ada", NOW, 60);
    }

    private static String hs256(JWTClaimsSet claims) {
        return Tokens.hmac(JWSAlgorithm.HS256, SECRET, claims);
    }

    /** The refusal of {@code token}, whose message and string form quote nothing of it. */
    private static TokenRejected rejected(TokenVerifier verifier, String token) {
        TokenRejected rejected = catchThrowableOfType(TokenRejected.class, () -> verifier.verify(token));
        assertThat(rejected).as("refused").isNotNull();
        assertThat(Tokens.quotes(rejected.getMessage(), token)).as("'%s' quotes the token", rejected.getMessage()).isFalse();
        assertThat(Tokens.quotes(rejected.toString(), token)).isFalse();
        assertThat(rejected.getStackTrace()).as("no stack for a refusal").isEmpty();
        return rejected;
    }

    private static Reason reason(TokenVerifier verifier, String token) {
        return rejected(verifier, token).reason();
    }

    @Test
    void a_good_token_grants_its_user_info_channels_and_expiry() throws Exception {
        VerifiedToken token = hmac().verify(hs256(claims()
                .claim("info", Map.of("name", "Ada"))
                .claim("channels", List.of("news", "chat:*"))
                .issueTime(Date.from(NOW)).build()));
        assertThat(token.identity()).isEqualTo(Identity.of("ada", "{\"name\":\"Ada\"}"));
        assertThat(token.channels()).containsExactly("news", "chat:*");
        assertThat(token.channel()).isNull();
        assertThat(token.isSubscriptionToken()).isFalse();
        assertThat(token.expiresAt()).isEqualTo(NOW.plusSeconds(60));
    }

    @Test
    void a_token_without_exp_never_expires_and_one_with_an_empty_sub_is_anonymous() throws Exception {
        VerifiedToken token = verifier(new TokenSettings(SECRET, null, null, null, null), NOW.plusSeconds(86_400 * 3650))
                .verify(hs256(new JWTClaimsSet.Builder().subject("").build()));
        assertThat(token.expiresAt()).isNull();
        assertThat(token.identity().isAnonymous()).isTrue();
        assertThat(token.channels()).isEmpty();
    }

    @Test
    void a_forged_signature_is_a_bad_signature() {
        TokenVerifier verifier = hmac();
        assertThat(reason(verifier, Tokens.hmac(JWSAlgorithm.HS256, "another secret of thirty-two byte", claims().build())))
                .isEqualTo(Reason.BAD_SIGNATURE);
        String good = hs256(claims().build());
        String[] parts = good.split("\\.");
        String admin = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"sub\":\"admin\",\"channels\":[\"*\"]}").getBytes(StandardCharsets.UTF_8));
        assertThat(reason(verifier, parts[0] + "." + admin + "." + parts[2])).as("claims swapped under a good signature")
                .isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(verifier, parts[0] + "." + parts[1] + "." + parts[2].substring(0, 20))).as("a cut signature")
                .isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(verifier, parts[0] + "." + parts[1] + ".")).as("no signature: not a JWS").isEqualTo(Reason.MALFORMED);
    }

    @Test
    void alg_none_and_encrypted_tokens_are_the_wrong_algorithm() throws JOSEException {
        TokenVerifier verifier = hmac();
        String unsecured = new PlainJWT(claims().build()).serialize();
        assertThat(reason(verifier, unsecured)).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(reason(verifier, unsecured + "c2lnbmF0dXJl")).as("alg none with a signature: no JWT").isEqualTo(Reason.MALFORMED);
        String noneUpperCase = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"NONE\"}".getBytes(StandardCharsets.UTF_8)) + "." + hs256(claims().build()).split("\\.")[1] + ".c2lnbmF0dXJl";
        assertThat(reason(verifier, noneUpperCase)).isEqualTo(Reason.WRONG_ALGORITHM);
        EncryptedJWT encrypted = new EncryptedJWT(new JWEHeader(JWEAlgorithm.DIR, EncryptionMethod.A256GCM), claims().build());
        encrypted.encrypt(new DirectEncrypter(SECRET.getBytes(StandardCharsets.UTF_8)));
        assertThat(reason(verifier, encrypted.serialize())).isEqualTo(Reason.WRONG_ALGORITHM);
    }

    @Test
    void an_hs256_token_against_an_rsa_key_is_the_wrong_algorithm_even_when_keyed_with_the_public_key() throws Exception {
        TokenVerifier verifier = rsaPem();
        assertThat(reason(verifier, hs256(claims().build()))).isEqualTo(Reason.WRONG_ALGORITHM);
        // The classic confusion: the RSA public key's bytes, which anyone has, used as an HMAC secret.
        String confused = Tokens.sign(new JWSHeader(JWSAlgorithm.HS256), new MACSigner(RSA.toRSAPublicKey().getEncoded()),
                claims().build().toPayload());
        assertThat(reason(verifier, confused)).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(verifier.verify(Tokens.rsa(JWSAlgorithm.RS256, RSA, claims().build())).identity().user()).isEqualTo("ada");
    }

    @Test
    void an_rs256_or_es256_token_against_an_hmac_secret_is_the_wrong_algorithm() {
        assertThat(reason(hmac(), Tokens.rsa(JWSAlgorithm.RS256, RSA, claims().build()))).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(reason(hmac(), Tokens.ec(JWSAlgorithm.ES256, EC, claims().build()))).isEqualTo(Reason.WRONG_ALGORITHM);
    }

    @Test
    void hs384_and_hs512_need_a_secret_as_long_as_their_hash() throws Exception {
        assertThat(reason(hmac(), Tokens.hmac(JWSAlgorithm.HS512, LONG_SECRET, claims().build()))).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(rejected(hmac(), Tokens.hmac(JWSAlgorithm.HS384, LONG_SECRET, claims().build())).getMessage()).contains("HS256");
        TokenVerifier verifier = verifier(new TokenSettings(LONG_SECRET, null, null, null, null));
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512)) {
            assertThat(verifier.verify(Tokens.hmac(alg, LONG_SECRET, claims().build())).identity().user()).as(alg.getName()).isEqualTo("ada");
        }
    }

    @Test
    void an_expired_token_is_refused_past_one_second_of_leeway_and_accepted_within_it() throws Exception {
        String token = hs256(Tokens.claims("ada", NOW, 0).build());
        TokenSettings settings = new TokenSettings(SECRET, null, null, null, null);
        assertThat(verifier(settings, NOW.plusMillis(999)).verify(token).expiresAt()).isEqualTo(NOW);
        assertThat(reason(verifier(settings, NOW.plusMillis(1000)), token)).isEqualTo(Reason.EXPIRED);
        assertThat(reason(verifier(settings, NOW.plusSeconds(3600)), token)).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void a_token_before_its_nbf_is_not_yet_valid_past_one_second_of_leeway() throws Exception {
        String token = hs256(claims().notBeforeTime(Date.from(NOW.plusSeconds(1))).build());
        TokenSettings settings = new TokenSettings(SECRET, null, null, null, null);
        assertThat(reason(verifier(settings, NOW), token)).isEqualTo(Reason.NOT_YET_VALID);
        assertThat(verifier(settings, NOW.plusMillis(1)).verify(token).identity().user()).isEqualTo("ada");
        assertThat(reason(verifier(settings, NOW.minusSeconds(30)), token)).isEqualTo(Reason.NOT_YET_VALID);
    }

    @Test
    void with_an_audience_the_tokens_aud_must_contain_it() throws Exception {
        TokenVerifier verifier = verifier(new TokenSettings(SECRET, null, null, "squall", null));
        assertThat(reason(verifier, hs256(claims().audience("other").build()))).isEqualTo(Reason.WRONG_AUDIENCE);
        assertThat(reason(verifier, hs256(claims().build()))).as("no aud").isEqualTo(Reason.WRONG_AUDIENCE);
        assertThat(verifier.verify(hs256(claims().audience(List.of("other", "squall")).build())).identity().user()).isEqualTo("ada");
        assertThat(verifier.verify(hs256(claims().audience("squall").build())).identity().user()).isEqualTo("ada");
        assertThat(hmac().verify(hs256(claims().audience("anything").build())).identity().user()).as("none configured").isEqualTo("ada");
    }

    @Test
    void with_an_issuer_the_tokens_iss_must_equal_it() throws Exception {
        TokenVerifier verifier = verifier(new TokenSettings(SECRET, null, null, null, "https://auth.example"));
        assertThat(reason(verifier, hs256(claims().issuer("https://evil.example").build()))).isEqualTo(Reason.WRONG_ISSUER);
        assertThat(reason(verifier, hs256(claims().build()))).as("no iss").isEqualTo(Reason.WRONG_ISSUER);
        assertThat(verifier.verify(hs256(claims().issuer("https://auth.example").build())).identity().user()).isEqualTo("ada");
    }

    @Test
    void a_token_without_sub_is_missing_its_subject() {
        assertThat(reason(hmac(), hs256(new JWTClaimsSet.Builder().expirationTime(Date.from(NOW.plusSeconds(60))).build())))
                .isEqualTo(Reason.MISSING_SUBJECT);
        assertThat(reason(hmac(), hs256(claims().subject(null).build()))).as("sub: null").isEqualTo(Reason.MISSING_SUBJECT);
    }

    @Test
    void info_that_is_not_a_json_object_or_too_large_is_a_bad_claim() {
        assertThat(reason(hmac(), hs256(claims().claim("info", "Ada").build()))).isEqualTo(Reason.BAD_CLAIM);
        assertThat(reason(hmac(), hs256(claims().claim("info", List.of("Ada")).build()))).isEqualTo(Reason.BAD_CLAIM);
        TokenRejected large = rejected(hmac(), hs256(claims().claim("info", Map.of("bio", "x".repeat(Identity.MAX_INFO_LENGTH))).build()));
        assertThat(large.reason()).isEqualTo(Reason.BAD_CLAIM);
        assertThat(large.getMessage()).contains("info", String.valueOf(Identity.MAX_INFO_LENGTH)).doesNotContain("xxxx");
        assertThat(reason(hmac(), hs256(claims().subject("u".repeat(Identity.MAX_USER_LENGTH + 1)).build()))).isEqualTo(Reason.BAD_CLAIM);
    }

    @Test
    void channels_that_are_not_an_array_of_names_and_patterns_are_a_bad_claim() {
        List<Object> bad = new ArrayList<>();
        bad.add("news");
        bad.add(null);
        for (Object channels : List.of("news", List.of("news", 7), bad, List.of(""), List.of("a*b"), List.of("**"), Map.of("a", 1))) {
            assertThat(reason(hmac(), hs256(claims().claim("channels", channels).build()))).as("channels %s", channels)
                    .isEqualTo(Reason.BAD_CLAIM);
        }
        for (Object channel : List.of(7, "", List.of("news"))) {
            assertThat(reason(hmac(), hs256(claims().claim("channel", channel).build()))).as("channel %s", channel)
                    .isEqualTo(Reason.BAD_CLAIM);
        }
    }

    @Test
    void a_token_over_8192_characters_is_too_large_before_it_is_parsed() {
        assertThat(reason(hmac(), "a".repeat(TokenVerifier.MAX_TOKEN_LENGTH + 1))).isEqualTo(Reason.TOO_LARGE);
        assertThat(reason(hmac(), "a".repeat(TokenVerifier.MAX_TOKEN_LENGTH))).as("at the bound: parsed").isEqualTo(Reason.MALFORMED);
        String large = hs256(claims().claim("info", Map.of("bio", "x".repeat(4000))).claim("channels", List.of("y".repeat(2500))).build());
        assertThat(large.length()).isGreaterThan(TokenVerifier.MAX_TOKEN_LENGTH);
        assertThat(reason(hmac(), large)).as("even a good one").isEqualTo(Reason.TOO_LARGE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.e30",
            "e30.e30.e30", "eyJ9.e30.sig", "bm90IGpzb24.e30.sig", "eyJhbGciOjF9.e30.sig", "eyJhbGciOiJIUzI1NiJ9.!!!.sig"})
    void what_is_not_a_signed_jwt_is_malformed(String token) {
        assertThat(reason(hmac(), token)).isEqualTo(Reason.MALFORMED);
    }

    @Test
    void a_well_signed_payload_that_is_not_a_claims_set_or_a_jwt_typ_is_malformed() throws Exception {
        MACSigner signer = new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8));
        assertThat(reason(hmac(), Tokens.sign(new JWSHeader(JWSAlgorithm.HS256), signer, new Payload("not json"))))
                .isEqualTo(Reason.MALFORMED);
        assertThat(reason(hmac(), Tokens.sign(new JWSHeader(JWSAlgorithm.HS256), signer, new Payload("{\"sub\":\"a\",\"exp\":\"soon\"}"))))
                .as("exp not a number").isEqualTo(Reason.MALFORMED);
        assertThat(reason(hmac(), Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("secevent+jwt")).build(),
                signer, claims().build().toPayload()))).as("another typ").isEqualTo(Reason.MALFORMED);
        assertThat(hmac().verify(Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(),
                signer, claims().build().toPayload())).identity().user()).isEqualTo("ada");
    }

    @Test
    void covers_exact_names_prefix_patterns_and_a_subscription_tokens_channel() throws Exception {
        VerifiedToken token = hmac().verify(hs256(claims().claim("channels", List.of("news", "chat:*", "user:ada")).build()));
        assertThat(token.covers("news")).isTrue();
        assertThat(token.covers("chat:room1")).isTrue();
        assertThat(token.covers("chat:")).isTrue();
        assertThat(token.covers("user:ada")).isTrue();
        assertThat(token.covers("news2")).as("an exact name is no prefix").isFalse();
        assertThat(token.covers("chat")).isFalse();
        assertThat(token.covers("user:bob")).isFalse();
        assertThat(token.covers("private:x")).isFalse();

        VerifiedToken everything = hmac().verify(hs256(claims().claim("channels", List.of("*")).build()));
        assertThat(everything.covers("anything:at.all")).isTrue();

        VerifiedToken subscription = hmac().verify(hs256(claims().claim("channel", "room:42").build()));
        assertThat(subscription.isSubscriptionToken()).isTrue();
        assertThat(subscription.channel()).isEqualTo("room:42");
        assertThat(subscription.covers("room:42")).isTrue();
        assertThat(subscription.covers("room:4")).isFalse();
        assertThat(subscription.covers("room:420")).isFalse();

        VerifiedToken none = hmac().verify(hs256(claims().build()));
        assertThat(none.covers("news")).isFalse();
    }

    @Test
    void a_secret_and_a_public_key_together_accept_each_ones_algorithms_and_no_other() throws Exception {
        TokenVerifier verifier = verifier(new TokenSettings(SECRET, Tokens.pem(RSA.toRSAPublicKey(), dir.resolve("rsa.pem")), null, null, null));
        assertThat(verifier.verify(hs256(claims().build())).identity().user()).isEqualTo("ada");
        assertThat(verifier.verify(Tokens.rsa(JWSAlgorithm.PS256, RSA, claims().build())).identity().user()).isEqualTo("ada");
        assertThat(reason(verifier, Tokens.ec(JWSAlgorithm.ES256, EC, claims().build()))).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(verifier.describe()).contains("HMAC secret", "RSA public key").doesNotContain(SECRET);
    }

    @Test
    void one_verifier_serves_many_threads_at_once() throws Exception {
        TokenVerifier verifier = rsaPem();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> users = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String user = "user" + i;
                String token = i % 2 == 0 ? Tokens.rsa(JWSAlgorithm.RS256, RSA, Tokens.claims(user, NOW, 60).build())
                        : Tokens.hmac(JWSAlgorithm.HS256, SECRET, Tokens.claims(user, NOW, 60).build());
                users.add(threads.submit(() -> {
                    try {
                        return verifier.verify(token).identity().user();
                    } catch (TokenRejected e) {
                        return e.reason().name();
                    }
                }));
            }
            for (int i = 0; i < users.size(); i++) {
                assertThat(users.get(i).get()).isEqualTo(i % 2 == 0 ? "user" + i : Reason.WRONG_ALGORITHM.name());
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void no_key_is_no_verifier() {
        assertThat(TokenVerifier.create(TokenSettings.NONE)).isNull();
        assertThat(TokenSettings.NONE.anyKey()).isFalse();
    }

    @Test
    void a_short_secret_is_refused_naming_the_setting_and_never_quoting_it() {
        String secret = "a secret of 31 bytes, too short";
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(secret, null, null, null, null), field -> "--" + field))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tokenHmacSecret must be at least 32 bytes, got 31")
                .message().doesNotContain(secret);
        // Bytes, not characters: 16 two-byte characters are 32 bytes.
        assertThat(TokenVerifier.create(new TokenSettings("é".repeat(16), null, null, null, null))).isNotNull();
        assertThat(new TokenSettings(SECRET, null, null, null, null).toString()).doesNotContain(SECRET).contains("***");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://auth.example/jwks.json", "not a url", "https://", "/jwks.json", "https//auth.example", ""})
    void a_jwks_url_that_is_not_http_is_refused_naming_the_setting(String url) {
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(null, null, url, null, null), field -> "--" + field))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--tokenJwksUrl must be an https://");
    }

    @Test
    void settings_that_cannot_work_together_are_refused_naming_them() {
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(null, null, null, "squall", null)))
                .hasMessage("tokenAudience is set, but no key to check tokens with: set tokenHmacSecret, tokenPublicKey or tokenJwksUrl");
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(null, null, null, null, "https://auth.example")))
                .hasMessageStartingWith("tokenIssuer is set, but no key");
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(null, dir.resolve("k.pem"), "https://auth.example/jwks", null, null)))
                .hasMessageStartingWith("set one of tokenPublicKey and tokenJwksUrl, not both");
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(SECRET, null, null, " ", null)))
                .hasMessageStartingWith("tokenAudience must not be empty");
        assertThatThrownBy(() -> TokenVerifier.create(new TokenSettings(SECRET, null, null, null, "")))
                .hasMessageStartingWith("tokenIssuer must not be empty");
    }
}
