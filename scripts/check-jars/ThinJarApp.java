import dev.squall.SquallPlugin;
import dev.squall.kotlin.SquallDsl;
import io.javalin.Javalin;
import kotlin.Unit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An app that embeds Squall the way docs/embedding.md says, run by scripts/check-jars.sh on the thin jar and the
 * dependencies an app gets from Squall's POM (no optional ones: no Lettuce, Netty or Reactor).
 * <ul>
 *   <li>{@code plain}: starts Javalin with the plugin, answers its own route, and delivers a publish made over HTTP
 *       and one made from code to a WebSocket client on a channel; exits 0 when all of that worked.</li>
 *   <li>{@code redis URI}: configures {@code redis}; {@code Javalin.create()} must refuse it with an exception (not
 *       an error such as {@code NoClassDefFoundError}), whose class and message are printed; exits 0 then.</li>
 *   <li>{@code kotlin-dsl}: builds the plugin with the Kotlin DSL ({@code squall { ws("/chat") { onMessage { ... } } }},
 *       called here as a Kotlin caller's bytecode calls it) without kotlinx-coroutines, an optional dependency, and
 *       talks to its route; exits 0 when the client was greeted and echoed.</li>
 * </ul>
 * Any failure ends with a stack trace and exit code 1.
 */
public class ThinJarApp {

    private static final Duration WAIT = Duration.ofSeconds(10);

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("redis")) {
            refusesRedis(args[1]);
        } else if (args.length == 1 && args[0].equals("plain")) {
            servesWithoutRedis();
        } else if (args.length == 1 && args[0].equals("kotlin-dsl")) {
            servesFromTheKotlinDsl();
        } else {
            throw new IllegalArgumentException("usage: ThinJarApp plain | ThinJarApp redis URI | ThinJarApp kotlin-dsl");
        }
        System.exit(0);
    }

    private static void servesWithoutRedis() throws Exception {
        try {
            Class.forName("io.lettuce.core.RedisClient");
            throw new AssertionError("Lettuce is on this app's classpath: the check would prove nothing");
        } catch (ClassNotFoundException expected) {
            // The point of the run: Squall without its optional Redis client.
        }
        SquallPlugin squall = new SquallPlugin(cfg -> {
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            cfg.publishApiPath = "/publish";
            cfg.metricsPath = "/metrics";
            cfg.drainWindow = Duration.ZERO;
        });
        Javalin app = Javalin.create(config -> {
            config.registerPlugin(squall);
            config.routes.get("/orders", ctx -> ctx.result("no orders yet"));
        }).start("127.0.0.1", 0);
        try {
            String base = "127.0.0.1:" + app.port();
            HttpClient http = HttpClient.newHttpClient();
            expect(get(http, "http://" + base + "/orders"), "no orders yet", "GET /orders");

            BlockingQueue<String> frames = new LinkedBlockingQueue<>();
            WebSocket socket = http.newWebSocketBuilder()
                    .buildAsync(URI.create("ws://" + base + "/ws/news"), new Collect(frames))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            String first = next(frames, "the subscribed frame");
            if (!first.contains("\"squall\":\"subscribed\"")) throw new AssertionError("first frame on /ws/news: " + first);

            HttpResponse<String> published = http.send(HttpRequest.newBuilder(URI.create("http://" + base + "/publish"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"channel\":\"news\",\"data\":\"over http\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (published.statusCode() != 200) throw new AssertionError("POST /publish: " + published.statusCode() + " " + published.body());
            expect(next(frames, "the publish over HTTP"), "over http", "the WebSocket client's next frame");

            squall.squall().publish("news", "from code");
            expect(next(frames, "the publish from code"), "from code", "the WebSocket client's next frame");

            String metrics = get(http, "http://" + base + "/metrics");
            if (!metrics.contains("squall_broker_connected 1.0")) throw new AssertionError("GET /metrics has no squall_broker_connected 1.0");
            socket.abort();
            System.out.println("served GET /orders, /ws/news, POST /publish, a publish from code and GET /metrics");
        } finally {
            app.stop();
        }
    }

    private static void servesFromTheKotlinDsl() throws Exception {
        try {
            Class.forName("kotlinx.coroutines.flow.Flow");
            throw new AssertionError("kotlinx-coroutines is on this app's classpath: the check would prove nothing");
        } catch (ClassNotFoundException expected) {
            // The point of the run: the DSL without the optional coroutines.
        }
        // squall { ws("/chat") { onOpen { send("hello") }; onMessage { text -> send("echo: $text") } } }
        SquallPlugin squall = SquallDsl.squall(cfg -> {
            cfg.ws("/chat", route -> {
                route.onOpen(client -> {
                    client.send("hello");
                    return Unit.INSTANCE;
                });
                route.onMessage((client, text) -> {
                    client.send("echo: " + text);
                    return Unit.INSTANCE;
                });
                return Unit.INSTANCE;
            });
            return Unit.INSTANCE;
        });
        Javalin app = Javalin.create(config -> config.registerPlugin(squall)).start("127.0.0.1", 0);
        try {
            BlockingQueue<String> frames = new LinkedBlockingQueue<>();
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + app.port() + "/chat"), new Collect(frames))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            expect(next(frames, "the greeting"), "hello", "the first frame on /chat");
            socket.sendText("hi", true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            expect(next(frames, "the echo"), "echo: hi", "the answer to 'hi'");
            socket.abort();
            System.out.println("served /chat from a plugin built by the Kotlin DSL, without kotlinx-coroutines");
        } finally {
            app.stop();
        }
    }

    private static void refusesRedis(String uri) {
        Javalin app;
        try {
            app = Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.redis = uri)));
        } catch (RuntimeException refused) {
            System.out.println(refused.getClass().getName() + ": " + refused.getMessage());
            return;
        }
        app.stop();
        throw new AssertionError("Javalin.create() accepted redis = " + uri + " without Lettuce on the classpath");
    }

    private static String get(HttpClient http, String url) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new AssertionError("GET " + url + ": " + response.statusCode() + " " + response.body());
        return response.body();
    }

    private static String next(BlockingQueue<String> frames, String what) throws InterruptedException {
        String frame = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (frame == null) throw new AssertionError("no frame within " + WAIT.toSeconds() + " s: expected " + what);
        return frame;
    }

    private static void expect(String actual, String expected, String what) {
        if (!actual.equals(expected)) throw new AssertionError(what + ": expected '" + expected + "', got '" + actual + "'");
    }

    /** Whole text messages into a queue. */
    private record Collect(BlockingQueue<String> frames, StringBuilder partial) implements WebSocket.Listener {
        Collect(BlockingQueue<String> frames) {
            this(frames, new StringBuilder());
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                frames.add(partial.toString());
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }
    }
}
