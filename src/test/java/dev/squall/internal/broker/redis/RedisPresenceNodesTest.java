package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.Identity;
import dev.squall.ReadAccess;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import dev.squall.server.SquallConfig;
import dev.squall.support.RawHttp;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence across two Squall nodes in one JVM on one real redis-server: the subscriber counts of the presence
 * reply and of {@code GET /channels/{c}} are over both nodes, and a subscriber on one node hears who joins and
 * leaves on the other, once, with the joining client's own connection id.
 */
@Timeout(60)
class RedisPresenceNodesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
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

    private TestServer node() {
        TestServer server = TestServer.start(TestServer.config().redis(redis.uri())
                .namespaces(Map.of("chat", new SquallConfig.Namespace(null, null, true))).build());
        open.add(server);
        return server;
    }

    private WsTestClient plain(TestServer server, String channel) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/" + channel));
        open.add(client);
        client.takeText();                                            // its subscribed notice
        return client;
    }

    private WsTestClient v1(TestServer server, String channel) throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(client);
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(next(client).path("type").asText()).isEqualTo("subscribed");
        return client;
    }

    private static JsonNode next(WsTestClient client) throws Exception {
        return JSON.readTree(client.takeText());
    }

    private static int subscribers(TestServer server, String channel) {
        try {
            return JSON.readTree(server.getQuietly("/channels/" + channel)).path("subscribers").asInt();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void the_presence_reply_and_the_channel_route_count_the_subscribers_of_both_nodes_and_follow_a_leave() throws Exception {
        TestServer a = node();
        TestServer b = node();
        WsTestClient first = plain(a, "chat:room");
        plain(a, "chat:room");
        WsTestClient onB = v1(b, "chat:room");

        until("both nodes to count all three", DEADLINE, () -> subscribers(a, "chat:room") == 3 && subscribers(b, "chat:room") == 3);
        onB.send("{\"id\":2,\"type\":\"presence\",\"channel\":\"chat:room\"}");
        JsonNode reply;
        do {
            reply = next(onB);                                        // a's joins may come first
        } while (!reply.has("id"));
        assertThat(reply.path("subscribers").asInt()).as(reply.toString()).isEqualTo(3);
        assertThat(JSON.readTree(b.get("/channels").body()).toString()).as("the list is this node's channels and counts")
                .isEqualTo("{\"channels\":[{\"channel\":\"chat:room\",\"subscribers\":1}],\"more\":false}");

        first.close();
        until("the leave on a to count on b", DEADLINE, () -> subscribers(b, "chat:room"), 2);
        assertThat(subscribers(a, "chat:room")).isEqualTo(2);
    }

    @Test
    void a_subscriber_hears_joins_and_leaves_on_the_other_node_once_with_the_clients_own_id() throws Exception {
        TestServer a = node();
        TestServer b = node();
        WsTestClient watcherA = v1(a, "chat:room");
        WsTestClient watcherB = v1(b, "chat:room");
        JsonNode bJoined = next(watcherA);
        assertThat(bJoined.path("type").asText()).as("b's watcher joined on the other node").isEqualTo("join");

        WsTestClient carol = v1(a, "chat:room");
        JsonNode localJoin = next(watcherA);
        JsonNode remoteJoin = next(watcherB);
        assertThat(localJoin.path("type").asText()).isEqualTo("join");
        assertThat(remoteJoin.toString()).as("the same event, with the id a's own subscribers see").isEqualTo(localJoin.toString());
        assertThat(remoteJoin.path("client").asText()).isNotEqualTo(bJoined.path("client").asText());

        carol.send("{\"id\":2,\"type\":\"unsubscribe\",\"channel\":\"chat:room\"}");
        assertThat(next(carol).path("type").asText()).isEqualTo("unsubscribed");
        JsonNode localLeave = next(watcherA);
        assertThat(localLeave.path("type").asText()).isEqualTo("leave");
        assertThat(next(watcherB).toString()).isEqualTo(localLeave.toString());
        assertThat(localLeave.path("client").asText()).isEqualTo(localJoin.path("client").asText());

        a.publish("chat:room", "\"fence\"");
        assertThat(next(watcherA).path("data").asText()).as("nothing twice before the publication").isEqualTo("fence");
        assertThat(next(watcherB).path("data").asText()).isEqualTo("fence");
        watcherB.close();
        JsonNode bLeft = next(watcherA);
        assertThat(bLeft.path("type").asText()).as("b's last subscriber leaving is heard on a").isEqualTo("leave");
        assertThat(bLeft.path("client").asText()).isEqualTo(bJoined.path("client").asText());
    }

    /** A node of an app whose users name themselves in X-User (and X-Info), with presence on "chat:". */
    private Javalin identified() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.redis = redis.uri();
            cfg.channelsPath = "/channels";
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            cfg.authenticate(handshake -> handshake.header("X-User") == null ? null
                    : Identity.of(handshake.header("X-User"), handshake.header("X-Info")));
            cfg.namespace("chat", ns -> {
                ns.presence = true;
                ns.subscribe = SubscribeAccess.PUBLIC;
                ns.read = ReadAccess.PUBLIC;
            });
        });
        Javalin app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        open.add(app::stop);
        return app;
    }

    private WsTestClient as(Javalin app, String path, String user, List<String> subprotocols, String... info) {
        Map<String, String> headers = new java.util.HashMap<>(Map.of("X-User", user));
        if (info.length > 0) headers.put("X-Info", info[0]);
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path), headers, subprotocols);
        open.add(client);
        return client;
    }

    private static JsonNode channel(Javalin app, String channel) {
        try {
            return JSON.readTree(RawHttp.get(app.port(), "/channels/" + channel, Map.of()).body());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void users_count_once_over_both_nodes_and_a_join_on_one_reaches_the_other_with_the_user_and_info() throws Exception {
        Javalin a = identified();
        Javalin b = identified();
        as(a, "/ws/chat:room", "ada", List.of()).takeText();
        WsTestClient watcher = as(b, "/ws", "watcher", List.of("squall.v1"));
        watcher.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"chat:room\"}");
        assertThat(next(watcher).path("type").asText()).isEqualTo("subscribed");
        as(b, "/ws/chat:room", "ada", List.of()).takeText();                    // ada again, on the other node
        assertThat(next(watcher).path("user").asText()).as("ada's join on b").isEqualTo("ada");

        until("both nodes to count ada and the watcher, and all three connections", DEADLINE, () -> {
            JsonNode atA = channel(a, "chat:room");
            JsonNode atB = channel(b, "chat:room");
            return atA.path("users").asInt() == 2 && atB.path("users").asInt() == 2
                    && atA.path("subscribers").asInt() == 3 && atB.path("subscribers").asInt() == 3;
        });

        WsTestClient bob = as(a, "/ws/chat:room", "bob", List.of(), "{\"name\":\"Bob\"}");
        bob.takeText();
        JsonNode bobJoined = next(watcher);
        assertThat(bobJoined.path("type").asText()).isEqualTo("join");
        assertThat(bobJoined.path("user").asText()).isEqualTo("bob");
        assertThat(bobJoined.path("info").toString()).isEqualTo("{\"name\":\"Bob\"}");
        until("b to count bob", DEADLINE, () -> channel(b, "chat:room").path("users").asInt() == 3);

        bob.close();
        JsonNode bobLeft = next(watcher);
        assertThat(bobLeft.path("type").asText()).isEqualTo("leave");
        assertThat(bobLeft.path("user").asText()).isEqualTo("bob");
        assertThat(bobLeft.path("client").asText()).isEqualTo(bobJoined.path("client").asText());
        until("bob's leave to count on b", DEADLINE, () -> channel(b, "chat:room").path("users").asInt() == 2);
    }
}
