package dev.squall.server;

import dev.squall.support.Await;
import dev.squall.support.ServerProcess;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 item 10: the folder the start-up line names is the one served, however its path is written (the README's
 * own {@code public: ./public}, a {@code ..}, a trailing slash, a symbolic link), on the command line or in the config
 * file. Jetty refuses a base folder whose path is not its real one ("Base Resource should not be an alias") and then
 * answers 404 for every file.
 */
@Timeout(120)
class PublicFolderTest {

    private static final List<String> INFO = List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info");

    private final HttpClient http = HttpClient.newHttpClient();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--public ./public", "--public other/../public/", "--public ./linked", "public: ./public"})
    void the_named_folder_serves_the_page_and_squall_js(String setting, @TempDir Path workingDir) throws Exception {
        Path folder = Files.createDirectory(workingDir.resolve("public"));
        Files.writeString(folder.resolve("index.html"), "<html>the page from the named folder</html>");
        Files.writeString(folder.resolve("squall.js"), "export const from = 'the named folder';");
        Files.createDirectory(workingDir.resolve("other"));
        Files.createSymbolicLink(workingDir.resolve("linked"), folder);
        int port = freePort();
        List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--host", "127.0.0.1"));
        if (setting.startsWith("--public ")) {
            args.addAll(List.of("--public", setting.substring("--public ".length())));
        } else {
            Files.writeString(workingDir.resolve("squall.yaml"), setting + "\n");
            args.addAll(List.of("--config", "squall.yaml"));
        }

        try (ServerProcess server = ServerProcess.start(workingDir, Path.of("target", "public-folder-test.log"), INFO,
                args.toArray(String[]::new))) {
            Await.until("the start-up line (log: " + server.log() + ")", Duration.ofSeconds(30),
                    () -> server.output().contains("Squall listening on"));

            HttpResponse<String> page = get(port, "/");
            HttpResponse<String> module = get(port, "/squall.js");

            assertThat(page.statusCode()).as("GET / (log:%n%s)", server.output()).isEqualTo(200);
            assertThat(page.body()).isEqualTo("<html>the page from the named folder</html>");
            assertThat(module.statusCode()).as("GET /squall.js").isEqualTo(200);
            assertThat(module.body()).isEqualTo("export const from = 'the named folder';");
            assertThat(server.output()).contains("client: ").contains("(" + folder.toRealPath() + ")")
                    .doesNotContain("alias");
        }
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
