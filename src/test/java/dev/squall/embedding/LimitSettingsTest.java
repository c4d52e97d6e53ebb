package dev.squall.embedding;

import dev.squall.SquallPlugin;
import io.javalin.Javalin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.Socket;
import java.time.Duration;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The plugin's limits are checked at create() like its other settings, each refusal naming its field; and the
 * handshake deadline, which only a connector can enforce, reaches the connector Javalin makes for an app.
 */
class LimitSettingsTest {

    @Test
    @Timeout(30)
    void the_handshake_deadline_cuts_a_silent_connection_on_an_apps_own_javalin() throws Exception {
        Javalin app = Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> {
            cfg.handshakeTimeout = Duration.ofMillis(500);
            cfg.drainWindow = Duration.ZERO;
        })))
                .start("127.0.0.1", 0);
        try (Socket silent = new Socket("127.0.0.1", app.port())) {
            silent.setSoTimeout(20_000);
            long start = System.nanoTime();
            assertThat(silent.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        } finally {
            app.stop();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "maxMessagesPerSecond  | SquallPlugin.Config.maxMessagesPerSecond must be 0 (no limit) or more, got -1",
            "maxConnections        | SquallPlugin.Config.maxConnections must be 0 (no limit) or more, got -1",
            "maxConnectionsPerIp   | SquallPlugin.Config.maxConnectionsPerIp must be 0 (no limit) or more, got -1",
            "maxConnectionsPerUser | SquallPlugin.Config.maxConnectionsPerUser must be 0 (no limit) or more, got -1",
            "maxChannels           | SquallPlugin.Config.maxChannels must be 0 (no limit) or more, got -1",
            "handshakeTimeout      | SquallPlugin.Config.handshakeTimeout must be from 0 (off) to 3600 seconds, got PT-1S",
    })
    void a_negative_limit_fails_create_naming_the_field(String field, String message) {
        Consumer<SquallPlugin.Config> negative = switch (field) {
            case "maxMessagesPerSecond" -> cfg -> cfg.maxMessagesPerSecond = -1;
            case "maxConnections" -> cfg -> cfg.maxConnections = -1;
            case "maxConnectionsPerIp" -> cfg -> cfg.maxConnectionsPerIp = -1;
            case "maxConnectionsPerUser" -> cfg -> cfg.maxConnectionsPerUser = -1;
            case "maxChannels" -> cfg -> cfg.maxChannels = -1;
            default -> cfg -> cfg.handshakeTimeout = Duration.ofSeconds(-1);
        };
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(negative))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }
}
