package dev.squall.server;

import dev.squall.support.Await;
import dev.squall.support.ServerProcess;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 item 10: nothing a client does on its own writes a log line per request or connection, so no client can
 * fill the log. A child process, so its real output is read at the levels a deployment runs with.
 */
@Timeout(90)
class LogFloodTest {

    private static final int TOO_LARGE = 3000;                      // over --max-publish-bytes (a quarter of --max-queue-bytes 2048: 512)

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void oversized_posts_connects_and_disconnects_add_no_line_each(@TempDir Path workingDir) throws Exception {
        int port = freePort();
        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "log-flood-test.log"),
                List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info"),
                "--port", Integer.toString(port), "--host", "127.0.0.1", "--drain-seconds", "0",
                "--max-queue-bytes", "2048", "--max-message-bytes", "1000")) {
            Await.until("the start-up line (log: " + server.log() + ")", Duration.ofSeconds(30),
                    () -> server.output().contains("Squall listening on"));
            long linesAtStart = server.output().lines().count();

            for (int i = 0; i < 30; i++) {
                HttpResponse<String> response = post(port, HttpRequest.BodyPublishers.ofByteArray(new byte[TOO_LARGE]));
                assertThat(response.statusCode()).isEqualTo(413);
                assertThat(response.body()).isEqualTo("{\"error\":\"the body is larger than --max-publish-bytes (512 bytes)\"}");
            }
            for (int i = 0; i < 10; i++) {                          // no Content-Length: chunked, refused while read
                HttpResponse<String> response = post(port, HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(new byte[TOO_LARGE])));
                assertThat(response.statusCode()).isEqualTo(413);
            }
            for (int i = 0; i < 5; i++) {
                try (WsTestClient client = WsTestClient.connect(http, URI.create("ws://127.0.0.1:" + port + "/ws"), Map.of())) {
                    assertThat(client.takeText()).isEqualTo("Welcome");
                }
            }
            for (int i = 0; i < 10; i++) resetMidUpgrade(port);        // gone before the 101: no ERROR and trace each
            assertThat(get(port, "/metrics").body()).contains("squall_requests_too_large_total 40.0");

            server.terminate();
            assertThat(server.exitCode(10)).isZero();
            // Each refusal was logged (or not) before its 413 was sent, and the process has exited: all is written.
            assertThat(server.output()).doesNotContain("Body size greater than max size");
            assertThat(server.output().lines().count() - linesAtStart)
                    .as("lines after start-up:%n%s", server.output()).isLessThanOrEqualTo(2);   // at most the stop's own
        }
    }

    /** A whole upgrade request, then a reset before the answer can be written. */
    private static void resetMidUpgrade(int port) throws IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.setSoLinger(true, 0);
        }
    }

    private HttpResponse<String> post(int port, HttpRequest.BodyPublisher body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/receive"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "text/plain").POST(body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
