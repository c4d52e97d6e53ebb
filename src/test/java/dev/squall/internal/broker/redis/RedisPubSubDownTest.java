package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose commands connection to Redis works while its pub/sub connection does not (killed with
 * {@code CLIENT KILL TYPE pubsub}, and kept from coming back by {@code maxclients}): publishes go on and are
 * numbered, but nothing reaches this node, so no subscriber may be told it is live from a position read now. A
 * {@code squall.v1} subscribe is refused with {@code unavailable}, and once the link is back it subscribes, and a
 * recovery from the last offset the client knows gets every publication of the outage.
 */
@Timeout(60)
class RedisPubSubDownTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration BACK = Duration.ofSeconds(20);

    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisProcess redis;
    private TestServer node;

    @BeforeEach
    void start() throws Exception {
        redis = RedisProcess.start();
        open.add(redis);
        node = TestServer.start(TestServer.config().redis(redis.uri()).build());
        open.add(node);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private WsTestClient v1() {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(client);
        return client;
    }

    private static JsonNode frame(WsTestClient client) throws Exception {
        return JSON.readTree(client.takeText());
    }

    @Test
    void a_v1_subscribe_while_the_pub_sub_link_is_down_is_refused_and_nothing_published_meanwhile_is_lost() throws Exception {
        JsonNode before = node.publish("news", "\"m0\"");
        String epoch = before.path("epoch").asText();
        RedisProcess.Session admin = redis.session();
        open.add(admin);
        // As many clients as Redis has once the node's pub/sub connection is gone (its commands one, and this
        // session): the pub/sub connection, once killed, cannot come back.
        int clients = Integer.parseInt(admin.command("INFO", "clients").lines()
                .filter(line -> line.startsWith("connected_clients:")).findFirst().orElseThrow().substring(18).trim());
        assertThat(admin.command("CONFIG", "SET", "maxclients", Integer.toString(clients - 1))).isEqualTo("+OK");
        assertThat(admin.command("CLIENT", "KILL", "TYPE", "pubsub")).isEqualTo("1");
        Await.until("the node to see its pub/sub connection gone", BACK, () -> node.getQuietly("/ready").contains("Redis"));

        List<Long> offsets = new ArrayList<>();
        for (int i = 1; i <= 3; i++) offsets.add(node.publish("news", "\"m" + i + "\"").path("offset").asLong());
        assertThat(offsets).as("publishes go on over the commands connection").containsExactly(2L, 3L, 4L);

        WsTestClient client = v1();
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}");
        JsonNode refused = frame(client);
        assertThat(refused.path("type").asText()).as("never subscribed from a position nothing delivers after: %s", refused)
                .isEqualTo("error");
        assertThat(refused.path("code").asText()).isEqualTo("unavailable");
        assertThat(node.hub().subscribers("news")).isZero();

        assertThat(admin.command("CONFIG", "SET", "maxclients", "10000")).isEqualTo("+OK");
        Await.until("the node to be ready again", BACK, () -> node.getQuietly("/ready").contains("\"ready\""));
        node.publish("news", "\"m4\"");

        client.send("{\"id\":2,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":1,\"epoch\":\"" + epoch + "\"}");
        JsonNode subscribed = frame(client);
        assertThat(subscribed.path("type").asText()).as(subscribed.toString()).isEqualTo("subscribed");
        assertThat(subscribed.path("epoch").asText()).isEqualTo(epoch);
        assertThat(subscribed.path("recovered").asBoolean()).isTrue();
        List<String> replayed = new ArrayList<>();
        for (int i = 0; i < 4; i++) replayed.add(frame(client).path("data").asText());
        assertThat(replayed).containsExactly("m1", "m2", "m3", "m4");
        node.publish("news", "\"m5\"");
        assertThat(frame(client).path("data").asText()).as("and live from there").isEqualTo("m5");
    }
}
