package dev.squall.embedding;

import dev.squall.SquallPlugin;
import io.javalin.Javalin;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plugin's limits are checked at create() like its other settings, each refusal naming its field. */
class LimitSettingsTest {

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
