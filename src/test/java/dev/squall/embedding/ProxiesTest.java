package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.squall.Identity;
import dev.squall.SquallPlugin;
import dev.squall.support.RawHttp;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The app decides over HTTP (issue 18), for apps in other languages: a connect proxy and a subscribe proxy, against a
 * real HTTP server this test starts, answering yes, no, nothing usable, slowly, or not at all.
 */
@Timeout(60)
class ProxiesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    private final List<AutoCloseable> open = new ArrayList<>();
    private final BlockingQueue<JsonNode> connectRequests = new LinkedBlockingQueue<>();
    private final BlockingQueue<JsonNode> subscribeRequests = new LinkedBlockingQueue<>();
    private HttpServer backend;
    private Javalin app;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null) app.stop();
        if (backend != null) backend.stop(0);
    }

    /**
     * The app's backend: its connect proxy knows the session cookie s-ada and answers {@code connect}'s reply to other
     * requests; its subscribe proxy lets each user into "private:" + user.
     */
    private String backend(Function<JsonNode, String> otherConnects) throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/squall/connect", exchange -> {
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            connectRequests.add(request);
            answer(exchange, request.path("cookies").path("session").asText().equals("s-ada")
                    ? "{\"result\":{\"user\":\"ada\",\"info\":{\"name\":\"Ada\"}}}" : otherConnects.apply(request));
        });
        backend.createContext("/squall/subscribe", exchange -> {
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            subscribeRequests.add(request);
            answer(exchange, request.path("channel").asText().equals("private:" + request.path("user").asText())
                    ? "{\"result\":{}}" : "{\"error\":{\"code\":403,\"message\":\"not yours\"}}");
        });
        backend.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        backend.start();
        return "http://127.0.0.1:" + backend.getAddress().getPort() + "/squall";
    }

    private static void answer(HttpExchange exchange, String body) throws IOException {
        if (body.startsWith("status ")) {
            exchange.sendResponseHeaders(Integer.parseInt(body.substring(7)), -1);
            exchange.close();
            return;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private void start(String base, Consumer<SquallPlugin.Config> more) {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.connectProxy = base + "/connect";
            cfg.subscribeProxy = base + "/subscribe";
            cfg.proxyHeaders = List.of("X-Api-Key");
            cfg.hookTimeout = Duration.ofMillis(500);
            more.accept(cfg);
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
    }

    private RawHttp upgrade(String path, Map<String, String> more) throws Exception {
        Map<String, String> headers = new HashMap<>(UPGRADE);
        headers.putAll(more);
        return RawHttp.get(app.port(), path, headers);
    }

    private WsTestClient v1(Map<String, String> headers) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + "/ws"), headers, List.of("squall.v1"));
        open.add(client);
        return client;
    }

    private static JsonNode call(WsTestClient client, String command) throws Exception {
        client.send(command);
        return JSON.readTree(client.takeText());
    }

    @Test
    void the_connect_proxy_admits_with_the_identity_it_answers_and_is_sent_cookies_and_chosen_headers() throws Exception {
        CompletableFuture<Identity> seen = new CompletableFuture<>();
        start(backend(request -> "{\"error\":{\"code\":401,\"message\":\"who?\"}}"),
                cfg -> cfg.ws("/hello", ws -> ws.onOpen(client -> seen.complete(client.identity()))));
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + "/hello"),
                Map.of("Cookie", "session=s-ada; theme=dark", "X-Api-Key", "k1", "X-Secret", "not for the app"), List.of());
        open.add(client);
        assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(Identity.of("ada", "{\"name\":\"Ada\"}"));
        JsonNode request = connectRequests.poll(10, TimeUnit.SECONDS);
        assertThat(request.path("transport").asText()).isEqualTo("websocket");
        assertThat(request.path("cookies").path("theme").asText()).isEqualTo("dark");
        assertThat(request.path("headers").path("X-Api-Key").asText()).isEqualTo("k1");
        assertThat(request.path("headers").has("X-Secret")).as("only the chosen headers").isFalse();
    }

    @Test
    void a_refusal_an_unusable_answer_and_an_app_that_is_down_or_slow_all_refuse() throws Exception {
        String base = backend(request -> switch (request.path("cookies").path("session").asText()) {
            case "refused" -> "{\"disconnect\":{\"code\":4000,\"reason\":\"banned\"}}";
            case "garbage" -> "not json";
            case "nouser" -> "{\"result\":{}}";
            case "error500" -> "status 500";
            case "slow" -> {
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                yield "{\"result\":{\"user\":\"late\"}}";
            }
            default -> "{\"error\":{\"code\":401,\"message\":\"who?\"}}";
        });
        start(base, cfg -> { });
        assertThat(upgrade("/ws", Map.of("Cookie", "session=unknown")).status()).isEqualTo(401);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=refused")).status()).isEqualTo(401);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=garbage")).status()).isEqualTo(403);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=nouser")).status()).isEqualTo(403);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=error500")).status()).isEqualTo(403);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=slow")).status()).as("past the deadline").isEqualTo(403);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=s-ada")).status()).isEqualTo(101);
        backend.stop(0);
        backend = null;
        assertThat(upgrade("/ws", Map.of("Cookie", "session=s-ada")).status()).as("the app is down").isEqualTo(403);
    }

    @Test
    void the_subscribe_proxy_decides_private_channels_and_reads() throws Exception {
        start(backend(request -> "{\"error\":{}}"), cfg -> { });
        WsTestClient ada = v1(Map.of("Cookie", "session=s-ada"));
        assertThat(call(ada, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"private:bob\"}").path("code").asText()).isEqualTo("forbidden");
        assertThat(call(ada, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"private:ada\"}").path("type").asText()).isEqualTo("subscribed");
        JsonNode asked = subscribeRequests.poll(10, TimeUnit.SECONDS);
        assertThat(asked.path("user").asText()).isEqualTo("ada");
        assertThat(asked.path("info").path("name").asText()).isEqualTo("Ada");
        assertThat(asked.path("action").asText()).isEqualTo("subscribe");
        backend.stop(0);
        backend = null;
        assertThat(call(ada, "{\"id\":3,\"type\":\"subscribe\",\"channel\":\"private:ada2\"}").path("code").asText())
                .as("the app is down: no").isEqualTo("forbidden");
    }

    @Test
    void a_proxy_url_must_be_http_and_cannot_be_set_with_the_hook_it_stands_in_for() throws Exception {
        SquallPlugin notHttp = new SquallPlugin(cfg -> cfg.connectProxy = "ftp://app.example/connect");
        assertThatThrownBy(() -> Javalin.create(javalin -> javalin.registerPlugin(notHttp))).hasMessageContaining("connectProxy")
                .hasMessageContaining("http://");
        SquallPlugin both = new SquallPlugin(cfg -> {
            cfg.connectProxy = "http://127.0.0.1:1/connect";
            cfg.authenticate(handshake -> Identity.of("x"));
        });
        assertThatThrownBy(() -> Javalin.create(javalin -> javalin.registerPlugin(both))).hasMessageContaining("connectProxy");
        SquallPlugin subscribeOnly = new SquallPlugin(cfg -> cfg.subscribeProxy = "http://127.0.0.1:1/subscribe");
        assertThatThrownBy(() -> Javalin.create(javalin -> javalin.registerPlugin(subscribeOnly))).hasMessageContaining("who the user is");
    }
}
