package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.RedisProcess;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What clients are told while the node has lost Redis (issue 10, Faults): every publish and read is refused at
 * once with 503, {@code Retry-After} and a JSON error, or {@code unavailable} in {@code squall.v1}, so a publisher
 * knows it failed; {@code /ready} takes the node out of rotation; and all of it ends when Redis is back.
 */
@Timeout(60)
class RedisUnavailableTest {

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
        node.publish("news", "\"before\"");
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private WsTestClient v1() throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(client);
        return client;
    }

    private static JsonNode frame(WsTestClient client) throws Exception {
        return JSON.readTree(client.takeText());
    }

    private HttpResponse<String> publish(String body) throws Exception {
        return node.post("/publish", "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private int readyQuietly() {
        try {
            return node.get("/ready").statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private int publishQuietly(String body) {
        try {
            return publish(body).statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void while_redis_is_lost_a_publish_is_refused_with_503_retry_after_and_a_json_error_and_succeeds_once_it_is_back() throws Exception {
        redis.kill();

        HttpResponse<String> refused = publish("{\"channel\":\"news\",\"data\":\"lost\",\"idempotency_key\":\"k1\"}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(JSON.readTree(refused.body()).path("error").asText()).startsWith("Redis is unavailable");
        assertThat(refused.body()).as("no exception text reaches the client").doesNotContain("Exception", "lettuce");

        HttpResponse<String> receive = node.get("/receive?channel=news&msg=lost");
        assertThat(receive.statusCode()).isEqualTo(503);
        assertThat(receive.headers().firstValue("Retry-After")).hasValue("2");
        HttpResponse<String> broadcast = node.get("/receive?msg=everyone");
        assertThat(broadcast.statusCode()).as("the tutorial's broadcast goes through Redis too").isEqualTo(503);
        assertThat(node.get("/channels/news/history").statusCode()).isEqualTo(503);
        assertThat(node.get("/channels/news").statusCode()).isEqualTo(503);
        assertThat(node.metric("squall_publishes_total")).as("refused publishes are not counted").isEqualTo(1);

        redis.restart();
        Await.until("Redis is back", BACK, () -> publishQuietly("{\"channel\":\"news\",\"data\":\"again\",\"idempotency_key\":\"k1\"}") == 200);
        HttpResponse<String> retried = publish("{\"channel\":\"news\",\"data\":\"again\",\"idempotency_key\":\"k1\"}");
        assertThat(JSON.readTree(retried.body()).path("duplicate").asBoolean()).as("a second retry with the key publishes nothing").isTrue();
    }

    @Test
    void a_squall_v1_publish_or_subscribe_while_redis_is_lost_is_answered_unavailable_and_the_connection_goes_on() throws Exception {
        WsTestClient client = v1();
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}");
        assertThat(frame(client).path("type").asText()).isEqualTo("subscribed");
        redis.kill();

        client.send("{\"id\":2,\"type\":\"publish\",\"channel\":\"news\",\"data\":\"lost\"}");
        JsonNode refused = frame(client);
        assertThat(refused.path("type").asText()).isEqualTo("error");
        assertThat(refused.path("id").asLong()).isEqualTo(2);
        assertThat(refused.path("code").asText()).isEqualTo("unavailable");
        assertThat(refused.path("message").asText()).startsWith("Redis is unavailable");

        client.send("{\"id\":3,\"type\":\"subscribe\",\"channel\":\"sport\",\"since\":0}");
        JsonNode notSubscribed = frame(client);
        assertThat(notSubscribed.path("code").asText()).isEqualTo("unavailable");
        assertThat(notSubscribed.path("id").asLong()).isEqualTo(3);
        assertThat(node.hub().subscribers("sport")).as("a subscription that could not start is not left buffering").isZero();

        client.send("{\"id\":4,\"type\":\"ping\"}");
        assertThat(frame(client).path("type").asText()).as("the connection goes on").isEqualTo("pong");

        redis.restart();
        // Ready once every channel is subscribed again: a subscribe before that is refused (see the test below).
        Await.until("Redis is back", BACK, () -> readyQuietly() == 200);
        client.send("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"sport\"}");
        // Two frames, in either order: the reply, and 'news' told that the restarted Redis lost its stream.
        List<JsonNode> frames = List.of(frame(client), frame(client));
        assertThat(frames).as("the failed subscribe did not leave 'sport' taken")
                .anySatisfy(reply -> {
                    assertThat(reply.path("type").asText()).isEqualTo("subscribed");
                    assertThat(reply.path("id").asLong()).isEqualTo(5);
                })
                .anySatisfy(reset -> {
                    assertThat(reset.path("type").asText()).isEqualTo("reset");
                    assertThat(reset.path("channel").asText()).isEqualTo("news");
                });
    }

    @Test
    void ready_answers_503_naming_redis_while_it_is_lost_and_200_once_it_is_back() throws Exception {
        assertThat(node.get("/ready").statusCode()).isEqualTo(200);
        assertThat(node.metric("squall_broker_connected")).isEqualTo(1.0);
        redis.kill();
        Await.until("/ready follows the lost Redis", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        assertThat(node.metric("squall_broker_connected")).isZero();
        assertThat(JSON.readTree(node.get("/ready").body()).path("error").asText()).isEqualTo("not ready: Redis is unavailable");
        assertThat(node.get("/health").statusCode()).as("the process is alive: only readiness follows Redis").isEqualTo(200);
        redis.restart();
        Await.until("/ready once Redis is back", BACK, () -> node.getQuietly("/ready").contains("\"ready\""));
    }

    @Test
    void a_channel_upgrade_while_redis_is_lost_is_refused_with_503_before_the_handshake() throws Exception {
        redis.kill();
        Await.until("/ready follows the lost Redis", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        RawHttp refused = RawHttp.get(node.port(), "/ws/news?since=1", Map.of(
                "Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("Retry-After")).isEqualTo("2");
        assertThat(refused.body()).contains("Redis is unavailable");
    }

    @Test
    void a_channel_upgrade_with_a_malformed_since_is_a_400_even_while_redis_is_lost_as_a_retry_cannot_mend_it() throws Exception {
        redis.kill();
        Await.until("/ready follows the lost Redis", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        RawHttp refused = RawHttp.get(node.port(), "/ws/news?since=abc", Map.of(
                "Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body()).contains("since");
    }

    @Test
    void an_sse_stream_opened_while_redis_is_lost_ends_at_once_with_a_retry_hint_so_an_event_source_comes_back() throws Exception {
        redis.kill();
        Await.until("/ready follows the lost Redis", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        SseTestClient stream = SseTestClient.connect(URI.create("http://localhost:" + node.port() + "/sse/news"));
        open.add(stream);
        assertThat(stream.status()).as("not a 503: an EventSource would give up for good").isEqualTo(200);
        assertThat(stream.takeComment(Duration.ofSeconds(10))).contains("Redis is unavailable");
        assertThat(stream.awaitEnd(Duration.ofSeconds(10))).as("the stream ends, and an EventSource reconnects").isTrue();
    }

    @Test
    void a_redis_stuck_on_a_slow_command_does_not_hold_up_the_heartbeat_of_the_nodes_clients() throws Exception {
        TestServer pinging = TestServer.start(TestServer.config().redis(redis.uri())
                .pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofSeconds(30)).build());
        open.add(pinging);
        RawWsClient listener = RawWsClient.connect(pinging.port());
        open.add(listener);
        assertThat(listener.read(Duration.ofSeconds(5)).text()).isEqualTo("Welcome");
        WsTestClient leaving = WsTestClient.connect(URI.create("ws://localhost:" + pinging.port() + "/ws/slow"));
        open.add(leaving);
        leaving.takeText();

        redis.freeze(Duration.ofSeconds(4));
        leaving.close();                       // its channel empties: the node unsubscribes it, and that waits on Redis
        Await.until("the channel to empty", Duration.ofSeconds(5), () -> pinging.hub().subscribers("slow") == 0);
        long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
        int pings = 0;
        while (System.nanoTime() < end) {
            RawWsClient.Frame ping = listener.readUntil(RawWsClient.PING, Duration.ofSeconds(2));   // throws after 2 s without
            listener.sendFrame(RawWsClient.PONG, ping.payload());             // the next ping waits for this answer
            pings++;
        }
        assertThat(pings).as("pings every 200 ms while Redis sleeps").isGreaterThanOrEqualTo(4);
    }

    @Test
    void a_plain_ws_client_connects_while_redis_is_lost_and_hears_broadcasts_once_it_is_back() throws Exception {
        redis.kill();
        Await.until("/ready follows the lost Redis", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        WsTestClient plain = WsTestClient.connect(node.ws());
        open.add(plain);
        assertThat(plain.takeText()).isEqualTo("Welcome");

        redis.restart();
        Await.until("/ready once Redis is back", BACK, () -> node.getQuietly("/ready").contains("\"ready\""));
        assertThat(node.get("/receive?msg=back").statusCode()).isEqualTo(200);
        assertThat(plain.takeText()).isEqualTo("back");
    }
}
