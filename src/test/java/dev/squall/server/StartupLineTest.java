package dev.squall.server;

import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 item 10: the start-up line says which browser client is served, so a stray ./public is noticed. Issue 10:
 * a Redis that is not there at start is one line, not a failed start.
 */
@Timeout(90)
class StartupLineTest {

    private static final List<String> INFO = List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info");

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void a_public_folder_in_the_working_directory_is_named_with_its_absolute_path(@TempDir Path workingDir) throws Exception {
        Path folder = Files.createDirectory(workingDir.resolve("public"));
        Files.writeString(folder.resolve("index.html"), "<html>some other project's page</html>");
        int port = freePort();
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "startup-line-public.log"), INFO,
                "--port", Integer.toString(port), "--host", "127.0.0.1")) {
            awaitListening(server);
            assertThat(server.output()).contains("client: ./public (" + folder.toAbsolutePath().normalize() + ")");
            assertThat(get(port, "/").body()).contains("some other project's page");
        }
    }

    @Test
    void without_a_public_folder_the_line_says_the_bundled_client_is_served(@TempDir Path workingDir) throws Exception {
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "startup-line-bundled.log"), INFO,
                "--port", Integer.toString(freePort()), "--host", "127.0.0.1")) {
            awaitListening(server);
            assertThat(server.output()).contains("client: bundled in the jar")
                    .as("no key, no hook: the tutorial's open server, said so").contains("connecting: open: anyone who reaches this port connects");
        }
    }

    @Test
    void an_unreachable_redis_at_start_is_one_line_and_ready_answers_503_until_redis_is_up(@TempDir Path workingDir) throws Exception {
        try (RedisProcess redis = RedisProcess.reserve()) {
            int port = freePort();
            try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "startup-line-redis-unreachable.log"), INFO,
                    "--port", Integer.toString(port), "--host", "127.0.0.1", "--redis", redis.uri())) {
                awaitListening(server);
                assertThat(get(port, "/ready").statusCode()).as("started, not ready").isEqualTo(503);
                assertThat(get(port, "/health").statusCode()).as("alive").isEqualTo(200);
                assertThat(server.output().lines().filter(line -> line.contains("RedisBroker") || line.contains("lettuce"))).singleElement().asString()
                        .contains("WARN", "Cannot reach Redis at " + redis.uri() + " (Connection refused): retrying with backoff; "
                                + "/ready answers 503 until it is reached");

                redis.restart();                                      // Redis comes up on that port
                Await.until("/ready to answer 200 (log: " + server.log() + ")", Duration.ofSeconds(20),
                        () -> status(port, "/ready") == 200);
                Await.until("the line saying it was reached", Duration.ofSeconds(10),
                        () -> server.output().contains("Reached Redis at " + redis.uri()));
                assertThat(server.output().lines().filter(line -> line.contains("RedisBroker") || line.contains("lettuce")))
                        .as("one line when not reached, one when reached: no line per attempt").hasSize(2);
                assertThat(server.output()).as("no stack trace").doesNotContain("\tat ", "Exception");
            }
        }
    }

    @Test
    void an_unreachable_redis_is_named_without_its_password(@TempDir Path workingDir) throws Exception {
        int closed = freePort();
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "startup-line-redis-password.log"), INFO,
                "--port", Integer.toString(freePort()), "--host", "127.0.0.1", "--redis", "redis://:hunter2@127.0.0.1:" + closed)) {
            awaitListening(server);
            assertThat(server.output()).contains("Cannot reach Redis at redis://:***@127.0.0.1:" + closed + " (").doesNotContain("hunter2");
        }
    }

    @Test
    void a_token_secret_appears_nowhere_in_the_output_at_any_level(@TempDir Path workingDir) throws Exception {
        String secret = "do-not-print-me-" + java.util.UUID.randomUUID();
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "startup-line-token-secret.log"),
                List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=trace"),
                "--port", Integer.toString(freePort()), "--host", "127.0.0.1", "--token-hmac-secret", secret,
                "--token-audience", "squall", "--drain-seconds", "0")) {
            awaitListening(server);
            server.terminate();
            assertThat(server.exitCode(30)).as("log: " + server.output()).isZero();
            assertThat(server.output()).contains("Squall listening on").doesNotContain(secret);
        }
    }

    private int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private static void awaitListening(ServerProcess server) {
        Await.until("the start-up line (log: " + server.log() + ")", Duration.ofSeconds(30),
                () -> server.output().contains("Squall listening on"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
