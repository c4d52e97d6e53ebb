package dev.squall.internal.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.server.App;
import dev.squall.server.Main;
import dev.squall.server.SquallConfig;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tornado's check_origin on WebSocket upgrades, the same list driving CORS, and settings refused at start. */
class OriginPolicyTest {

    private static final ObjectMapper json = new ObjectMapper();

    private final HttpClient http = HttpClient.newHttpClient();
    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
    }

    private void start(String... allowedOrigins) {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of(allowedOrigins)).build());
    }

    private String self() {
        return "http://localhost:" + server.port();
    }

    /** The upgrade's status with this Origin ("" for none) and the default Host (localhost:PORT). */
    private int upgrade(String origin) throws IOException {
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Origin", origin), 0)) {
            return raw.status();
        }
    }

    private HttpResponse<String> get(String pathAndQuery, String origin) throws Exception {
        return http.send(HttpRequest.newBuilder(server.http(pathAndQuery)).timeout(Duration.ofSeconds(10))
                .header("Origin", origin).build(), HttpResponse.BodyHandlers.ofString());
    }

    // --- WebSocket upgrades -------------------------------------------------------------------------------

    @Test
    void a_same_origin_upgrade_is_accepted() throws IOException {
        start();
        assertThat(upgrade(self())).isEqualTo(101);
        assertThat(upgrade(self().toUpperCase())).as("origins compare case-insensitively").isEqualTo(101);
    }

    @Test
    void an_upgrade_without_origin_is_accepted() throws IOException {
        start();
        assertThat(upgrade("")).isEqualTo(101);
    }

    @Test
    void a_cross_origin_upgrade_is_403_with_a_json_body_that_says_how_to_allow_it() throws IOException {
        start();
        RawHttp response = refusedUpgrade("https://evil.example");
        assertThat(response.status()).isEqualTo(403);
        assertThat(response.header("content-type")).startsWith("application/json");
        assertThat(json.readTree(response.body()).path("error").asText()).contains("https://evil.example", "--allowed-origins");
        assertThat(server.hub().size()).isZero();
    }

    @Test
    void same_host_on_another_port_is_another_origin() throws IOException {
        start();
        assertThat(upgrade("http://localhost:" + (server.port() + 1))).isEqualTo(403);
        assertThat(upgrade("http://127.0.0.1:" + server.port())).isEqualTo(403);
    }

    @Test
    void allowed_origins_allow_exactly_those() throws IOException {
        start("https://a.example", "http://b.example:8080");
        assertThat(upgrade("https://a.example")).isEqualTo(101);
        assertThat(upgrade("http://b.example:8080")).isEqualTo(101);
        assertThat(upgrade(self())).as("same origin stays allowed").isEqualTo(101);
        assertThat(upgrade("http://a.example")).as("other scheme").isEqualTo(403);
        assertThat(upgrade("https://a.example:8443")).as("other port").isEqualTo(403);
        assertThat(upgrade("http://b.example")).as("missing port").isEqualTo(403);
        assertThat(upgrade("https://c.example")).isEqualTo(403);
    }

    @Test
    void a_star_allows_any_origin() throws IOException {
        start("*");
        assertThat(upgrade("https://anything.example")).isEqualTo(101);
        assertThat(upgrade("null")).isEqualTo(101);
    }

    @Test
    void default_ports_are_ignored_in_allowed_and_incoming_origins() throws IOException {
        start("https://A.example:443", "http://b.example:80");
        assertThat(upgrade("https://a.example")).isEqualTo(101);
        assertThat(upgrade("https://a.example:443")).isEqualTo(101);
        assertThat(upgrade("http://b.example")).isEqualTo(101);
        assertThat(upgrade("http://b.example:80")).isEqualTo(101);
        assertThat(upgrade("http://a.example:443")).as("443 is not http's default port").isEqualTo(403);
    }

    @Test
    void a_server_bound_to_loopback_refuses_an_upgrade_or_request_with_a_foreign_host() throws IOException {
        start();
        String evil = "evil.example:" + server.port();
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", evil, "Origin", "http://" + evil), 0)) {
            assertThat(raw.status()).isEqualTo(403);
        }
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", evil), 0)) {
            assertThat(raw.status()).as("without an Origin too").isEqualTo(403);
        }
        assertThat(server.hub().size()).isZero();
        RawHttp index = RawHttp.get(server.port(), "/index", Map.of("Host", evil));
        assertThat(index.status()).isEqualTo(403);
        assertThat(json.readTree(index.body()).path("error").asText()).contains("evil.example", "--allowed-hosts");
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", "127.0.0.1:" + server.port()), 0)) {
            assertThat(raw.status()).isEqualTo(101);
        }
    }

    @Test
    void a_host_in_allowed_hosts_may_upgrade_on_a_loopback_bound_server() throws IOException {
        server = TestServer.start(TestServer.config().allowedHosts(List.of("squall.test")).build());
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", "squall.test:" + server.port()), 0)) {
            assertThat(raw.status()).isEqualTo(101);
        }
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", "other.test:" + server.port()), 0)) {
            assertThat(raw.status()).isEqualTo(403);
        }
    }

    @Test
    void a_server_bound_to_every_interface_takes_any_host_for_reading() throws IOException {
        server = TestServer.start(TestServer.config().host("0.0.0.0").build());
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Host", "192.0.2.7:" + server.port()), 0)) {
            assertThat(raw.status()).isEqualTo(101);
        }
    }

    // --- HTTP routes: CORS ----------------------------------------------------------------------------------

    @Test
    void an_allowed_cross_origin_request_gets_allow_origin_and_vary() throws Exception {
        start("https://a.example");
        HttpResponse<String> response = get("/index", "https://a.example");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).contains("https://a.example");
        assertThat(response.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("Origin"));
    }

    @Test
    void every_response_through_the_origin_check_varies_on_origin_refusals_and_static_files_included() throws Exception {
        start("https://a.example");
        for (String path : List.of("/index", "/", "/app.js", "/no/such/thing", "/health")) {
            RawHttp plain = RawHttp.get(server.port(), path, Map.of());
            assertThat(plain.headers("Vary")).as(path).anySatisfy(v -> assertThat(v).containsIgnoringCase("Origin"));
        }
        RawHttp refused = RawHttp.get(server.port(), "/index", Map.of("Origin", "https://evil.example"));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.headers("Vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("Origin"));
        RawHttp upgrade = refusedUpgrade("https://evil.example");
        assertThat(upgrade.status()).isEqualTo(403);
        assertThat(upgrade.header("vary")).containsIgnoringCase("Origin");
    }

    @Test
    void a_same_origin_request_gets_no_cors_headers() throws Exception {
        start("https://a.example");
        HttpResponse<String> response = get("/index", self());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void with_a_star_any_origin_gets_allow_origin_star() throws Exception {
        start("*");
        HttpResponse<String> response = get("/index", "https://anything.example");
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).contains("*");
    }

    @Test
    void a_preflight_from_an_allowed_origin_is_204_with_methods_headers_and_max_age() throws Exception {
        start("https://a.example");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.http("/receive"))
                .timeout(Duration.ofSeconds(10))
                .header("Origin", "https://a.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(204);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).contains("https://a.example");
        assertThat(response.headers().firstValue("Access-Control-Allow-Methods")).hasValueSatisfying(v -> assertThat(v).contains("GET", "POST"));
        assertThat(response.headers().firstValue("Access-Control-Allow-Headers")).hasValueSatisfying(v -> assertThat(v).containsIgnoringCase("authorization").containsIgnoringCase("content-type"));
        assertThat(response.headers().firstValue("Access-Control-Max-Age")).contains("600");
    }

    @Test
    void a_refused_origin_gets_403_and_the_publish_handler_never_runs() throws Exception {
        start("https://a.example");
        WsTestClient client = WsTestClient.connect(server.ws());
        clients.add(client);
        assertThat(client.takeText()).isEqualTo("Welcome");

        HttpResponse<String> response = get("/receive?msg=forged", "https://evil.example");

        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).doesNotContain("delivered");
        assertThat(json.readTree(response.body()).path("error").asText()).contains("https://evil.example");
        assertThat(server.metrics().scrape()).contains("squall_publishes_total 0.0");
        // The next message is an allowed publish made after the refusal: the refused one never came, not even late.
        assertThat(server.get("/receive?msg=sentinel").statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("sentinel");
    }

    @Test
    void a_refused_origin_cannot_preflight_either() throws Exception {
        start("https://a.example");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.http("/receive"))
                .timeout(Duration.ofSeconds(10)).header("Origin", "https://evil.example")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    // --- Impossible settings fail fast ---------------------------------------------------------------------

    @Test
    void a_star_combined_with_other_origins_is_refused() {
        // Checked where the plugins are registered: Main reports it as one line, exit code 2, like any bad flag.
        assertThatThrownBy(() -> new App(SquallConfig.builder().allowedOrigins(List.of("*", "https://a.example")).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'*'").hasMessageContaining("--allowed-origins");
    }

    @Test
    void malformed_origins_are_refused_with_the_expected_shape() {
        for (String origin : List.of("example.com", "http://x/path", "ftp://x.example", "https://x.example?q=1", "https://user@x.example")) {
            assertThatThrownBy(() -> new App(SquallConfig.builder().allowedOrigins(List.of(origin)).build()))
                    .as(origin)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(origin).hasMessageContaining("scheme://host[:port]");
        }
    }

    @Test
    void a_publish_token_shorter_than_16_characters_is_refused() {
        assertThatThrownBy(() -> SquallConfig.builder().publishToken("fifteen-chars!!").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--publish-token").hasMessageContaining("16");
        assertThat(SquallConfig.builder().publishToken("sixteen-chars!!!").build().publishToken()).contains("sixteen-chars!!!");
    }

    @Test
    void a_max_message_that_does_not_fit_the_queue_is_refused() {
        assertThatThrownBy(() -> SquallConfig.builder().maxMessageBytes(4096).maxQueueBytes(4096).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--max-message-bytes").hasMessageContaining("--max-queue-bytes");
    }

    @Test
    void a_missing_public_folder_is_refused() {
        assertThatThrownBy(() -> SquallConfig.builder().publicDir(Path.of("/definitely/not/here")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--public");
    }

    @Test
    void main_refuses_a_star_combined_with_others_with_exit_code_2_and_one_line() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.run(new String[]{"--allowed-origins", "*,https://a.example"},
                new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).singleElement().asString().contains("--allowed-origins", "'*'");
    }

    /** A hand-made upgrade whose whole response, body included, is read back (only for refusals: a 101 has none). */
    private RawHttp refusedUpgrade(String origin) throws IOException {
        return RawHttp.get(server.port(), "/ws", Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13", "Origin", origin));
    }
}
