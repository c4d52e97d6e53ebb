package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Metrics;
import dev.squall.internal.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The limits as documented, against the code: every limit of {@code squall_limited_total} has its flag and metric
 * in the README's Limits section, the close codes the limits use are in {@code asyncapi.yaml} and on {@code /ws} in
 * {@code openapi.yaml}, and the routes that take connections document 429 and 503 with {@code Retry-After}.
 */
class LimitsDocTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static String readmeSection(String heading) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("\n## " + heading + "\n");
        assertThat(start).as("README section " + heading).isNotNegative();
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    @Test
    void the_readme_lists_every_limit_with_its_flag_default_and_metric() throws Exception {
        String limits = readmeSection("Limits");
        for (Metrics.Limit limit : Metrics.Limit.values()) {
            String label = limit.name().toLowerCase(Locale.ROOT);
            String flag = switch (limit) {
                case MESSAGES_PER_SECOND -> "--max-messages-per-second";
                case CONNECTIONS -> "--max-connections";
                case CONNECTIONS_PER_IP -> "--max-connections-per-ip";
                case CONNECTIONS_PER_USER -> "--max-connections-per-user";
                case HANDSHAKE_TIMEOUT -> "--handshake-timeout";
                case CHANNELS -> "--max-channels";
            };
            assertThat(limits).as(label).contains("| `" + flag + "` |", "squall_limited_total{limit=\"" + label + "\"}");
        }
        assertThat(limits).contains("squall_limit_connections", "squall_limit_addresses", "squall_limit_users",
                "**" + Connection.TOO_MANY_REQUESTS + "**", "**" + Connection.CONNECTION_LIMIT + "**", "**429**", "**503**",
                "`" + ErrorCode.CHANNEL_LIMIT.wire() + "`", "Retry-After: " + Admission.RETRY_AFTER_CLIENT_SECONDS,
                "Retry-After: " + Admission.RETRY_AFTER_FULL_SECONDS);
        assertThat(Files.readString(Path.of("README.zh-CN.md"))).contains("## 限制", "3013", "3504", "429", "503");
    }

    @Test
    void the_close_codes_of_the_limits_are_documented_for_both_protocols() throws Exception {
        String v1 = YAML.readTree(Path.of("asyncapi.yaml").toFile()).at("/info/description").asText();
        assertThat(v1).contains("**" + Connection.TOO_MANY_REQUESTS + "**", "**" + Connection.CONNECTION_LIMIT + "**",
                "--max-messages-per-second", "--max-connections-per-user", "`channel_limit`");
        String plain = YAML.readTree(Path.of("openapi.yaml").toFile()).at("/paths/~1ws/get/description").asText();
        assertThat(plain).contains("`" + Connection.TOO_MANY_REQUESTS + "` too many requests",
                "`" + Connection.CONNECTION_LIMIT + "` connection limit", "--handshake-timeout");
    }

    @Test
    void every_route_that_takes_connections_documents_429_and_503_with_retry_after() throws Exception {
        JsonNode spec = YAML.readTree(Path.of("openapi.yaml").toFile());
        for (String path : new String[]{"/ws", "/ws/{channel}", "/sse/{channel}"}) {
            JsonNode responses = spec.path("paths").path(path).path("get").path("responses");
            for (String status : new String[]{"429", "503"}) {
                JsonNode response = responses.path(status);
                if (response.has("$ref")) response = spec.at(response.path("$ref").asText().substring(1));
                assertThat(response.path("headers").has("Retry-After")).as(path + " " + status).isTrue();
            }
        }
    }
}
