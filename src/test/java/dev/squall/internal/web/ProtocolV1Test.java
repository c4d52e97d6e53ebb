package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.channel.ChannelName;
import dev.squall.server.SquallConfig;
import dev.squall.support.Await;
import dev.squall.support.ContinuousPublisher;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

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
            this(path, Map.of());
        }

        V1(String path, Map<String, String> headers) {
            this(URI.create("ws://localhost:" + server.port() + path), headers);
        }

        V1(URI uri, Map<String, String> headers) {
            socket = WsTestClient.connect(uri, headers, List.of("squall.v1"));
            open.add(this);
        }

        void send(String command) {
            socket.send(command);
        }

        void sendBinary() {
            socket.sendBinary(new byte[]{'{', '}'});
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
            return subscribe(id, channel, "");
        }

        /** Subscribes with extra fields ({@code ,"since":4}) and checks that the reply is the subscribed one. */
        JsonNode subscribe(long id, String channel, String more) {
            JsonNode reply = call("{\"id\":" + id + ",\"type\":\"subscribe\",\"channel\":\"" + channel + "\"" + more + "}");
            assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("subscribed");
            assertThat(reply.path("id").asLong()).isEqualTo(id);
            return reply;
        }

        /** Sends a command that must fail, and returns its error reply. */
        JsonNode error(String command, String code) {
            JsonNode reply = call(command);
            assertThat(reply.path("type").asText()).as(command + " -> " + reply).isEqualTo("error");
            assertThat(reply.path("code").asText()).as(command + " -> " + reply).isEqualTo(code);
            assertThat(reply.path("message").asText()).as(command + " -> " + reply).isNotBlank();
            return reply;
        }

        void assertWorks(long id) {
            assertThat(call("{\"id\":" + id + ",\"type\":\"ping\"}").path("type").asText()).isEqualTo("pong");
            assertThat(socket.isOpen()).isTrue();
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
        server.publish("news", "\"n1\"");
        onWs.assertQuiet();
        onChannelPath.assertQuiet();
    }

    @Test
    void subscribe_replies_with_the_position_then_publications_arrive_with_channel_and_offset() throws Exception {
        server = TestServer.start();
        server.publish("news", "\"before\"");
        V1 client = new V1("/ws");
        JsonNode subscribed = client.subscribe(7, "news");
        assertThat(subscribed.path("id").asLong()).isEqualTo(7);
        assertThat(subscribed.path("channel").asText()).isEqualTo("news");
        assertThat(subscribed.path("offset").asLong()).isEqualTo(1);
        assertThat(subscribed.path("epoch").asText()).isNotEmpty();
        assertThat(subscribed.has("recovered")).as("only when since was a number").isFalse();

        server.publish("news", "\"hello\"");
        server.publish("news", "{\"score\":[1,2]}");
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
        assertThat(server.publish("news", "\"gone\"").path("delivered").asInt()).isZero();
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

    @Test
    void many_channels_on_one_connection_each_get_only_their_own_publications() throws Exception {
        server = TestServer.start();
        V1 client = new V1("/ws");
        V1 other = new V1("/ws");
        for (int i = 0; i < 40; i++) client.subscribe(i + 1, "room" + i);
        other.subscribe(1, "elsewhere");
        for (int i = 0; i < 40; i++) server.publish("room" + i, "\"to room" + i + "\"");
        server.publish("elsewhere", "\"not for client\"");
        server.publish("nobody", "\"not for anyone\"");
        for (int i = 0; i < 40; i++) {
            JsonNode publication = client.next();
            assertThat(publication.path("channel").asText()).isEqualTo("room" + i);
            assertThat(publication.path("offset").asLong()).isEqualTo(1);
            assertThat(publication.path("data").asText()).isEqualTo("to room" + i);
        }
        assertThat(other.next().path("data").asText()).isEqualTo("not for client");
        client.assertQuiet();
        other.assertQuiet();
    }

    @Test
    void recovery_gives_what_was_missed_after_the_reply_or_says_recovered_false_never_a_part() throws Exception {
        server = TestServer.start(TestServer.config().historySize(3).build());
        String epoch = server.publish("feed", "\"m1\"").path("epoch").asText();
        for (int i = 2; i <= 5; i++) server.publish("feed", "\"m" + i + "\"");

        V1 covered = new V1("/ws");
        JsonNode resumed = covered.subscribe(1, "feed", ",\"since\":3,\"epoch\":\"" + epoch + "\"");
        assertThat(resumed.path("recovered").asBoolean()).isTrue();
        assertThat(resumed.path("offset").asLong()).isEqualTo(3);
        assertThat(resumed.path("epoch").asText()).isEqualTo(epoch);
        assertThat(covered.next().path("data").asText()).as("the replay follows the reply").isEqualTo("m4");
        assertThat(covered.next().path("data").asText()).isEqualTo("m5");

        V1 beyond = new V1("/ws");
        JsonNode gap = beyond.subscribe(1, "feed", ",\"since\":1");
        assertThat(gap.path("recovered").asBoolean()).as("m2 is no longer in history").isFalse();
        assertThat(gap.path("offset").asLong()).as("the channel's newest offset: resynchronise from there").isEqualTo(5);
        V1 otherEpoch = new V1("/ws");
        JsonNode lost = otherEpoch.subscribe(1, "feed", ",\"since\":4,\"epoch\":\"not-this-one\"");
        assertThat(lost.path("recovered").asBoolean()).isFalse();
        assertThat(lost.path("offset").asLong()).isEqualTo(5);

        server.publish("feed", "\"m6\"");
        assertThat(beyond.next().path("data").asText()).as("not recovered, then live: nothing replayed").isEqualTo("m6");
        assertThat(otherEpoch.next().path("offset").asLong()).isEqualTo(6);
        assertThat(covered.next().path("offset").asLong()).isEqualTo(6);
    }

    @Test
    void since_latest_starts_with_the_newest_publication() throws Exception {
        server = TestServer.start();
        server.publish("price", "41");
        server.publish("price", "42");
        V1 dashboard = new V1("/ws");
        JsonNode subscribed = dashboard.subscribe(1, "price", ",\"since\":\"latest\"");
        assertThat(subscribed.path("offset").asLong()).isEqualTo(1);
        assertThat(subscribed.has("recovered")).isFalse();
        assertThat(dashboard.next().toString()).isEqualTo("{\"channel\":\"price\",\"offset\":2,\"data\":42}");
        V1 empty = new V1("/ws");
        assertThat(empty.subscribe(1, "nothing-yet", ",\"since\":\"latest\"").path("offset").asLong()).isZero();
        empty.assertQuiet();
    }

    @Test
    void a_client_reconnecting_dozens_of_times_under_continuous_publishing_misses_nothing_and_sees_nothing_twice() throws Exception {
        server = TestServer.start(TestServer.config().historySize(100_000).maxRecovery(100_000).build());
        V1 client = new V1("/ws");
        JsonNode start = client.subscribe(1, "load");
        long startedAfter = start.path("offset").asLong();
        String epoch = start.path("epoch").asText();
        List<String> received = new ArrayList<>();
        long offset = startedAfter;
        long last;
        ContinuousPublisher publisher = ContinuousPublisher.start(server, "load");
        try {
            for (int reconnect = 0; reconnect < 40; reconnect++) {
                int take = ThreadLocalRandom.current().nextInt(1, 30);
                for (int i = 0; i < take; i++) {
                    JsonNode publication = client.next();
                    assertThat(publication.path("offset").asLong()).isEqualTo(offset + 1);
                    received.add(publication.path("data").asText());
                    offset++;
                }
                client.close();                                             // the network blips
                client = new V1("/ws");
                JsonNode resumed = client.subscribe(reconnect + 2, "load", ",\"since\":" + offset + ",\"epoch\":\"" + epoch + "\"");
                assertThat(resumed.path("recovered").asBoolean()).as("reconnect " + reconnect).isTrue();
                assertThat(resumed.path("offset").asLong()).isEqualTo(offset);
            }
        } finally {
            last = publisher.stop();
        }
        while (offset < last) {
            received.add(client.next().path("data").asText());
            offset++;
        }

        List<String> expected = publisher.publishedAfter(startedAfter);
        assertThat(received).as("exactly what was published, in order").containsExactlyElementsOf(expected);
        assertThat(expected).hasSizeGreaterThan(40);
    }

    @Test
    void a_retried_publish_with_the_same_idempotency_key_is_delivered_once_and_answers_the_first_offset() throws Exception {
        server = TestServer.start();
        V1 reader = new V1("/ws");
        reader.subscribe(1, "orders");
        V1 writer = new V1("/ws");
        String publish = ",\"type\":\"publish\",\"channel\":\"orders\",\"data\":\"paid\",\"idempotency_key\":\"order-42\"}";
        JsonNode first = writer.call("{\"id\":1" + publish);
        JsonNode retry = writer.call("{\"id\":2" + publish);
        assertThat(first.path("duplicate").asBoolean()).isFalse();
        assertThat(retry.path("type").asText()).isEqualTo("published");
        assertThat(retry.path("duplicate").asBoolean()).isTrue();
        assertThat(retry.path("offset").asLong()).isEqualTo(first.path("offset").asLong());
        assertThat(retry.path("epoch").asText()).isEqualTo(first.path("epoch").asText());
        assertThat(retry.path("delivered").asInt()).isZero();
        writer.call("{\"id\":3,\"type\":\"publish\",\"channel\":\"orders\",\"data\":\"next\"}");
        assertThat(reader.next().path("data").asText()).isEqualTo("paid");
        assertThat(reader.next().path("data").asText()).as("the retry was not delivered").isEqualTo("next");
    }

    @Test
    void presence_counts_this_nodes_subscribers_with_the_channels_position() throws Exception {
        server = TestServer.start();
        WsTestClient plain = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/lobby"));
        open.add(plain);
        plain.takeText();
        V1 client = new V1("/ws");
        client.subscribe(1, "lobby");
        JsonNode published = server.publish("lobby", "\"hi\"");
        client.next();
        JsonNode presence = client.call("{\"id\":2,\"type\":\"presence\",\"channel\":\"lobby\"}");
        assertThat(presence.toString()).isEqualTo("{\"id\":2,\"type\":\"presence\",\"channel\":\"lobby\",\"subscribers\":2,"
                + "\"users\":0,\"offset\":1,\"epoch\":\"" + published.path("epoch").asText() + "\"}");
        assertThat(client.call("{\"id\":3,\"type\":\"presence\",\"channel\":\"empty\"}").path("subscribers").asInt()).isZero();
    }

    @Test
    void one_subscribe_past_the_bound_is_too_many_channels_until_one_is_left() throws Exception {
        server = TestServer.start();
        V1 client = new V1("/ws");
        for (int i = 1; i <= 128; i++) client.send("{\"id\":" + i + ",\"type\":\"subscribe\",\"channel\":\"c" + i + "\"}");
        for (int i = 1; i <= 128; i++) assertThat(client.next().path("type").asText()).as("subscribe " + i).isEqualTo("subscribed");
        JsonNode refused = client.error("{\"id\":129,\"type\":\"subscribe\",\"channel\":\"c129\"}", "too_many_channels");
        assertThat(refused.path("id").asLong()).isEqualTo(129);
        assertThat(refused.path("message").asText()).contains("128").contains("--max-channels-per-connection");
        assertThat(server.hub().subscribers("c129")).isZero();
        client.call("{\"id\":130,\"type\":\"unsubscribe\",\"channel\":\"c1\"}");
        client.subscribe(131, "c129");
    }

    @Test
    void the_bound_is_a_setting() throws Exception {
        server = TestServer.start(TestServer.config().maxChannelsPerConnection(2).build());
        V1 client = new V1("/ws");
        client.subscribe(1, "a");
        client.subscribe(2, "b");
        client.error("{\"id\":3,\"type\":\"subscribe\",\"channel\":\"c\"}", "too_many_channels");
        client.assertWorks(4);
    }

    private static String eventType(JsonNode event) {
        assertThat(event.has("id")).as("an event has no id: " + event).isFalse();
        return event.path("type").asText();
    }

    @Test
    void with_presence_on_a_namespace_other_v1_subscribers_hear_every_join_and_leave_but_not_their_own() throws Exception {
        server = TestServer.start(TestServer.config()
                .namespaces(Map.of("chat", new SquallConfig.Namespace(null, null, true))).build());
        V1 alice = new V1("/ws");
        alice.subscribe(1, "chat:room");
        V1 bob = new V1("/ws");
        bob.subscribe(1, "chat:room");
        JsonNode bobJoined = alice.next();
        assertThat(eventType(bobJoined)).isEqualTo("join");
        assertThat(bobJoined.path("channel").asText()).isEqualTo("chat:room");
        String bobId = bobJoined.path("client").asText();
        assertThat(bobId).isNotEmpty();

        WsTestClient plain = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/chat:room"));
        plain.takeText();
        JsonNode plainJoinedA = alice.next();
        JsonNode plainJoinedB = bob.next();
        assertThat(eventType(plainJoinedA)).isEqualTo("join");
        assertThat(plainJoinedB.path("client").asText()).isEqualTo(plainJoinedA.path("client").asText()).isNotEqualTo(bobId);
        assertThat(plain.poll(Duration.ofMillis(300))).as("plain clients get no events").isNull();

        plain.close();                                                     // leaving by disconnecting
        JsonNode plainLeft = alice.next();
        assertThat(eventType(plainLeft)).isEqualTo("leave");
        assertThat(plainLeft.path("client").asText()).isEqualTo(plainJoinedA.path("client").asText());
        assertThat(eventType(bob.next())).isEqualTo("leave");

        bob.call("{\"id\":2,\"type\":\"unsubscribe\",\"channel\":\"chat:room\"}");
        JsonNode bobLeft = alice.next();
        assertThat(eventType(bobLeft)).isEqualTo("leave");
        assertThat(bobLeft.path("client").asText()).isEqualTo(bobId);
        bob.assertQuiet();
        alice.assertQuiet();
    }

    @Test
    void without_presence_on_its_namespace_a_channel_has_no_join_or_leave_events() throws Exception {
        server = TestServer.start(TestServer.config()
                .namespaces(Map.of("chat", new SquallConfig.Namespace(null, null, true),
                        "news", new SquallConfig.Namespace(5, null))).build());
        V1 alice = new V1("/ws");
        alice.subscribe(1, "news:today");
        alice.subscribe(2, "plain-name");
        V1 bob = new V1("/ws");
        bob.subscribe(1, "news:today");
        bob.subscribe(2, "plain-name");
        bob.call("{\"id\":3,\"type\":\"unsubscribe\",\"channel\":\"news:today\"}");
        bob.close();
        alice.assertQuiet();
    }

    @Test
    void every_bad_command_gets_an_error_reply_with_its_code_and_the_connection_goes_on() throws Exception {
        server = TestServer.start();
        V1 client = new V1("/ws");
        // No usable id: the error says "id": null.
        for (String frame : List.of("not json", "", "[1,2]", "\"text\"", "42", "{\"id\":1,\"type\":\"ping\"} {}", "{\"id\":1,\"id\":2,\"type\":\"ping\"}")) {
            JsonNode reply = client.error(frame, "bad_json");
            assertThat(reply.get("id").isNull()).as(frame).isTrue();
        }
        for (String frame : List.of("{\"type\":\"ping\"}", "{\"id\":null,\"type\":\"ping\"}", "{\"id\":-1,\"type\":\"ping\"}",
                "{\"id\":0,\"type\":\"ping\"}", "{\"id\":9007199254740992,\"type\":\"ping\"}", "{\"id\":1e400,\"type\":\"ping\"}",
                "{\"id\":123456789012345678901234567890,\"type\":\"ping\"}", "{\"id\":\"1\",\"type\":\"ping\"}",
                "{\"id\":1.5,\"type\":\"ping\"}", "{\"id\":true,\"type\":\"ping\"}")) {
            JsonNode reply = client.error(frame, "bad_command");
            assertThat(reply.get("id").isNull()).as(frame).isTrue();
        }
        assertThat(client.call("{\"id\":9007199254740991,\"type\":\"ping\"}").path("id").asLong()).as("the largest id").isEqualTo(9007199254740991L);

        client.sendBinary();
        JsonNode binary = client.next();
        assertThat(binary.path("code").asText()).isEqualTo("bad_json");
        assertThat(binary.get("id").isNull()).isTrue();

        Map<String, String> withId = new java.util.LinkedHashMap<>();
        withId.put("{\"id\":5}", "bad_command");
        withId.put("{\"id\":5,\"type\":7}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"dance\"}", "unknown_type");
        withId.put("{\"id\":5,\"type\":\"ping\",\"extra\":1}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":7}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a b\"}", "bad_channel");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"\"}", "bad_channel");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"" + "x".repeat(256) + "\"}", "bad_channel");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":-1}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":\"yesterday\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":1.5}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":99999999999999999999999}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":[1]}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":1,\"epoch\":5}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":1,\"epoch\":\"\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":1,\"epoch\":\"" + "e".repeat(65) + "\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"epoch\":\"e1\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a\",\"since\":\"latest\",\"epoch\":\"e1\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"unsubscribe\",\"channel\":\"never\"}", "not_subscribed");
        withId.put("{\"id\":5,\"type\":\"unsubscribe\",\"channel\":\"a%b\"}", "bad_channel");
        withId.put("{\"id\":5,\"type\":\"publish\",\"channel\":\"a\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"publish\",\"data\":1}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"publish\",\"channel\":\"a\",\"data\":1,\"idempotency_key\":5}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"publish\",\"channel\":\"a\",\"data\":1,\"idempotency_key\":\"\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"publish\",\"channel\":\"a\",\"data\":{\"squall\":\"dropped\",\"count\":1}}", "reserved");
        withId.put("{\"id\":5,\"type\":\"publish\",\"channel\":\"a\",\"data\":\"{\\\"squ\\\\u0061ll\\\":1}\"}", "reserved");
        withId.put("{\"id\":5,\"type\":\"presence\"}", "bad_command");
        withId.put("{\"id\":5,\"type\":\"presence\",\"channel\":\"?\"}", "bad_channel");
        withId.forEach((frame, code) -> assertThat(client.error(frame, code).path("id").asLong()).as(frame).isEqualTo(5));

        client.subscribe(6, "twice");
        JsonNode again = client.error("{\"id\":7,\"type\":\"subscribe\",\"channel\":\"twice\",\"since\":0}", "already_subscribed");
        assertThat(again.path("id").asLong()).isEqualTo(7);
        assertThat(server.hub().subscribers("twice")).isEqualTo(1);
        assertThat(client.error("{\"id\":5,\"type\":\"dance\"}", "unknown_type").path("message").asText())
                .contains("subscribe, unsubscribe, publish, presence, ping");
        assertThat(client.error("{\"id\":5,\"type\":\"subscribe\",\"channel\":\"a b\"}", "bad_channel").path("message").asText())
                .isEqualTo(ChannelName.problem("a b"));
        client.assertWorks(8);
        server.publish("twice", "\"still subscribed\"");
        assertThat(client.next().path("data").asText()).isEqualTo("still subscribed");
        assertThat(server.metric("squall_connections")).isEqualTo(1);
    }

    @Test
    void a_publish_larger_than_max_publish_bytes_is_too_large() throws Exception {
        server = TestServer.start(TestServer.config().maxPublishBytes(100L).build());
        V1 client = new V1("/ws");
        client.subscribe(1, "big");
        JsonNode refused = client.error("{\"id\":2,\"type\":\"publish\",\"channel\":\"big\",\"data\":\"" + "x".repeat(101) + "\"}", "too_large");
        assertThat(refused.path("message").asText()).contains("--max-publish-bytes").contains("100");
        client.send("{\"id\":3,\"type\":\"publish\",\"channel\":\"big\",\"data\":\"" + "x".repeat(100) + "\"}");
        // Its own publication and the reply, in either order: the publication is queued while publishing.
        List<JsonNode> frames = List.of(client.next(), client.next());
        assertThat(frames).as("exactly the limit").anySatisfy(reply -> assertThat(reply.path("type").asText()).isEqualTo("published"));
        assertThat(frames).as("only the one that fitted was published")
                .anySatisfy(publication -> assertThat(publication.path("offset").asLong()).isEqualTo(1));
        client.assertQuiet();
    }

    @Test
    void publish_is_forbidden_when_the_upgrade_could_not_publish_over_http_and_says_why() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("*")).build());
        V1 crossSite = new V1("/ws", Map.of("Origin", "https://elsewhere.example"));
        JsonNode refused = crossSite.error("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "forbidden");
        assertThat(refused.path("message").asText()).contains("cross-site").contains("--publish-token");
        V1 fetchMetadata = new V1("/ws", Map.of("Sec-Fetch-Site", "cross-site"));
        fetchMetadata.error("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "forbidden");
        V1 proxied = new V1("/ws", Map.of("X-Forwarded-For", "203.0.113.9"));
        assertThat(proxied.error("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "forbidden")
                .path("message").asText()).contains("proxy");
        assertThat(server.hub().subscribers("a")).isZero();
        crossSite.assertWorks(2);
        assertThat(crossSite.subscribe(3, "a").path("offset").asLong()).as("nothing was published").isZero();

        V1 sameOrigin = new V1("/ws", Map.of("Origin", "http://localhost:" + server.port()));
        assertThat(sameOrigin.call("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}").path("type").asText()).isEqualTo("published");
    }

    @Test
    void publish_is_forbidden_from_another_machine() throws Exception {
        java.net.InetAddress external = nonLoopbackAddress();
        org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "this machine has no non-loopback address");
        server = TestServer.start(TestServer.config().host("0.0.0.0").build());
        String host = external instanceof java.net.Inet6Address ? "[" + external.getHostAddress() + "]" : external.getHostAddress();
        V1 remote = new V1(URI.create("ws://" + host + ":" + server.port() + "/ws"), Map.of());
        assertThat(remote.error("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "forbidden")
                .path("message").asText()).contains("only allowed from this machine");
        remote.subscribe(2, "a");
        remote.assertWorks(3);
    }

    private static java.net.InetAddress nonLoopbackAddress() throws Exception {
        for (java.net.NetworkInterface nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) continue;
            for (java.net.InetAddress address : java.util.Collections.list(nic.getInetAddresses())) {
                if (address instanceof java.net.Inet4Address && !address.isLoopbackAddress()) return address;
            }
        }
        return null;
    }

    @Test
    void with_a_publish_token_the_upgrade_must_carry_it() throws Exception {
        String token = "0123456789abcdef-v1";
        server = TestServer.start(TestServer.config().publishToken(token).build());
        V1 without = new V1("/ws");
        assertThat(without.error("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "forbidden")
                .path("message").asText()).contains("Authorization: Bearer");
        V1 with = new V1("/ws", Map.of("Authorization", "Bearer " + token));
        assertThat(with.call("{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}").path("type").asText()).isEqualTo("published");
    }

    @Test
    void presence_outside_presence_namespaces_is_guarded_like_publishing() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("*"))
                .namespaces(Map.of("chat", new SquallConfig.Namespace(null, null, true))).build());
        V1 crossSite = new V1("/ws", Map.of("Origin", "https://elsewhere.example"));
        crossSite.error("{\"id\":1,\"type\":\"presence\",\"channel\":\"news\"}", "forbidden");
        crossSite.subscribe(2, "chat:room");
        assertThat(crossSite.call("{\"id\":3,\"type\":\"presence\",\"channel\":\"chat:room\"}").path("subscribers").asInt()).isEqualTo(1);
    }

    @Test
    void while_the_server_drains_publish_is_unavailable_and_subscribers_stay_connected() throws Exception {
        server = TestServer.start(TestServer.config().drainWindow(Duration.ofSeconds(5)).build());
        V1 client = new V1("/ws");
        client.subscribe(1, "a");
        Thread stopping = new Thread(server::close, "test-stop");
        stopping.start();
        try {
            Await.until("the drain window started", Duration.ofSeconds(5), () -> server.getQuietly("/ready").contains("not ready"));
            client.error("{\"id\":2,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}", "unavailable");
            client.assertWorks(3);
        } finally {
            server.app.stopNow();
            stopping.join(20_000);
            server = null;
        }
    }
}
