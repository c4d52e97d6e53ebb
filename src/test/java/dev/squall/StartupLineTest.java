package dev.squall;

import dev.squall.support.Await;
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

/** Issue 7 item 10: the start-up line says which browser client is served, so a stray ./public is noticed. */
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
            assertThat(server.output()).contains("client: bundled in the jar");
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
