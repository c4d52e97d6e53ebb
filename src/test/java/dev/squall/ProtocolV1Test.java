package dev.squall;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.RawWsClient;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
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
 * The {@code squall.v1} subprotocol over a real server and the JDK's WebSocket client: the handshake selects it,
 * commands get replies with their id, publications arrive wrapped with their channel and offset.
 */
@Timeout(60)
class ProtocolV1Test {

    static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) c.close();
        if (server != null) server.close();
    }

    /** A squall.v1 connection: send commands, take frames as JSON. */
    final class V1 implements AutoCloseable {
        final WsTestClient socket;

        V1(String path) {
            socket = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + path), Map.of(), List.of("squall.v1"));
            open.add(this);
        }

        void send(String command) {
            socket.send(command);
        }

        JsonNode next() {
            try {
                return JSON.readTree(socket.takeText());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        /** Sends a command and takes the next frame, which must be its reply. */
        JsonNode call(String command) {
            send(command);
            JsonNode reply = next();
            assertThat(reply.has("id")).as("a reply: " + reply).isTrue();
            return reply;
        }

        JsonNode subscribe(long id, String channel) {
            JsonNode reply = call("{\"id\":" + id + ",\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
            assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("subscribed");
            return reply;
        }

        /** Nothing arrives for a moment. */
        void assertQuiet() throws InterruptedException {
            WsTestClient.Event event = socket.poll(Duration.ofMillis(300));
            assertThat(event).as("nothing more").isNull();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    private JsonNode publishOverHttp(String channel, String dataJson) throws Exception {
        HttpResponse<String> response = server.post("/publish", "application/json",
                ("{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}").getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    @Test
    void the_handshake_selects_squall_v1_when_offered_among_others_and_nothing_for_plain_clients() throws Exception {
        server = TestServer.start();
        try (RawWsClient raw = RawWsClient.connect(server.port(), Map.of("Sec-WebSocket-Protocol", "chat, squall.v1"), 0)) {
            assertThat(raw.status()).isEqualTo(101);
            assertThat(raw.header("Sec-WebSocket-Protocol")).isEqualTo("squall.v1");
        }
        try (RawWsClient plain = RawWsClient.connect(server.port())) {
            assertThat(plain.status()).isEqualTo(101);
            assertThat(plain.header("Sec-WebSocket-Protocol")).isNull();
            assertThat(plain.read(Duration.ofSeconds(5)).text()).as("the tutorial's greeting, as before").isEqualTo("Welcome");
        }
        V1 client = new V1("/ws");
        assertThat(client.socket.subprotocol()).isEqualTo("squall.v1");
        assertThat(client.call("{\"id\":1,\"type\":\"ping\"}").toString()).isEqualTo("{\"id\":1,\"type\":\"pong\"}");
    }

    @Test
    void a_v1_connection_starts_on_no_channel_and_gets_no_greeting_or_broadcast() throws Exception {
        server = TestServer.start();
        V1 onWs = new V1("/ws");
        V1 onChannelPath = new V1("/ws/news");
        server.get("/receive?msg=hello");
        publishOverHttp("news", "\"n1\"");
        onWs.assertQuiet();
        onChannelPath.assertQuiet();
    }

    @Test
    void subscribe_replies_with_the_position_then_publications_arrive_with_channel_and_offset() throws Exception {
        server = TestServer.start();
        publishOverHttp("news", "\"before\"");
        V1 client = new V1("/ws");
        JsonNode subscribed = client.subscribe(7, "news");
        assertThat(subscribed.path("id").asLong()).isEqualTo(7);
        assertThat(subscribed.path("channel").asText()).isEqualTo("news");
        assertThat(subscribed.path("offset").asLong()).isEqualTo(1);
        assertThat(subscribed.path("epoch").asText()).isNotEmpty();
        assertThat(subscribed.has("recovered")).as("only when since was a number").isFalse();

        publishOverHttp("news", "\"hello\"");
        publishOverHttp("news", "{\"score\":[1,2]}");
        server.post("/receive?channel=news", "application/octet-stream", new byte[]{1, 2, 3});
        assertThat(client.next().toString()).isEqualTo("{\"channel\":\"news\",\"offset\":2,\"data\":\"hello\"}");
        assertThat(client.next().toString()).isEqualTo("{\"channel\":\"news\",\"offset\":3,\"data\":{\"score\":[1,2]}}");
        assertThat(client.next().toString()).isEqualTo("{\"channel\":\"news\",\"offset\":4,\"data\":\"AQID\",\"encoding\":\"base64\"}");
    }

    @Test
    void unsubscribe_stops_the_channel_and_the_reply_says_so() throws Exception {
        server = TestServer.start();
        V1 client = new V1("/ws");
        client.subscribe(1, "news");
        JsonNode reply = client.call("{\"id\":2,\"type\":\"unsubscribe\",\"channel\":\"news\"}");
        assertThat(reply.toString()).isEqualTo("{\"id\":2,\"type\":\"unsubscribed\",\"channel\":\"news\"}");
        assertThat(publishOverHttp("news", "\"gone\"").path("delivered").asInt()).isZero();
        client.assertQuiet();
    }

    @Test
    void publish_from_this_machine_reaches_plain_and_v1_subscribers_and_replies_with_the_position() throws Exception {
        server = TestServer.start();
        WsTestClient plain = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/news"));
        open.add(plain);
        assertThat(JSON.readTree(plain.takeText()).path("squall").asText()).isEqualTo("subscribed");
        V1 reader = new V1("/ws");
        reader.subscribe(1, "news");
        V1 writer = new V1("/ws");

        JsonNode published = writer.call("{\"id\":3,\"type\":\"publish\",\"channel\":\"news\",\"data\":{\"a\":1}}");
        assertThat(published.path("type").asText()).isEqualTo("published");
        assertThat(published.path("id").asLong()).isEqualTo(3);
        assertThat(published.path("channel").asText()).isEqualTo("news");
        assertThat(published.path("offset").asLong()).isEqualTo(1);
        assertThat(published.path("epoch").asText()).isNotEmpty();
        assertThat(published.path("delivered").asInt()).isEqualTo(2);
        assertThat(published.path("duplicate").asBoolean()).isFalse();
        assertThat(published.path("duplicate").isBoolean()).isTrue();
        assertThat(plain.takeText()).isEqualTo("{\"a\":1}");
        assertThat(reader.next().toString()).isEqualTo("{\"channel\":\"news\",\"offset\":1,\"data\":{\"a\":1}}");

        writer.call("{\"id\":4,\"type\":\"publish\",\"channel\":\"news\",\"data\":\"text\"}");
        assertThat(plain.takeText()).as("a string arrives at plain clients as its text").isEqualTo("text");
        assertThat(reader.next().path("data").asText()).isEqualTo("text");
    }
}
