package dev.squall.internal.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.server.App;
import dev.squall.server.Main;
import dev.squall.server.SquallConfig;
import dev.squall.support.RawHttp;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Protected publishing: without a token only this machine may publish (loopback peer, no proxy, a Host that
 * names this machine, no cross-site browser request); with one, everyone needs it.
 *
 * <p>A refusal is proven by what the subscriber takes next: after it, an allowed publish of a sentinel must be
 * the very next message, so a refused publish that is merely slow still fails the test.
 *
 * <p>The non-loopback cases are real: a network namespace joined to this host by a veth pair on a private
 * /30 plays a remote machine, and {@code curl} inside it publishes to the server bound on 0.0.0.0.
 * That needs root and iproute2; elsewhere those tests are skipped, with the reason.
 */
class PublishPolicyTest {

    private static final String TOKEN = "0123456789abcdef-secret";
    private static final long PID = ProcessHandle.current().pid();
    private static final String NAMESPACE = "squall-pp-" + PID;
    private static final String HOST_LINK = "sqh" + PID % 100_000;
    private static final String PEER_LINK = "sqp" + PID % 100_000;
    private static final String HOST_ADDRESS = "10.203." + PID % 250 + ".1";
    private static final String PEER_ADDRESS = "10.203." + PID % 250 + ".2";

    private static final ObjectMapper json = new ObjectMapper();

    private static String namespaceProblem;

    private final HttpClient http = HttpClient.newHttpClient();
    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @BeforeAll
    static void createRemoteNamespace() {
        try {
            sh("ip", "netns", "add", NAMESPACE);
            sh("ip", "link", "add", HOST_LINK, "type", "veth", "peer", "name", PEER_LINK);
            sh("ip", "link", "set", PEER_LINK, "netns", NAMESPACE);
            sh("ip", "addr", "add", HOST_ADDRESS + "/30", "dev", HOST_LINK);
            sh("ip", "link", "set", HOST_LINK, "up");
            sh("ip", "netns", "exec", NAMESPACE, "ip", "addr", "add", PEER_ADDRESS + "/30", "dev", PEER_LINK);
            sh("ip", "netns", "exec", NAMESPACE, "ip", "link", "set", PEER_LINK, "up");
        } catch (Exception e) {
            namespaceProblem = "cannot create a network namespace (needs root, iproute2 and curl): " + e.getMessage();
        }
    }

