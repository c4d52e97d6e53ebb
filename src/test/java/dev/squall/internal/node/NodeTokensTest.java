package dev.squall.internal.node;

import com.nimbusds.jose.JWSAlgorithm;
import dev.squall.Internals;
import dev.squall.SquallPlugin;
import dev.squall.internal.auth.TokenSettings;
import dev.squall.internal.auth.TokenVerifier;
import dev.squall.support.Tokens;
import io.javalin.Javalin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The plugin's token settings reach the node, which makes its verifier once when the plugin is registered (in its
 * {@code Access}): a key that cannot be used fails {@code Javalin.create()} naming the field, as every other bad
 * setting does.
 */
@Timeout(60)
class NodeTokensTest {

    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    private static SquallPlugin registered(Consumer<SquallPlugin.Config> config) {
        SquallPlugin plugin = new SquallPlugin(config);
        Javalin.create(javalin -> javalin.registerPlugin(plugin));
        return plugin;
    }

    @Test
    void without_a_key_there_is_no_verifier() {
        Node node = Internals.node(registered(cfg -> { }));
        assertThat(node.access().tokens()).isNull();
        assertThat(node.settings().auth().tokens()).isEqualTo(TokenSettings.NONE);
        assertThat(node.settings().auth().tokenCookie()).isNull();
    }

    @Test
    void the_settings_reach_the_node_and_its_verifier_checks_tokens() throws Exception {
        Node node = Internals.node(registered(cfg -> {
            cfg.tokenHmacSecret = SECRET;
            cfg.tokenAudience = "squall";
            cfg.tokenIssuer = "https://auth.example";
            cfg.tokenCookie = "squall_token";
        }));
        assertThat(node.settings().auth().tokens()).isEqualTo(new TokenSettings(SECRET, null, null, "squall", "https://auth.example"));
        assertThat(node.settings().auth().tokenCookie()).isEqualTo("squall_token");
        assertThat(node.settings().toString()).doesNotContain(SECRET);
        TokenVerifier verifier = node.access().tokens();
        assertThat(verifier).isNotNull();
        String token = Tokens.hmac(JWSAlgorithm.HS256, SECRET,
                Tokens.claims("ada", Instant.now(), 60).audience("squall").issuer("https://auth.example").build());
        assertThat(verifier.verify(token).identity().user()).isEqualTo("ada");
        assertThat(verifier.describe()).isEqualTo("an HMAC secret (HS256), audience squall, issuer https://auth.example");
    }

    @Test
    void a_key_that_cannot_be_used_fails_registration_naming_the_field() {
        assertThatThrownBy(() -> registered(cfg -> cfg.tokenHmacSecret = "short"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.tokenHmacSecret must be at least 32 bytes, got 5 (try: openssl rand -hex 32)");
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> registered(cfg -> cfg.tokenPublicKey = missing))
                .hasMessage("SquallPlugin.Config.tokenPublicKey " + missing + ": no such file");
        assertThatThrownBy(() -> registered(cfg -> cfg.tokenJwksUrl = "jwks.json"))
                .hasMessageStartingWith("SquallPlugin.Config.tokenJwksUrl must be an https:// (or http://) URL");
        assertThatThrownBy(() -> registered(cfg -> cfg.tokenIssuer = "https://auth.example"))
                .hasMessageStartingWith("SquallPlugin.Config.tokenIssuer is set, but no key to check tokens with: set "
                        + "SquallPlugin.Config.tokenHmacSecret, SquallPlugin.Config.tokenPublicKey or SquallPlugin.Config.tokenJwksUrl");
    }

    @Test
    void a_token_cookie_must_be_a_cookie_name() {
        assertThatThrownBy(() -> registered(cfg -> {
            cfg.tokenHmacSecret = SECRET;
            cfg.tokenCookie = "squall token";
        })).hasMessageStartingWith("SquallPlugin.Config.tokenCookie must be a cookie name");
        assertThatThrownBy(() -> registered(cfg -> {
            cfg.tokenHmacSecret = SECRET;
            cfg.tokenCookie = "";
        })).hasMessageStartingWith("SquallPlugin.Config.tokenCookie must be a cookie name");
    }
}
