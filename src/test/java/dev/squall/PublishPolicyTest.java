package dev.squall;

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
 * Protected publishing: without a token only loopback may publish; with one, everyone needs it.
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
        HttpRequest.Builder request = HttpRequest.newBuilder(server.http("/receive?msg=guarded"))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) request.header("Authorization", authorization);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
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
        assertThat(client.poll(Duration.ofMillis(300))).isNull();
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
        assertThat(client.poll(Duration.ofMillis(300))).isNull();
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

    /** GET /receive?msg=remote from inside the namespace; returns [status, body]. */
    private List<String> curlFromNamespace(String token) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", NAMESPACE, "curl", "-s", "-m", "10",
                "-w", "\n%{http_code}"));
        if (token != null) command.addAll(List.of("-H", "Authorization: Bearer " + token));
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
