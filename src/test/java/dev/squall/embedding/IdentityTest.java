package dev.squall.embedding;

import dev.squall.Identity;
import dev.squall.SquallPlugin;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who a connection is (issue 18): the value's rules, and what an open server says about its clients. */
@Timeout(30)
class IdentityTest {

    @Test
    void info_is_kept_as_compact_json_and_must_be_one_object() {
        Identity ada = Identity.of("42", "{ \"name\" : \"Ada\",\n \"roles\": [\"admin\"] }");
        assertThat(ada.user()).isEqualTo("42");
        assertThat(ada.info()).isEqualTo("{\"name\":\"Ada\",\"roles\":[\"admin\"]}");
        assertThat(ada).isEqualTo(Identity.of("42", "{\"name\":\"Ada\",\"roles\":[\"admin\"]}"));

        assertThatThrownBy(() -> Identity.of("42", "[1,2]")).hasMessageContaining("one JSON object");
        assertThatThrownBy(() -> Identity.of("42", "{\"a\":1} {\"b\":2}")).hasMessageContaining("one JSON object");
        assertThatThrownBy(() -> Identity.of("42", "{\"a\":")).hasMessageContaining("one JSON object");
        assertThatThrownBy(() -> Identity.of("42", "{\"a\":\"" + "x".repeat(Identity.MAX_INFO_LENGTH) + "\"}"))
                .hasMessageContaining("at most " + Identity.MAX_INFO_LENGTH);
        assertThatThrownBy(() -> Identity.of("u".repeat(Identity.MAX_USER_LENGTH + 1)))
                .hasMessageContaining("at most " + Identity.MAX_USER_LENGTH);
    }

    @Test
    void an_empty_user_is_anonymous_and_to_string_never_shows_info() {
        assertThat(Identity.of("")).isSameAs(Identity.ANONYMOUS);
        assertThat(Identity.ANONYMOUS.isAnonymous()).isTrue();
        assertThat(Identity.of("", "{\"a\":1}").isAnonymous()).as("info does not make a user").isTrue();
        assertThat(Identity.of("42", "{\"email\":\"ada@example.com\"}").toString())
                .contains("42").doesNotContain("ada@example.com");
    }

    @Test
    void on_an_open_server_every_connection_is_anonymous() throws Exception {
        CompletableFuture<Identity> seen = new CompletableFuture<>();
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.ws("/ws", ws -> ws.onOpen(client -> seen.complete(client.identity())));
        });
        Javalin app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        try (WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + "/ws"), Map.of(), List.of())) {
            assertThat(seen.get(10, TimeUnit.SECONDS)).isSameAs(Identity.ANONYMOUS);
        } finally {
            app.stop();
        }
    }
}
