package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.server.SquallConfig;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
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
}
