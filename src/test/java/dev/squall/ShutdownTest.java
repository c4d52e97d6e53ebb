package dev.squall;

import dev.squall.support.Await;
import dev.squall.support.WsTestClient;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 2 items 8 and 9: SIGTERM and stop() close every client with 1001; the packaged page is served from anywhere. */
@Timeout(90)
class ShutdownTest {

    private static final int GOING_AWAY = 1001;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void sigterm_closes_every_client_with_1001_and_the_process_exits_promptly(@TempDir Path emptyWorkingDir) throws Exception {
        assertThat(emptyWorkingDir.resolve("public")).doesNotExist();
        int port = freePort();
        Path log = Path.of("target", "shutdown-test-server.log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        Process server = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "dev.squall.Main", "--port", Integer.toString(port), "--host", "127.0.0.1"))
                .directory(emptyWorkingDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            Await.until("the child server answers /index (log: " + log + ")", Duration.ofSeconds(30),
                    () -> server.isAlive() && status(port, "/index") == 200);

            // No ./public here: the page comes from the copy packaged with the classes.
            HttpResponse<String> page = get(port, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
            assertThat(page.body()).containsIgnoringCase("<html");

            URI ws = URI.create("ws://127.0.0.1:" + port + "/ws");
            try (WsTestClient first = WsTestClient.connect(http, ws, java.util.Map.of());
                 WsTestClient second = WsTestClient.connect(http, ws, java.util.Map.of())) {
                assertThat(first.takeText()).isEqualTo("Welcome");
                assertThat(second.takeText()).isEqualTo("Welcome");

                long signalled = System.nanoTime();
                server.destroy();                                       // SIGTERM

                assertThat(first.awaitClose(Duration.ofSeconds(10))).isEqualTo(GOING_AWAY);
                assertThat(second.awaitClose(Duration.ofSeconds(10))).isEqualTo(GOING_AWAY);
                assertThat(server.waitFor(10, TimeUnit.SECONDS)).as("exited within 10 s of SIGTERM").isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - signalled)).isLessThan(Duration.ofSeconds(5));
            }
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void stopping_the_app_in_process_closes_every_client_with_1001() throws Exception {
        TestServer server = TestServer.start();
        try (WsTestClient first = WsTestClient.connect(http, server.ws(), java.util.Map.of());
             WsTestClient second = WsTestClient.connect(http, server.ws(), java.util.Map.of())) {
            first.takeText();
            second.takeText();

            long stopping = System.nanoTime();
            server.close();

            assertThat(first.awaitClose()).isEqualTo(GOING_AWAY);
            assertThat(second.awaitClose()).isEqualTo(GOING_AWAY);
            assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(Duration.ofSeconds(5));
            assertThat(server.hub().size()).isZero();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (IOException e) {
            return -1;                                                  // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
