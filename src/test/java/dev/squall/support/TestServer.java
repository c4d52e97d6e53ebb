package dev.squall.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.Metrics;
import dev.squall.server.App;
import dev.squall.server.SquallConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A real Squall on a free port, for one test; closing it stops the server. */
public final class TestServer implements AutoCloseable {

    public final App app;
    private final HttpClient http = HttpClient.newHttpClient();

    private TestServer(SquallConfig config) {
        this.app = new App(config).start();
    }

    /** Defaults as on the command line, bound to loopback on a free port. */
    public static TestServer start() {
        return start(config().build());
    }

    public static TestServer start(SquallConfig config) {
        return new TestServer(config);
    }

    /** A builder with test-friendly settings: loopback, free port, short stop timeout, no drain window. */
    public static SquallConfig.Builder config() {
        return SquallConfig.builder().host("127.0.0.1").port(0).stopTimeout(Duration.ofSeconds(2))
                .drainWindow(Duration.ZERO);
    }

    public int port() {
        return app.port();
    }

    public URI ws() {
        return URI.create("ws://localhost:" + port() + "/ws");
    }

    public URI http(String pathAndQuery) {
        return URI.create("http://localhost:" + port() + pathAndQuery);
    }

    public HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(http(pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The body of a GET, for polling in an await. */
    public String getQuietly(String pathAndQuery) {
        try {
            return get(pathAndQuery).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    public HttpResponse<String> post(String path, String contentType, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", contentType)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * {@code POST /publish} of {@code {"channel": channel, "data": dataJson}}; fails unless it answers 200, and returns
     * the answer ({@code channel}, {@code offset}, {@code epoch}, {@code delivered}, {@code duplicate}).
     */
    public JsonNode publish(String channel, String dataJson) throws Exception {
        HttpResponse<String> response = post("/publish", "application/json",
                ("{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (response.statusCode() != 200) throw new AssertionError("POST /publish answered " + response.statusCode() + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The server's hub, for what only it shows (a channel's local subscribers, open connections). */
    public dev.squall.internal.hub.Hub hub() {
        return dev.squall.Internals.node(app.plugin()).hub();
    }

    public Metrics metrics() {
        return dev.squall.Internals.node(app.plugin()).metrics();
    }

    /**
     * One sample from the Prometheus text on {@code /metrics}, by its full name with labels as exposed,
     * e.g. {@code squall_slow_consumers_total}; 0 when the series does not exist (yet).
     */
    public double metric(String series) {
        return metricsMatching(series).stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Every sample whose series starts with {@code prefix} (e.g. all {@code squall_disconnects_total{code=...}}). */
    public java.util.List<Double> metricsMatching(String prefix) {
        java.util.List<Double> values = new java.util.ArrayList<>();
        for (String line : metrics().scrape().split("\n")) {
            if (line.startsWith("#") || !line.startsWith(prefix)) continue;
            String series = line.substring(0, line.lastIndexOf(' '));
            if (series.equals(prefix) || series.startsWith(prefix + "{")) {
                values.add(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return values;
    }

    @Override
    public void close() {
        app.stop();
    }
}
