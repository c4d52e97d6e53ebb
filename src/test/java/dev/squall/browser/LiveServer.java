package dev.squall.browser;

import dev.squall.server.App;
import dev.squall.server.SquallConfig;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Squall for the browser tests, reachable as {@code http://127.0.0.1:PORT/} and serving this checkout's
 * {@code public/}. Unlike {@code TestServer} it can be stopped and started again on the same port, which is
 * what a page sees when its server restarts. It only uses Squall's public surface: {@link App}, HTTP and
 * {@code /metrics}.
 */
final class LiveServer implements AutoCloseable {

    private static final Duration REBIND_DEADLINE = Duration.ofSeconds(10);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private SquallConfig config;
    private App app;
    private final int port; // remembered: a stopped App no longer knows its port

    private LiveServer(SquallConfig config) {
        this.config = config;
        this.app = new App(config).start();
        this.port = app.port();
    }

    /** Test settings: loopback, any free port, the checkout's page, a short graceful stop with no drain window. */
    static SquallConfig.Builder config() {
        return SquallConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .publicDir(Path.of("public"))
                .stopTimeout(Duration.ofSeconds(2))
                .drainWindow(Duration.ZERO);
    }

    static LiveServer start() {
        return start(config().build());
    }

    static LiveServer start(SquallConfig config) {
        return new LiveServer(config);
    }

    int port() {
        return port;
    }

    /** The origin a page served from here has, e.g. {@code http://127.0.0.1:41234}. */
    String origin() {
        return "http://127.0.0.1:" + port();
    }

    String url(String pathAndQuery) {
        return origin() + pathAndQuery;
    }

    String wsUrl() {
        return "ws://127.0.0.1:" + port() + "/ws";
    }

    /** Stops the server; open WebSockets are closed with 1001. */
    void stop() {
        app.stop();
    }

    /**
     * Starts a new node on the port this one had. The port was just released, so binding is retried briefly
     * in case the OS has not let go of it yet; the deadline keeps a real conflict from hanging the test.
     */
    void restartOnSamePort() {
        restartOnSamePort(UnaryOperator.identity());
    }

    /** As {@link #restartOnSamePort()}, with changed settings (say, another origin policy). */
    void restartOnSamePort(UnaryOperator<SquallConfig.Builder> changes) {
        config = changes.apply(config.toBuilder()).port(port).build();
        SquallConfig samePort = config;
        long end = System.nanoTime() + REBIND_DEADLINE.toNanos();
        while (true) {
            try {
                app = new App(samePort).start();
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("could not bind port " + port + " again within " + REBIND_DEADLINE, e);
                }
                pause(Duration.ofMillis(50));
            }
        }
    }

    /** {@code GET /receive?msg=...}; returns how many connections it was delivered to. */
    int publish(String message) {
        return delivered(get(publishPath(message)));
    }

    /** {@code POST /receive} with the message as the body, for messages too large for a URL; as {@link #publish}. */
    int publishInBody(String message) {
        return delivered(send(HttpRequest.newBuilder(URI.create(url("/receive")))
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(message, StandardCharsets.UTF_8))));
    }

    /**
     * {@code POST /publish} of {@code dataJson} (any JSON value, as text) to a channel; returns the offset it got.
     */
    long publishTo(String channel, String dataJson) {
        String body = "{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}";
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url("/publish")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
        Matcher offset = Pattern.compile("\"offset\"\\s*:\\s*(\\d+)").matcher(response.body());
        if (response.statusCode() != 200 || !offset.find()) {
            throw new AssertionError("publish to " + channel + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
        return Long.parseLong(offset.group(1));
    }

    /** {@code GET /receive?msg=...}, whatever the answer: its HTTP status. */
    int publishStatus(String message) {
        return get(publishPath(message)).statusCode();
    }

    private static String publishPath(String message) {
        return "/receive?msg=" + URLEncoder.encode(message, StandardCharsets.UTF_8);
    }

    private static int delivered(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new AssertionError("publish failed: HTTP " + response.statusCode() + " " + response.body());
        }
        Matcher delivered = Pattern.compile("\"delivered\"\\s*:\\s*(\\d+)").matcher(response.body());
        if (!delivered.find()) throw new AssertionError("unexpected publish answer: " + response.body());
        return Integer.parseInt(delivered.group(1));
    }

    /** Open WebSocket connections, as {@code /metrics} reports them. */
    int openConnections() {
        return (int) metric("squall_connections");
    }

    /** WebSocket connections ever opened on this node. */
    int connectsSoFar() {
        return (int) metric("squall_connects_total");
    }

    /** Messages dropped so far by {@code --slow-consumer drop-oldest}, over all connections. */
    long droppedMessages() {
        return (long) metric("squall_dropped_messages_total");
    }

    private double metric(String name) {
        String body = get("/metrics").body();
        Matcher line = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})?\\s+(\\S+)$").matcher(body);
        if (!line.find()) throw new AssertionError("no " + name + " in /metrics:\n" + body);
        return Double.parseDouble(line.group(1));
    }

    private HttpResponse<String> get(String pathAndQuery) {
        return send(HttpRequest.newBuilder(URI.create(url(pathAndQuery))));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        app.stop();
    }
}