    @AfterAll
    static void deleteRemoteNamespace() throws Exception {
        // Deleting the namespace destroys the peer end, and with it the whole veth pair.
        run(List.of("ip", "netns", "del", NAMESPACE));
        run(List.of("ip", "link", "del", HOST_LINK));
    }

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
    }

    private WsTestClient client() {
        WsTestClient client = WsTestClient.connect(server.ws());
        clients.add(client);
        assertThat(client.takeText()).isEqualTo("Welcome");
        return client;
    }

    private HttpResponse<String> publish(String authorization) throws Exception {
        return publish(authorization, Map.of());
    }

    /** GET /receive?msg=guarded with these headers (the JDK client's own Host: localhost:PORT). */
    private HttpResponse<String> publish(String authorization, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.http("/receive?msg=guarded"))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) request.header("Authorization", authorization);
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.http("/receive")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("guarded"));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Publishes a sentinel the way that is allowed here (from loopback, with the token if one is set) and asserts
     * it is the next thing {@code client} takes: nothing refused earlier arrived, not even late.
     */
    private void assertNothingArrivedBefore(WsTestClient client, String token) throws Exception {
        String sentinel = "sentinel-" + System.nanoTime();
        HttpRequest.Builder request = HttpRequest.newBuilder(server.http("/receive?msg=" + sentinel)).timeout(Duration.ofSeconds(10));
        if (token != null) request.header("Authorization", "Bearer " + token);
        assertThat(http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo(sentinel);
    }

    private static void assertRefused(int status, String body, int expected, String... words) throws Exception {
        assertThat(status).as(body).isEqualTo(expected);
        assertThat(body).doesNotContain("delivered");
        assertThat(json.readTree(body).path("error").asText()).contains(words);
    }

    @Test
    void without_a_token_loopback_clients_may_publish() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        HttpResponse<String> response = publish(null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"delivered\":1}");
        assertThat(client.takeText()).isEqualTo("guarded");
    }

    @Test
    void with_a_token_a_request_without_it_is_401_with_www_authenticate_and_delivers_nothing() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).build());
        WsTestClient client = client();
        HttpResponse<String> response = publish(null);
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(response.body()).contains("\"error\"", "Authorization: Bearer");
        assertNothingArrivedBefore(client, TOKEN);
    }

    @Test
    void with_a_token_a_wrong_token_is_401() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).build());
        for (String wrong : List.of("Bearer " + TOKEN + "x", "Bearer " + TOKEN.substring(1), "Basic " + TOKEN, TOKEN, "Bearer ")) {
            HttpResponse<String> response = publish(wrong);
            assertThat(response.statusCode()).as(wrong).isEqualTo(401);
            assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
        }
    }

    @Test
    void with_a_token_the_right_bearer_publishes_by_get_and_post() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).build());
        WsTestClient client = client();
        assertThat(publish("Bearer " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("guarded");
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(server.http("/receive"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("posted")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("posted");
    }

    @Test
    void the_token_from_SQUALL_PUBLISH_TOKEN_guards_the_server_main_builds() throws Exception {
        Main main = new Main();
        Main.commandLine(main, Map.of("SQUALL_PUBLISH_TOKEN", TOKEN), new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter())).parseArgs("--host", "127.0.0.1", "--port", "0");
        server = TestServer.start(main.toConfig().toBuilder().stopTimeout(Duration.ofSeconds(2)).build());
        assertThat(publish(null).statusCode()).isEqualTo(401);
        assertThat(publish("Bearer " + TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void without_a_token_a_remote_client_is_403_and_told_how_to_set_a_token() throws Exception {
        assumeTrue(namespaceProblem == null, namespaceProblem);
        server = TestServer.start(TestServer.config().host("0.0.0.0").build());
        WsTestClient client = client();
        List<String> result = curlFromNamespace(null);
        assertThat(result.get(0)).isEqualTo("403");
        assertThat(result.get(1)).contains("--publish-token", "SQUALL_PUBLISH_TOKEN");
        assertNothingArrivedBefore(client, null);
    }

    @Test
    void x_forwarded_for_127_0_0_1_from_a_remote_client_is_still_403() throws Exception {
        assumeTrue(namespaceProblem == null, namespaceProblem);
        server = TestServer.start(TestServer.config().host("0.0.0.0").build());
        WsTestClient client = client();
        for (String header : List.of("X-Forwarded-For: 127.0.0.1", "X-Real-IP: 127.0.0.1", "Forwarded: for=127.0.0.1",
                "Host: localhost")) {
            List<String> result = curlFromNamespace(null, header);
            assertThat(result.get(0)).as(header).isEqualTo("403");
            assertThat(result.get(1)).as(header).contains("--publish-token");
        }
        assertNothingArrivedBefore(client, null);
        assertThat(server.metric("squall_publishes_total")).isEqualTo(1.0);
    }

    // --- protected mode: this machine only, and never a cross-site browser request ---------------------------

    @Test
    void the_tutorials_curl_demo_publishes_from_this_machine() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        String output = sh("curl", "-s", "-m", "10", "-w", "\n%{http_code}",
                "http://localhost:" + server.port() + "/receive?msg=Hello%20everyone");
        assertThat(output).isEqualTo("{\"delivered\":1}\n200");
        assertThat(client.takeText()).isEqualTo("Hello everyone");
    }

    @Test
    void an_img_style_cross_site_get_is_403_and_delivers_nothing() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        for (String site : List.of("cross-site", "same-site", "CROSS-SITE")) {
            // What <img src="http://localhost:8000/receive?msg=x"> on another site sends: no Origin, Fetch Metadata.
            HttpResponse<String> response = publish(null, Map.of("Sec-Fetch-Site", site, "Sec-Fetch-Mode", "no-cors",
                    "Sec-Fetch-Dest", "image"));
            assertRefused(response.statusCode(), response.body(), 403, "cross-site", "--publish-token", "--allowed-origins");
        }
        assertNothingArrivedBefore(client, null);
        assertThat(server.metric("squall_publishes_total")).isEqualTo(1.0);
    }

    @Test
    void same_origin_and_typed_in_requests_may_publish() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        assertThat(publish(null, Map.of("Sec-Fetch-Site", "none")).statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("guarded");
        HttpResponse<String> sameOrigin = post(Map.of("Sec-Fetch-Site", "same-origin", "Origin", "http://localhost:" + server.port()));
        assertThat(sameOrigin.statusCode()).as(sameOrigin.body()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("guarded");
    }

    @Test
    void a_cross_origin_publish_is_403_even_when_any_origin_may_read() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("*")).build());
        WsTestClient client = client();
        HttpResponse<String> get = publish(null, Map.of("Origin", "https://evil.example"));
        assertRefused(get.statusCode(), get.body(), 403, "https://evil.example", "--publish-token", "--allowed-origins");
        HttpResponse<String> post = post(Map.of("Origin", "https://evil.example"));
        assertRefused(post.statusCode(), post.body(), 403, "https://evil.example");
        assertThat(server.get("/index").statusCode()).as("reading stays open to any origin").isEqualTo(200);
        assertNothingArrivedBefore(client, null);
    }

    @Test
    void an_origin_listed_by_name_may_publish_cross_site_without_a_token() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("https://a.example")).build());
        WsTestClient client = client();
        HttpResponse<String> response = post(Map.of("Origin", "https://a.example", "Sec-Fetch-Site", "cross-site"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("guarded");
    }

    @Test
    void a_dns_rebinding_page_cannot_publish_even_when_its_origin_matches_its_host() throws Exception {
        // Bound to every interface and no --allowed-hosts: reading takes any Host, publishing does not.
        server = TestServer.start(TestServer.config().host("0.0.0.0").build());
        WsTestClient client = client();
        String evil = "evil.example:" + server.port();
        RawHttp response = RawHttp.get(server.port(), "/receive?msg=rebound",
                Map.of("Host", evil, "Origin", "http://" + evil, "Sec-Fetch-Site", "same-origin"));
        assertRefused(response.status(), response.body(), 403, "evil.example", "--allowed-hosts", "--publish-token");
        RawHttp posted = RawHttp.request(server.port(), "POST", "/receive",
                Map.of("Host", evil, "Origin", "http://" + evil, "Content-Type", "text/plain"), "rebound".getBytes(StandardCharsets.UTF_8));
        assertRefused(posted.status(), posted.body(), 403, "evil.example");
        assertThat(RawHttp.get(server.port(), "/index", Map.of("Host", evil)).status()).isEqualTo(200);
        assertNothingArrivedBefore(client, null);
    }

    @Test
    void a_host_listed_in_allowed_hosts_may_publish_and_others_are_refused_everywhere() throws Exception {
        server = TestServer.start(TestServer.config().host("0.0.0.0").allowedHosts(List.of("Squall.Test:9999")).build());
        WsTestClient client = client();
        RawHttp listed = RawHttp.get(server.port(), "/receive?msg=listed", Map.of("Host", "squall.test:" + server.port()));
        assertThat(listed.status()).as(listed.body()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("listed");
        RawHttp other = RawHttp.get(server.port(), "/index", Map.of("Host", "other.test:" + server.port()));
        assertRefused(other.status(), other.body(), 403, "other.test", "--allowed-hosts");
        assertThat(RawHttp.get(server.port(), "/index", Map.of("Host", "127.0.0.1:" + server.port())).status()).isEqualTo(200);
    }

    @Test
    void loopback_names_in_every_spelling_count_as_this_machine() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        for (String host : List.of("localhost", "LOCALHOST", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]", "localhost.")) {
            RawHttp response = RawHttp.get(server.port(), "/receive?msg=" + host.replace("[", "%5B").replace("]", "%5D"),
                    Map.of("Host", host + ":" + server.port()));
            assertThat(response.status()).as(host + ": " + response.body()).isEqualTo(200);
            assertThat(client.takeText()).isEqualTo(host);
        }
        for (String host : List.of("localhost.evil.example", "127.0.0.1.evil.example", "127.0.0.256", "evil.example", "[::2]")) {
            RawHttp response = RawHttp.get(server.port(), "/receive?msg=no", Map.of("Host", host + ":" + server.port()));
            assertThat(response.status()).as(host).isEqualTo(403);
        }
        assertNothingArrivedBefore(client, null);
    }

    @Test
    void a_request_through_a_local_proxy_cannot_publish_without_a_token() throws Exception {
        server = TestServer.start();
        WsTestClient client = client();
        for (Map.Entry<String, String> header : Map.of("X-Forwarded-For", "127.0.0.1", "Forwarded", "for=127.0.0.1",
                "Via", "1.1 nginx", "X-Real-IP", "127.0.0.1").entrySet()) {
            HttpResponse<String> response = publish(null, Map.of(header.getKey(), header.getValue()));
            assertRefused(response.statusCode(), response.body(), 403, header.getKey(), "proxy", "--publish-token");
        }
        assertNothingArrivedBefore(client, null);
    }

    @Test
    void with_a_token_a_listed_cross_site_origin_publishes_and_the_scheme_is_case_insensitive() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).allowedOrigins(List.of("https://a.example")).build());
        WsTestClient client = client();
        for (String scheme : List.of("Bearer", "bearer", "BEARER")) {
            HttpResponse<String> response = publish(scheme + " " + TOKEN, Map.of("Origin", "https://a.example", "Sec-Fetch-Site", "cross-site"));
            assertThat(response.statusCode()).as(scheme + ": " + response.body()).isEqualTo(200);
            assertThat(client.takeText()).isEqualTo("guarded");
        }
        HttpResponse<String> withoutToken = publish(null, Map.of("Origin", "https://a.example", "Sec-Fetch-Site", "cross-site"));
        assertThat(withoutToken.statusCode()).isEqualTo(401);
        assertNothingArrivedBefore(client, TOKEN);
    }

    @Test
    void with_a_token_publishing_through_a_proxy_is_fine() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).build());
        WsTestClient client = client();
        HttpResponse<String> response = publish("Bearer " + TOKEN, Map.of("X-Forwarded-For", "203.0.113.9", "Via", "1.1 nginx"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo("guarded");
    }

    @Test
    void reading_channels_is_refused_in_words_about_reading_not_publishing() throws Exception {
        server = TestServer.start(TestServer.config().publishToken(TOKEN).build());
        for (String read : List.of("/channels/x/history", "/channels", "/channels/x")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.http(read)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(read).isEqualTo(401);
            assertThat(response.headers().firstValue("WWW-Authenticate")).as(read).isPresent();
            assertThat(json.readTree(response.body()).path("error").asText()).as(read)
                    .isEqualTo("reading channels requires 'Authorization: Bearer <publish token>'");
        }
        assertThat(json.readTree(publish(null).body()).path("error").asText())
                .isEqualTo("publishing requires 'Authorization: Bearer <publish token>'");

        try (WsTestClient v1 = WsTestClient.connect(server.ws(), Map.of(), List.of("squall.v1"))) {
            v1.send("{\"id\":1,\"type\":\"presence\",\"channel\":\"news\"}");
            assertThat(json.readTree(v1.takeText()).path("message").asText()).isEqualTo("the presence of 'news' is shown to "
                    + "connections that may read channels, or in a namespace with presence on; reading channels requires "
                    + "'Authorization: Bearer <publish token>'");
            v1.send("{\"id\":2,\"type\":\"publish\",\"channel\":\"news\",\"data\":1}");
            assertThat(json.readTree(v1.takeText()).path("message").asText())
                    .isEqualTo("publishing requires 'Authorization: Bearer <publish token>'");
        }
    }

    @Test
    void without_a_token_a_read_from_a_proxy_or_another_site_is_refused_as_a_read() throws Exception {
        server = TestServer.start();
        RawHttp proxied = RawHttp.get(server.port(), "/channels/x/history", Map.of("X-Forwarded-For", "127.0.0.1"));
        assertRefused(proxied.status(), proxied.body(), 403, "this read came through a proxy (it carries X-Forwarded-For)");
        RawHttp crossSite = RawHttp.get(server.port(), "/channels", Map.of("Sec-Fetch-Site", "cross-site"));
        assertRefused(crossSite.status(), crossSite.body(), 403, "a cross-site browser request may not read channels (Sec-Fetch-Site: cross-site)");
        HttpResponse<String> publish = publish(null, Map.of("Sec-Fetch-Site", "cross-site"));
        assertRefused(publish.statusCode(), publish.body(), 403, "a cross-site browser request may not publish (Sec-Fetch-Site: cross-site)");
    }

    @Test
    void allowed_hosts_that_are_not_host_names_are_refused_at_start() {
        for (String host : List.of("http://a.example", "a b", "a.example/path", "[::1", "a.example:port")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new App(SquallConfig.builder().allowedHosts(List.of(host)).build()))
                    .as(host).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--allowed-hosts");
        }
    }

    @Test
    void with_a_token_a_remote_client_needs_it_and_may_publish_with_it() throws Exception {
        assumeTrue(namespaceProblem == null, namespaceProblem);
        server = TestServer.start(TestServer.config().host("0.0.0.0").publishToken(TOKEN).build());
        WsTestClient client = client();
        assertThat(curlFromNamespace(null).get(0)).isEqualTo("401");
        List<String> result = curlFromNamespace(TOKEN);
        assertThat(result).containsExactly("200", "{\"delivered\":1}");
        assertThat(client.takeText()).isEqualTo("remote");
    }

    /** GET /receive?msg=remote from inside the namespace, with extra header lines; returns [status, body]. */
    private List<String> curlFromNamespace(String token, String... headers) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", NAMESPACE, "curl", "-s", "-m", "10",
                "-w", "\n%{http_code}"));
        if (token != null) command.addAll(List.of("-H", "Authorization: Bearer " + token));
        for (String header : headers) command.addAll(List.of("-H", header));
        command.add("http://" + HOST_ADDRESS + ":" + server.port() + "/receive?msg=remote");
        String output = sh(command.toArray(String[]::new));
        int split = output.lastIndexOf('\n');
        return List.of(output.substring(split + 1).trim(), output.substring(0, split));
    }

    private static String sh(String... command) throws Exception {
        Result result = run(List.of(command));
        if (result.exitCode != 0) {
            throw new IOException(String.join(" ", command) + " exited " + result.exitCode + ": " + result.output.strip());
        }
        return result.output;
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 20 s");
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
