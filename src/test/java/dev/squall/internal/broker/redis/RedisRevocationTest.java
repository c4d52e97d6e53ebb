package dev.squall.internal.broker.redis;

import dev.squall.Identity;
import dev.squall.Squall;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import dev.squall.UnavailableException;
import dev.squall.support.RawHttp;
import dev.squall.support.RedisProcess;
import dev.squall.support.SseTestClient;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Revocation across two Squall nodes in one JVM on one real redis-server: a disconnect on one node closes the user's
 * connections on the other too (a control message every node's hub acts on), leaves other users alone, and while
 * Redis is away still closes this node's and says the others could not be told.
 */
@Timeout(60)
class RedisRevocationTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static RedisProcess redis;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void empty() {
        redis.flushAll();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    /** A node whose users name themselves in X-User, with "chat:" channels open to all. */
    private record Node(Javalin app, Squall squall) {
        int port() {
            return app.port();
        }
    }

    private Node node() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.redis = redis.uri();
            cfg.ssePath = "/sse/{channel}";
            cfg.disconnectPath = "/disconnect";
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            cfg.authenticate(handshake -> handshake.header("X-User") == null ? null : Identity.of(handshake.header("X-User")));
            cfg.namespace("chat", ns -> ns.subscribe = SubscribeAccess.PUBLIC);
        });
        Javalin app = Javalin.create(javalin -> {
            javalin.registerPlugin(plugin);
            // Jetty's stop waits for requests, as the standalone server's does: with Javalin's default of none, an
            // event stream ending as the server stops leaves Javalin finishing a request Jetty has recycled already.
            javalin.jetty.modifyServer(server -> server.setStopTimeout(2000));
        }).start("127.0.0.1", 0);
        open.add(app::stop);
        return new Node(app, plugin.squall());
    }

    private WsTestClient ws(Node node, String path, String user, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + node.port() + path), Map.of("X-User", user), subprotocols);
        open.add(client);
        return client;
    }

    private WsTestClient plain(Node node, String channel, String user) {
        WsTestClient client = ws(node, "/ws/" + channel, user, List.of());
        client.takeText();
        return client;
    }

    private SseTestClient sse(Node node, String channel, String user) {
        SseTestClient client = SseTestClient.connect(URI.create("http://127.0.0.1:" + node.port() + "/sse/" + channel), Map.of("X-User", user));
        open.add(client);
        assertThat(client.status()).isEqualTo(200);
        client.take();
        return client;
    }

    private static int closeCode(WsTestClient client) {
        WsTestClient.Event event;
        do {
            event = client.take(DEADLINE);
        } while (!event.isClose());
        return event.closeCode();
    }

    @Test
    void a_disconnect_on_one_node_closes_the_users_connections_on_both_and_no_one_elses() throws Exception {
        Node a = node();
        Node b = node();
        WsTestClient adaOnA = plain(a, "chat:room", "ada");
        WsTestClient adaOnB = plain(b, "chat:room", "ada");
        WsTestClient adaV1OnB = ws(b, "/ws", "ada", List.of("squall.v1"));
        SseTestClient adaSseOnB = sse(b, "chat:room", "ada");
        WsTestClient bobOnA = plain(a, "chat:room", "bob");
        WsTestClient bobOnB = plain(b, "chat:room", "bob");
        until("all of b's connections to be open", DEADLINE, () -> b.squall().connectionCount() == 4);

        RawHttp answer = RawHttp.request(a.port(), "POST", "/disconnect", Map.of("Content-Type", "application/json"),
                "{\"user\":\"ada\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(answer.body()).as("what this node closed; b closes its own").isEqualTo("{\"disconnected\":1}");

        assertThat(closeCode(adaOnA)).isEqualTo(3503);
        assertThat(closeCode(adaOnB)).as("closed by b, told through Redis").isEqualTo(3503);
        assertThat(closeCode(adaV1OnB)).isEqualTo(3503);
        assertThat(adaSseOnB.awaitEnd(DEADLINE)).isTrue();
        until("b's count of ada's connections to be gone", DEADLINE, () -> b.squall().connectionCount() == 1);

        b.squall().publish("chat:room", "still here");
        assertThat(bobOnA.takeText()).isEqualTo("still here");
        assertThat(bobOnB.takeText()).isEqualTo("still here");

        assertThat(b.squall().disconnect("bob")).as("b's own bob, from the API").isEqualTo(1);
        assertThat(closeCode(bobOnB)).isEqualTo(3503);
        assertThat(closeCode(bobOnA)).as("and a's, told by b").isEqualTo(3503);
    }

    @Test
    void while_redis_is_away_this_nodes_connections_close_and_the_caller_learns_the_others_were_not_told() throws Exception {
        Node a = node();
        WsTestClient ada = plain(a, "chat:room", "ada");
        redis.kill();
        try {
            assertThatThrownBy(() -> a.squall().disconnect("ada")).isInstanceOf(UnavailableException.class);
            assertThat(closeCode(ada)).as("closed here all the same").isEqualTo(3503);
            RawHttp answer = RawHttp.request(a.port(), "POST", "/disconnect", Map.of("Content-Type", "application/json"),
                    "{\"user\":\"ada\"}".getBytes(StandardCharsets.UTF_8));
            assertThat(answer.status()).isEqualTo(503);
            assertThat(answer.header("Retry-After")).isNotNull();
        } finally {
            redis.restart();
        }
    }

    @Test
    void a_control_message_no_squall_node_wrote_closes_nothing_and_the_next_real_one_still_works() throws Exception {
        Node a = node();
        Node b = node();
        WsTestClient adaOnB = plain(b, "chat:room", "ada");
        for (String forged : List.of("", "D:", "D:node", "D:node:", "X:node:ada", "ada")) redis.command("PUBLISH", "squall:control", forged);

        a.squall().disconnect("ada");
        assertThat(closeCode(adaOnB)).as("the real one, after the forged ones").isEqualTo(3503);
    }
}
