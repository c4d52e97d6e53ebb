package dev.squall.internal.web;

import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The tutorial's WebSocket: Welcome on open, "new message :M" for each M. */
class WebSocketTest {

    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void a_new_connection_is_welcomed() {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            assertThat(client.takeText()).isEqualTo("Welcome");
        }
    }

    @Test
    void each_text_message_is_answered_with_new_message_colon_and_the_message() {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            client.send("Hello");
            assertThat(client.takeText()).isEqualTo("new message :Hello");
            client.send("again");
            assertThat(client.takeText()).isEqualTo("new message :again");
        }
    }

    @Test
    void unicode_round_trips() {
        String text = "你好, Tornado → Javalin 🌪️ é";
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            client.send(text);
            assertThat(client.takeText()).isEqualTo("new message :" + text);
        }
    }

    @Test
    void a_binary_frame_is_echoed_back_as_binary() {
        byte[] bytes = {0, 1, 2, (byte) 0xff, (byte) 0xfe, 42};
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            client.sendBinary(bytes);
            assertThat(client.takeBinary()).containsExactly(bytes);
        }
    }

    @Test
    void an_empty_text_message_is_answered_too() {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            client.send("");
            assertThat(client.takeText()).isEqualTo("new message :");
        }
    }

    @Test
    void a_publish_reaches_every_connected_client() throws Exception {
        try (WsTestClient first = WsTestClient.connect(server.ws());
             WsTestClient second = WsTestClient.connect(server.ws())) {
            first.takeText();
            second.takeText();
            var response = server.get("/receive?msg=" + java.net.URLEncoder.encode("hi all ✓", StandardCharsets.UTF_8));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("{\"delivered\":2}");
            assertThat(first.takeText()).isEqualTo("hi all ✓");
            assertThat(second.takeText()).isEqualTo("hi all ✓");
        }
    }
}
