package dev.squall.docs;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.squall.internal.auth.TokenSettings;
import dev.squall.internal.auth.TokenVerifier;
import dev.squall.internal.auth.VerifiedToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's recipes for issuing tokens mint tokens that Squall's own verifier accepts, with the claims they say:
 * the Java one is this test's code (kept equal to the README by {@link DocsSnippetsTest}), the shell one is run from
 * the README itself with bash and openssl.
 */
@Timeout(60)
class TokenRecipesTest {

    private static final String SECRET = "a-readme-secret-that-is-at-least-32-bytes";

    /** The app's user, as the recipe has it. */
    record User(String id, String name) {
    }

    @Test
    void the_java_recipe_mints_a_token_for_the_user_with_its_info_and_channels() throws Exception {
        User user = new User("42", "Ada");
        String secret = SECRET;
        // docs:mint-token-java:start
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject(user.id())                                               // "42"
                .expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(10))))
                .claim("info", Map.of("name", user.name()))
                .claim("channels", List.of("news", "account:" + user.id(), "chat:*"))
                .build();
        SignedJWT token = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        token.sign(new MACSigner(secret));                                      // the same secret as --token-hmac-secret
        String jwt = token.serialize();
        // docs:mint-token-java:end

        VerifiedToken verified = verifier().verify(jwt);
        assertThat(verified.identity().user()).isEqualTo("42");
        assertThat(verified.identity().info()).isEqualTo("{\"name\":\"Ada\"}");
        assertThat(List.of("news", "account:42", "chat:room1")).allMatch(verified::covers);
        assertThat(verified.covers("account:7")).isFalse();
        assertThat(Objects.requireNonNull(verified.expiresAt())).isBetween(Instant.now().plusSeconds(590), Instant.now().plusSeconds(601));
    }

    @Test
    void the_shell_recipe_run_from_the_readme_mints_a_token_squall_accepts() throws Exception {
        Matcher block = Pattern.compile("<!-- tested: mint-token-shell -->\\n```sh\\n(.*?)```", Pattern.DOTALL)
                .matcher(Files.readString(Path.of("README.md")));
        assertThat(block.find()).as("the shell recipe in README.md").isTrue();
        ProcessBuilder bash = new ProcessBuilder("bash", "-euo", "pipefail", "-c", block.group(1));
        bash.environment().put("SQUALL_TOKEN_HMAC_SECRET", SECRET);
        Process process = bash.redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("bash's exit status").isZero();

        VerifiedToken verified = verifier().verify(output);
        assertThat(verified.identity().user()).isEqualTo("42");
        assertThat(verified.covers("news")).isTrue();
        assertThat(verified.covers("account:42")).isTrue();
        assertThat(verified.covers("account:7")).isFalse();
        assertThat(Objects.requireNonNull(verified.expiresAt())).isAfter(Instant.now().plusSeconds(500));
    }

    private static TokenVerifier verifier() {
        return Objects.requireNonNull(TokenVerifier.create(new TokenSettings(SECRET, null, null, null, null)));
    }
}
