package dev.squall.embedding;

import dev.squall.OriginPolicyPlugin;
import dev.squall.Payload;
import dev.squall.Published;
import dev.squall.ServerSubscription;
import dev.squall.Squall;
import dev.squall.SquallConnection;
import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.Stopping;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Squall embedded in an app of its own, through the public API only (this package sees nothing else): the app's
 * routes stay the app's, Squall's routes get Squall's limits and checks, and the app pushes from its handlers.
 */
@Timeout(120)
class EmbeddingTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = new ArrayList<>();
    private Javalin app;
    /** Set by the tests that run a plugin as documented, with the default drain window: stopped without it. */
    private SquallPlugin documented;

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (app != null && documented != null) Stopping.withoutDrain(app, documented);
        else if (app != null) app.stop();
    }

    @Test
    void an_app_with_its_own_routes_gets_an_echo_route_and_pushes_from_its_own_handler() throws Exception {
        // docs:embedding-java:start
        SquallPlugin squall = new SquallPlugin(cfg -> {
            cfg.pingInterval = Duration.ofSeconds(15);                         // every setting, as a field
            cfg.ws("/chat", ws -> {
                ws.onOpen(client -> client.send("hello " + client.queryParam("name")));
                ws.onMessage((client, text) -> client.send("echo: " + text));
            });
        });
        Javalin app = Javalin.create(config -> {
            config.registerPlugin(squall);
            config.routes.get("/orders", ctx -> ctx.result("no orders yet"));     // the app's own routes
            config.routes.post("/orders", ctx -> {
                int delivered = squall.squall().broadcast("new order: " + ctx.body());
                ctx.json(Map.of("delivered", delivered));
            });
        }).start("127.0.0.1", 0);
        // docs:embedding-java:end
        this.app = app;
        this.documented = squall;

        WsTestClient ann = connect("/chat?name=ann");
        WsTestClient bob = connect("/chat?name=bob");
        assertThat(ann.takeText()).isEqualTo("hello ann");
        assertThat(bob.takeText()).isEqualTo("hello bob");
        ann.send("hi");
        assertThat(ann.takeText()).isEqualTo("echo: hi");

        HttpResponse<String> posted = post("/orders", "42 apples");
        assertThat(posted.statusCode()).isEqualTo(200);
        assertThat(posted.body()).isEqualTo("{\"delivered\":2}");
        assertThat(ann.takeText()).isEqualTo("new order: 42 apples");
        assertThat(bob.takeText()).isEqualTo("new order: 42 apples");
        assertThat(get("/orders").body()).isEqualTo("no orders yet");
    }

    record Order(String id, int items) {
    }

    @Test
    void an_app_publishes_values_names_channels_from_the_path_listens_itself_and_serves_the_browser_client() throws Exception {
        List<String> audit = new java.util.concurrent.CopyOnWriteArrayList<>();
        // docs:api-java:start
        SquallPlugin squall = new SquallPlugin(cfg -> {
            cfg.clientPath = "/js/squall.js";                      // the browser client, for the app's pages
            cfg.ws("/rooms/{room}", ws -> {
                ws.channelFrom(handshake -> "room:" + handshake.pathParam("room"));
                ws.onMessage((client, text) -> client.squall().publish("room:" + client.pathParam("room"), Payload.text(text)));
            });
        });
        Javalin app = Javalin.create(config -> {
            config.registerPlugin(squall);
            config.routes.post("/orders/{id}", ctx -> {
                Order order = new Order(ctx.pathParam("id"), Integer.parseInt(ctx.body()));
                Published published = squall.squall().publish("orders",
                        Payload.json(order).idempotencyKey("order-" + order.id()));   // a retry publishes once
                ctx.json(Map.of("offset", published.offset()));
            });
        }).start("127.0.0.1", 0);
        ServerSubscription auditing = squall.squall().subscribe("orders",     // the app listens too
                message -> audit.add(message.offset() + " " + message.text()));
        // docs:api-java:end
        this.app = app;
        this.documented = squall;

        WsTestClient ann = connect("/rooms/lobby");
        assertThat(ann.takeText()).contains("\"channel\":\"room:lobby\"");
        ann.send("hi all");
        assertThat(ann.takeText()).isEqualTo("hi all");
        assertThat(post("/orders/o-7", "3").body()).isEqualTo("{\"offset\":1}");
        assertThat(post("/orders/o-7", "3").body()).as("the retry").isEqualTo("{\"offset\":1}");
        Await.until("the app's own subscriber", DEADLINE, () -> audit.size() == 1);
        assertThat(audit).containsExactly("1 {\"id\":\"o-7\",\"items\":3}");
        assertThat(get("/js/squall.js").body()).contains("squall.v1");
        auditing.close();
    }

    @Test
    void squall_limits_apply_to_squall_routes_while_the_apps_own_websocket_keeps_javalins_defaults() {
        app = start(cfg -> {
            cfg.maxMessageBytes = 1000;
            cfg.pingInterval = Duration.ofSeconds(5);
            cfg.ws("/squall", ws -> ws.onMessage((client, text) -> client.send("got " + text.length())));
        }, config -> config.routes.ws("/own", ws -> {
            ws.onConnect(ctx -> ctx.send("limits " + ctx.session.getMaxTextMessageSize() + " " + ctx.session.getIdleTimeout()));
            ws.onMessage(ctx -> ctx.send("own got " + ctx.message().length()));
        }));

        WsTestClient own = connect("/own");
        assertThat(own.takeText()).as("Javalin's defaults on the app's route").isEqualTo("limits 65536 PT30S");
        own.send("x".repeat(5000));
        assertThat(own.takeText()).isEqualTo("own got 5000");

        WsTestClient squall = connect("/squall");
        squall.send("x".repeat(1000));
        assertThat(squall.takeText()).isEqualTo("got 1000");
        squall.send("x".repeat(1001));
        assertThat(squall.awaitClose()).as("too big for Squall's maxMessageBytes").isEqualTo(1009);
        own.send("still here");
        assertThat(own.takeText()).isEqualTo("own got 10");
    }

    @Test
    void squall_routes_check_the_origin_and_the_apps_own_routes_are_left_alone() throws Exception {
        app = start(cfg -> {
            cfg.allowedOrigins = List.of("http://good.example");
            cfg.ws("/live", ws -> { });
        }, config -> config.routes.ws("/own", ws -> ws.onConnect(ctx -> ctx.send("own"))));

        RawHttp refused = RawHttp.get(app.port(), "/live", upgradeHeaders("http://evil.example"));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).contains("origin http://evil.example is not allowed")
                .contains("SquallPlugin.Config.allowedOrigins");
        assertThat(upgrade("/live", "http://good.example")).isEqualTo(101);
        assertThat(upgrade("/live", null)).as("no Origin: not a browser").isEqualTo(101);
        assertThat(upgrade("/own", "http://evil.example")).as("the app's own route, its own policy").isEqualTo(101);
    }

    @Test
    void the_origin_policy_plugin_puts_the_same_policy_on_every_route_of_the_app() throws Exception {
        app = start(cfg -> { }, config -> {
            config.registerPlugin(new OriginPolicyPlugin(policy -> policy.allowedOrigins = List.of("http://good.example")));
            config.routes.get("/orders", ctx -> ctx.result("no orders yet"));
            config.routes.ws("/own", ws -> { });
        });

        RawHttp refused = RawHttp.get(app.port(), "/orders", Map.of("Origin", "http://evil.example"));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).contains("add http://evil.example to OriginPolicyPlugin.Config.allowedOrigins");
        RawHttp allowed = RawHttp.get(app.port(), "/orders", Map.of("Origin", "http://good.example"));
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.header("Access-Control-Allow-Origin")).isEqualTo("http://good.example");
        assertThat(upgrade("/own", "http://evil.example")).as("the app's own WebSocket too").isEqualTo(403);
    }

    @Test
    void with_no_route_declared_a_push_only_ws_is_mounted_and_nothing_else() throws Exception {
        SquallPlugin squall = new SquallPlugin();
        app = Javalin.create(config -> config.registerPlugin(squall)).start("127.0.0.1", 0);
        documented = squall;                                                // the no-argument plugin, as it is

        WsTestClient client = connect("/ws");
        Await.until("the client is counted", DEADLINE, () -> squall.squall().connectionCount() == 1);
        client.send("ignored: a push-only route has no handler");
        assertThat(squall.squall().broadcast("pushed")).isEqualTo(1);
        assertThat(client.takeText()).isEqualTo("pushed");
        for (String path : List.of("/receive", "/metrics", "/health", "/ready")) {
            assertThat(get(path).statusCode()).as(path).isEqualTo(404);
        }
        assertThat(get("/ws").statusCode()).as("a plain GET on the WebSocket path").isEqualTo(426);
    }

    @Test
    void the_mount_points_the_app_asks_for_are_added() throws Exception {
        app = start(cfg -> {
            cfg.publishPath = "/push";
            cfg.metricsPath = "/internal/metrics";
            cfg.healthPath = "/internal/health";
            cfg.readyPath = "/internal/ready";
        }, config -> { });
        WsTestClient client = connect("/ws");
        Await.until("the publish reaches the client", DEADLINE, () -> {
            try {
                return get("/push?msg=hello").body().equals("{\"delivered\":1}");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(client.takeText()).isEqualTo("hello");
        assertThat(get("/internal/metrics").body()).contains("squall_connections");
        assertThat(get("/internal/health").body()).isEqualTo("{\"status\":\"up\"}");
        assertThat(get("/internal/ready").body()).isEqualTo("{\"status\":\"ready\"}");
    }

    @Test
    void an_apps_own_squall_route_speaks_squall_v1_to_clients_that_offer_it_without_calling_its_handlers() throws Exception {
        List<String> opened = new java.util.concurrent.CopyOnWriteArrayList<>();
        app = start(cfg -> {
            cfg.maxChannelsPerConnection = 1;
            cfg.namespace("chat", ns -> ns.presence = true);
            cfg.ws("/live", ws -> ws.onOpen(client -> {
                opened.add(client.id());
                client.send("hello plain client");
            }));
        }, config -> { });
        WsTestClient v1 = WsTestClient.connect(URI.create("ws://localhost:" + app.port() + "/live"), Map.of(), List.of("squall.v1"));
        clients.add(v1);
        assertThat(v1.subprotocol()).isEqualTo("squall.v1");
        v1.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"chat:1\"}");
        assertThat(v1.takeText()).startsWith("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"chat:1\",\"offset\":0,");
        v1.send("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"chat:2\"}");
        assertThat(v1.takeText()).contains("\"code\":\"too_many_channels\"").contains("SquallPlugin.Config.maxChannelsPerConnection");
        assertThat(opened).as("the route's handlers are for plain clients").isEmpty();

        WsTestClient plain = connect("/live");
        assertThat(plain.takeText()).isEqualTo("hello plain client");
        assertThat(opened).hasSize(1);
    }

    @Test
    void path_and_query_parameters_of_the_upgrade_reach_the_handlers() {
        app = start(cfg -> cfg.ws("/rooms/{room}", ws -> ws.onOpen(client -> client.send(
                client.path() + " " + client.pathParam("room") + " " + client.queryParam("name") + " "
                        + client.queryParams().get("tag") + " " + client.pathParam("absent")))), config -> { });

        WsTestClient client = connect("/rooms/lobby?name=ann&tag=a&tag=b");
        assertThat(client.takeText()).isEqualTo("/rooms/lobby lobby ann [a, b] null");
    }

    @Test
    void a_handler_that_throws_closes_only_its_connection_with_1011_and_no_details() {
        app = start(cfg -> cfg.ws("/ws", ws -> ws.onMessage((client, text) -> {
            if (text.equals("boom")) throw new IllegalStateException("secret internal detail");
            client.send("ok " + text);
        })), config -> { });

        WsTestClient fine = connect("/ws");
        WsTestClient failing = connect("/ws");
        failing.send("boom");
        WsTestClient.Event closed = failing.take();
        assertThat(closed.closeCode()).isEqualTo(1011);
        assertThat(closed.reason()).isEqualTo("internal error").doesNotContain("secret");
        fine.send("still");
        assertThat(fine.takeText()).isEqualTo("ok still");
    }

    @Test
    void the_app_closes_a_connection_with_its_own_code_and_later_sends_report_false() {
        AtomicReference<dev.squall.SquallConnection> held = new AtomicReference<>();
        app = start(cfg -> cfg.ws("/ws", ws -> {
            ws.onOpen(held::set);
            ws.onMessage((client, text) -> {
                assertThatThrownBy(() -> client.close(1001, "not an app code")).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("use 1000, or 3000-4999");
                client.close(4000, "bye " + text);
            });
        }), config -> { });

        WsTestClient client = connect("/ws");
        Await.until("the open handler ran", DEADLINE, () -> held.get() != null);
        client.send("ann");
        WsTestClient.Event closed = client.take();
        assertThat(closed.closeCode()).isEqualTo(4000);
        assertThat(closed.reason()).isEqualTo("bye ann");
        Await.until("the handle sees the close", DEADLINE, () -> !held.get().isOpen());
        assertThat(held.get().send("too late")).isFalse();
    }

    @Test
    void stopping_the_app_closes_squall_connections_with_1001() {
        SquallPlugin plugin = new SquallPlugin(cfg -> cfg.drainWindow = Duration.ZERO);
        app = Javalin.create(config -> config.registerPlugin(plugin)).start("127.0.0.1", 0);
        WsTestClient client = connect("/ws");
        // The client has its 101 before the server has run its open: a stop in between finds no connection of
        // Squall's to close, and Jetty, stopping at once, drops the upgrade (1006). Not what this test is about.
        Await.until("Squall holds the connection", Duration.ofSeconds(5), () -> plugin.squall().connectionCount() == 1);
        app.stop();
        app = null;
        assertThat(client.awaitClose()).isEqualTo(1001);
    }

    @Test
    void squall_upgrades_leave_no_http_session_behind_while_the_apps_own_route_does() {
        AtomicReference<ServletContextHandler> context = new AtomicReference<>();
        app = start(cfg -> { }, config -> {
            config.jetty.modifyServletContextHandler(context::set);
            config.routes.ws("/own", ws -> { });
        });
        for (int i = 0; i < 5; i++) connect("/ws");
        assertThat(sessions(context.get())).as("Squall's upgrades").isZero();
        for (int i = 0; i < 5; i++) connect("/own");
        assertThat(sessions(context.get())).as("Javalin's own upgrades create one each: the check can fail").isEqualTo(5);
    }

    @Test
    void server_side_code_publishes_to_a_channel_and_learns_its_position() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.ws("/rooms/{room}", ws -> ws.channelFrom("room"));
        });
        app = Javalin.create(config -> config.registerPlugin(plugin)).start("127.0.0.1", 0);
        WsTestClient client = connect("/rooms/lobby");
        assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\",\"channel\":\"lobby\",\"offset\":0,");

        Published published = plugin.squall().publish("lobby", "hi");

        assertThat(published.offset()).isEqualTo(1);
        assertThat(published.delivered()).isEqualTo(1);
        assertThat(published.epoch()).isNotEmpty();
        assertThat(client.takeText()).isEqualTo("hi");
        assertThat(plugin.squall().publish("elsewhere", "nobody").delivered()).isZero();
        assertThatThrownBy(() -> plugin.squall().publish("a b", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has a space");
    }

    @Test
    void server_side_broadcasts_are_checked_like_publishes() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.maxPublishBytes = 1000L;
        });
        app = Javalin.create(config -> config.registerPlugin(plugin)).start("127.0.0.1", 0);
        Squall squall = plugin.squall();
        assertThatThrownBy(() -> squall.broadcast("{\"squall\":\"dropped\",\"count\":9}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> squall.broadcast(new byte[1001]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SquallPlugin.Config.maxPublishBytes (1000 bytes)");
        assertThat(squall.broadcast(new byte[1000])).as("nobody is connected").isZero();
    }

    @Test
    void mistakes_in_the_setup_fail_at_create_and_say_what_to_change() {
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.maxQueueBytes = 10))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.maxQueueBytes must be at least 1024, got 10");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> {
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws", ws -> { });
        })))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two WebSocket routes on /ws");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.publishPath = "receive"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.publishPath must be a path starting with '/', got 'receive'");
        assertThatThrownBy(() -> Javalin.create(config -> {
            config.routes.ws("/ws", ws -> { });
            config.registerPlugin(new SquallPlugin());
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the app already has a route on /ws");
        assertThatThrownBy(() -> Javalin.create(config -> {
            config.routes.get("/metrics", ctx -> ctx.result("the app's own"));
            config.registerPlugin(new SquallPlugin(cfg -> cfg.metricsPath = "/metrics"));
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set publishPath, metricsPath");
        assertThatThrownBy(() -> Javalin.create(config -> {
            config.registerPlugin(new SquallPlugin());
            config.registerPlugin(new SquallPlugin());
        })).hasMessageContaining("SquallPlugin is already registered");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg ->
                cfg.namespace("a:b", ns -> ns.historySize = 5)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.namespace(\"a:b\"): 'a:b' is not a namespace name: use 1-255 letters, digits and - _ . @ = , (no ':')");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg ->
                cfg.namespace("chat", ns -> ns.historySize = -1)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.namespace(\"chat\").historySize must be from 0 (off) to 100000, got -1");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.maxChannelsPerConnection = 0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.maxChannelsPerConnection must be from 1 to 100000, got 0");
        SquallPlugin unregistered = new SquallPlugin();
        assertThatThrownBy(unregistered::squall).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("config.registerPlugin(plugin)");
        SquallPlugin once = new SquallPlugin();
        Javalin.create(config -> config.registerPlugin(once));
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(once)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("one SquallPlugin per app");
    }

    @Test
    void a_channel_taken_from_a_path_parameter_the_route_does_not_have_fails_at_create() {
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg ->
                cfg.ws("/chat", ws -> ws.channelFrom("room"))))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.ws(\"/chat\", ...): channelFrom(\"room\") names a path parameter the path "
                        + "does not have; put {room} in the path (such as /chat/{room})");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg ->
                cfg.ws("/rooms/{id}", ws -> ws.channelFrom("room"))))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SquallPlugin.Config.ws(\"/rooms/{id}\", ...): channelFrom(\"room\") names a path parameter the path "
                        + "does not have; put {room} in the path (such as /rooms/{id}/{room}), or take the channel from "
                        + "one it has: channelFrom(\"id\")");

        app = start(cfg -> {
            cfg.ws("/rooms/{room}", ws -> ws.channelFrom("room"));
            cfg.ws("/all/<room>", ws -> ws.channelFrom("room"));          // Javalin's form that takes slashes too
        }, config -> { });
        try (WsTestClient client = WsTestClient.connect(http, URI.create("ws://localhost:" + app.port() + "/rooms/lobby"), Map.of())) {
            assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\",\"channel\":\"lobby\"");
        }
    }

    /** An app with Squall configured by {@code squall} (no drain window: tests stop at once) and routes of its {@code own}. */
    private Javalin start(Consumer<SquallPlugin.Config> squall, Consumer<io.javalin.config.JavalinConfig> own) {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            squall.accept(cfg);
        });
        return Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.registerPlugin(plugin);
            own.accept(config);
        }).start("127.0.0.1", 0);
    }

    private static long sessions(ServletContextHandler context) {
        return ((DefaultSessionCache) context.getSessionHandler().getSessionCache()).getSessionsCurrent();
    }

    private WsTestClient connect(String pathAndQuery) {
        WsTestClient client = WsTestClient.connect(http, URI.create("ws://localhost:" + app.port() + pathAndQuery), Map.of());
        clients.add(client);
        return client;
    }

    /** The status of a WebSocket handshake on {@code path}, with this Origin (null: none). */
    private int upgrade(String path, String origin) throws Exception {
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: localhost:" + app.port() + "\r\n");
        upgradeHeaders(origin).forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        try (RawWsClient client = RawWsClient.handshake(app.port(), request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII), 0)) {
            return client.status();
        }
    }

    private static Map<String, String> upgradeHeaders(String origin) {
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("Upgrade", "websocket");
        headers.put("Connection", "Upgrade");
        headers.put("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        headers.put("Sec-WebSocket-Version", "13");
        if (origin != null) headers.put("Origin", origin);
        return headers;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path)).timeout(DEADLINE).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path)).timeout(DEADLINE)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
