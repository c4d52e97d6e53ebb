package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.server.App;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import io.javalin.testtools.JavalinTest;
import io.javalin.testtools.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The plain HTTP routes, through JavalinTest against the real App. */
class HttpRoutesTest {

    private static final ObjectMapper json = new ObjectMapper();

    private App app;

    @BeforeEach
    void create() {
        app = new App(TestServer.config().build());
    }

    private static String contentType(Response response) {
        return String.join(",", response.headers().get("Content-Type"));
    }

    private static JsonNode body(Response response) throws Exception {
        return json.readTree(response.body().string());
    }

    @Test
    void index_says_hello_world_in_plain_text() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/index");
            assertThat(response.code()).isEqualTo(200);
            assertThat(contentType(response)).startsWith("text/plain");
            assertThat(response.body().string()).isEqualTo("Hello world");
        });
    }

    @Test
    void an_unknown_path_is_404_json() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/no/such/thing");
            assertThat(response.code()).isEqualTo(404);
            assertThat(contentType(response)).startsWith("application/json");
            assertThat(body(response).path("error").isTextual()).isTrue();
        });
    }

    @Test
    void a_plain_get_on_ws_is_426_json_that_says_to_upgrade() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/ws");
            assertThat(response.code()).isEqualTo(426);
            assertThat(response.headers().get("Upgrade")).containsExactly("websocket");
            assertThat(body(response).path("error").asText()).contains("WebSocket");
        });
    }

    @Test
    void an_upgrade_without_sec_websocket_key_is_400_not_500() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            String request = "GET /ws HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
            try (RawWsClient raw = RawWsClient.handshake(server.port(), request.getBytes(StandardCharsets.US_ASCII), 0)) {
                assertThat(raw.status()).isEqualTo(400);
            }
        });
    }

    @Test
    void an_upgrade_with_a_garbage_key_is_400_and_an_unknown_version_426() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            String badKey = "GET /ws HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n";
            try (RawWsClient raw = RawWsClient.handshake(server.port(), badKey.getBytes(StandardCharsets.US_ASCII), 0)) {
                assertThat(raw.status()).isEqualTo(400);
            }
            String badVersion = "GET /ws HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 8\r\n\r\n";
            try (RawWsClient raw = RawWsClient.handshake(server.port(), badVersion.getBytes(StandardCharsets.US_ASCII), 0)) {
                assertThat(raw.status()).isEqualTo(426);
            }
        });
    }

    @Test
    void a_method_a_path_does_not_have_is_405_with_allow_listing_the_ones_it_has() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            RawHttp delete = RawHttp.request(server.port(), "DELETE", "/receive", Map.of(), new byte[0]);
            assertThat(delete.status()).isEqualTo(405);
            assertThat(delete.header("Allow")).isEqualTo("GET, HEAD, POST, OPTIONS");
            assertThat(delete.header("Content-Type")).startsWith("application/json");
            assertThat(json.readTree(delete.body()).path("error").asText()).isEqualTo("DELETE is not allowed on /receive; use GET or POST");
            RawHttp put = RawHttp.request(server.port(), "PUT", "/index", Map.of("Content-Type", "text/plain"), "x".getBytes(StandardCharsets.UTF_8));
            assertThat(put.status()).isEqualTo(405);
            assertThat(put.header("Allow")).isEqualTo("GET, HEAD, OPTIONS");
            RawHttp postWs = RawHttp.request(server.port(), "POST", "/ws", Map.of("Content-Type", "text/plain"), "x".getBytes(StandardCharsets.UTF_8));
            assertThat(postWs.status()).isEqualTo(405);
            assertThat(postWs.header("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        });
    }

    @Test
    void a_path_that_does_not_exist_stays_404_whatever_the_method() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            for (String method : List.of("GET", "DELETE", "PUT")) {
                RawHttp response = RawHttp.request(server.port(), method, "/no/such/thing", Map.of(), new byte[0]);
                assertThat(response.status()).as(method).isEqualTo(404);
                assertThat(response.header("Allow")).as(method).isNull();
                assertThat(json.readTree(response.body()).path("error").asText()).as(method).contains("not found");
            }
            assertThat(RawHttp.request(server.port(), "PUT", "/app.js", Map.of(), new byte[0]).status())
                    .as("static files are not routes").isEqualTo(404);
        });
    }

    @Test
    void no_response_sets_a_session_cookie_upgrades_accepted_and_refused_included() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            try (RawWsClient accepted = RawWsClient.connect(server.port())) {
                assertThat(accepted.status()).isEqualTo(101);
                assertThat(accepted.header("Set-Cookie")).isNull();
            }
            try (RawWsClient refused = RawWsClient.connect(server.port(), Map.of("Origin", "https://evil.example"), 0)) {
                assertThat(refused.status()).isEqualTo(403);
                assertThat(refused.header("Set-Cookie")).isNull();
            }
            try (RawWsClient badKey = RawWsClient.connect(server.port(), Map.of("Sec-WebSocket-Key", "nope"), 0)) {
                assertThat(badKey.status()).isEqualTo(400);
                assertThat(badKey.header("Set-Cookie")).isNull();
            }
            for (String path : List.of("/index", "/receive?msg=x", "/", "/ws", "/metrics")) {
                assertThat(RawHttp.get(server.port(), path, Map.of()).headers("Set-Cookie")).as(path).isEmpty();
            }
        });
    }

    @Test
    void an_upgrade_without_key_or_version_is_400_naming_what_is_missing() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            RawHttp neither = RawHttp.get(server.port(), "/ws", Map.of("Upgrade", "websocket", "Connection", "Upgrade"));
            assertThat(neither.status()).isEqualTo(400);
            assertThat(json.readTree(neither.body()).path("error").asText()).contains("Sec-WebSocket-Key", "Sec-WebSocket-Version");
            RawHttp noVersion = RawHttp.get(server.port(), "/ws", Map.of("Upgrade", "WebSocket", "Connection", "Upgrade",
                    "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
            assertThat(noVersion.status()).isEqualTo(400);
            assertThat(json.readTree(noVersion.body()).path("error").asText()).contains("missing Sec-WebSocket-Version").doesNotContain("Key");
            RawHttp noKey = RawHttp.get(server.port(), "/ws", Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                    "Sec-WebSocket-Version", "13"));
            assertThat(noKey.status()).isEqualTo(400);
            assertThat(json.readTree(noKey.body()).path("error").asText()).contains("missing Sec-WebSocket-Key");
        });
    }

    @Test
    void health_is_up() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/health");
            assertThat(response.code()).isEqualTo(200);
            assertThat(body(response).path("status").asText()).isEqualTo("up");
        });
    }

    @Test
    void ready_is_200_once_started() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/ready");
            assertThat(response.code()).isEqualTo(200);
            assertThat(body(response).path("status").asText()).isEqualTo("ready");
        });
    }

    @Test
    void metrics_are_prometheus_text_with_squall_and_jvm_series() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            client.get("/receive?msg=counted");
            Response response = client.get("/metrics");
            assertThat(response.code()).isEqualTo(200);
            assertThat(contentType(response)).startsWith("text/plain").contains("version=0.0.4");
            String text = response.body().string();
            assertThat(text).contains("squall_connections ", "squall_connects_total ", "squall_messages_sent_total ",
                    "squall_publishes_total ", "squall_slow_consumers_total ", "jvm_memory_used_bytes{");
            assertThat(text).contains("# TYPE squall_publishes_total counter");
            assertThat(text.lines().filter(line -> line.startsWith("squall_publishes_total ")))
                    .singleElement().asString().endsWith(" 1.0");
        });
    }

    @Test
    void the_root_serves_the_browser_client() {
        JavalinTest.test(app.javalin(), (server, client) -> {
            Response response = client.get("/");
            assertThat(response.code()).isEqualTo(200);
            assertThat(contentType(response)).startsWith("text/html");
            assertThat(response.body().string()).containsPattern("<title>[^<]*Squall[^<]*</title>");
        });
    }
}
