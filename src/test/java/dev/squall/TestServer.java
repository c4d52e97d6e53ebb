package dev.squall;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real Squall on a free port, for one test; closing it stops the server. */
final class TestServer implements AutoCloseable {

    final App app;
    private final HttpClient http = HttpClient.newHttpClient();

    private TestServer(SquallConfig config) {
        this.app = new App(config).start();
    }

    /** Defaults as on the command line, bound to loopback on a free port. */
    static TestServer start() {
        return start(config().build());
    }

    static TestServer start(SquallConfig config) {
        return new TestServer(config);
    }

    /** A builder with test-friendly settings: loopback, free port, short stop timeout. */
    static SquallConfig.Builder config() {
        return SquallConfig.builder().host("127.0.0.1").port(0).stopTimeout(Duration.ofSeconds(2));
    }

    int port() {
        return app.port();
    }

    URI ws() {
        return URI.create("ws://localhost:" + port() + "/ws");
    }

    URI http(String pathAndQuery) {
        return URI.create("http://localhost:" + port() + pathAndQuery);
    }

    HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(http(pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String contentType, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", contentType)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    dev.squall.hub.Hub hub() {
        return app.hub();
    }

    Metrics metrics() {
        return app.metrics();
    }

    @Override
    public void close() {
        app.stop();
    }
}
