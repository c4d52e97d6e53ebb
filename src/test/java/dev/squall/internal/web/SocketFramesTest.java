package dev.squall.internal.web;

import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Squall's sockets are its own, on Jetty's core WebSocket API ({@link JettySocket}), not Jetty's or Javalin's
 * WebSocket layer: what those did with frames, this keeps doing, checked frame by frame from a raw socket.
 */
@Timeout(60)
class SocketFramesTest {

    private static final int MAX_MESSAGE = 1024;
    private static final int MESSAGE_TOO_LARGE = 1009;
    private static final int INVALID_PAYLOAD = 1007;
    private static final int PROTOCOL_ERROR = 1002;

    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.config().maxMessageBytes(MAX_MESSAGE).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void a_ping_is_answered_with_a_pong_carrying_its_payload() throws Exception {
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.PING, "are you there".getBytes(StandardCharsets.UTF_8));
            RawWsClient.Frame pong = client.readUntil(RawWsClient.PONG, WsTestClient.DEADLINE);
            assertThat(pong.text()).isEqualTo("are you there");
            client.sendText("still talking");
            assertThat(client.readUntil(RawWsClient.TEXT, WsTestClient.DEADLINE).text()).isEqualTo("new message :still talking");
        }
    }

    @Test
    void a_text_message_in_fragments_arrives_whole_even_with_a_character_split_between_them() throws Exception {
        byte[] text = "grüße, 世界".getBytes(StandardCharsets.UTF_8);
        int split = 3;                                                  // inside ü's two bytes
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.TEXT, false, Arrays.copyOfRange(text, 0, split));
            client.sendFrame(RawWsClient.PING, new byte[0]);            // a control frame between fragments is allowed
            client.sendFrame(RawWsClient.CONTINUATION, false, Arrays.copyOfRange(text, split, 8));
            client.sendFrame(RawWsClient.CONTINUATION, true, Arrays.copyOfRange(text, 8, text.length));
            assertThat(client.readUntil(RawWsClient.TEXT, WsTestClient.DEADLINE).text()).isEqualTo("new message :grüße, 世界");
        }
    }

    @Test
    void a_binary_message_in_fragments_arrives_whole() throws Exception {
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.BINARY, false, new byte[]{1, 2, 3});
            client.sendFrame(RawWsClient.CONTINUATION, true, new byte[]{4, 5});
            assertThat(client.readUntil(RawWsClient.BINARY, WsTestClient.DEADLINE).payload()).containsExactly(1, 2, 3, 4, 5);
        }
    }

    @Test
    void fragments_adding_up_to_more_than_the_largest_message_close_with_1009_before_the_last_one() throws Exception {
        byte[] half = new byte[MAX_MESSAGE / 2 + 1];
        Arrays.fill(half, (byte) 'x');
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.TEXT, false, half);
            client.sendFrame(RawWsClient.CONTINUATION, false, half);   // over the limit: no final fragment needed
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(MESSAGE_TOO_LARGE);
        }
        assertTheServerCarriesOn();
    }

    @Test
    void invalid_utf8_in_a_first_fragment_closes_with_1007_without_waiting_for_the_rest() throws Exception {
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.TEXT, false, new byte[]{'o', 'k', (byte) 0xFF});
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(INVALID_PAYLOAD);
        }
        assertTheServerCarriesOn();
    }

    @Test
    void a_continuation_with_no_message_started_closes_with_1002() throws Exception {
        try (RawWsClient client = open()) {
            client.sendFrame(RawWsClient.CONTINUATION, true, "orphan".getBytes(StandardCharsets.UTF_8));
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(PROTOCOL_ERROR);
        }
        assertTheServerCarriesOn();
    }

    @Test
    void a_client_that_closes_gets_its_close_answered_and_leaves_the_hub() throws Exception {
        try (RawWsClient client = open()) {
            Await.until("hub size", Duration.ofSeconds(10), () -> server.hub().size(), 1);
            client.sendFrame(RawWsClient.CLOSE, new byte[]{0x03, (byte) 0xE8});       // 1000
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(1000);
        }
        Await.until("hub size", Duration.ofSeconds(10), () -> server.hub().size(), 0);
    }

    private RawWsClient open() throws Exception {
        RawWsClient client = RawWsClient.connect(server.port());
        assertThat(client.status()).isEqualTo(101);
        assertThat(client.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");
        return client;
    }

    private void assertTheServerCarriesOn() throws Exception {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            assertThat(client.takeText()).isEqualTo("Welcome");
            client.send("after");
            assertThat(client.takeText()).isEqualTo("new message :after");
        }
    }
}
