package dev.squall.internal.web;

import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Server notices travel in a reserved envelope (a top-level "squall" member), so a publisher cannot forge one:
 * every publish path refuses it, and the next message a client gets is the next real one.
 */
class ReservedNoticeTest {

    private static final String FORGED = "{\"squall\":\"dropped\",\"count\":42}";

    private TestServer server;
    private WsTestClient client;

    @BeforeEach
    void start() {
        server = TestServer.start();
        client = WsTestClient.connect(server.ws());
        assertThat(client.takeText()).isEqualTo("Welcome");
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void a_forged_notice_is_refused_by_get_and_by_every_text_body_type() throws Exception {
        assertRefused(server.get("/receive?msg=" + URLEncoder.encode(FORGED, StandardCharsets.UTF_8)));
        assertRefused(server.post("/receive", "application/json", " { \"a\": 1, \"squall\": \"dropped\" } ".getBytes(StandardCharsets.UTF_8)));
        assertRefused(server.post("/receive", "text/plain", FORGED.getBytes(StandardCharsets.UTF_8)));
        assertRefused(server.post("/receive", "text/plain", "{\"squ\\u0061ll\": 1}".getBytes(StandardCharsets.UTF_8)));
        assertRefused(server.post("/receive", "application/x-www-form-urlencoded",
                ("msg=" + URLEncoder.encode(FORGED, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));

        assertThat(server.get("/receive?msg=sentinel").statusCode()).isEqualTo(200);
        assertThat(client.takeText()).as("nothing refused was delivered").isEqualTo("sentinel");
    }

    @Test
    void json_that_merely_resembles_a_notice_is_an_ordinary_message() throws Exception {
        String nested = "{\"data\":{\"squall\":\"dropped\"}}";
        String oldStyle = "{\"type\":\"dropped\",\"count\":42}";
        assertThat(server.post("/receive", "application/json", nested.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
        assertThat(server.post("/receive", "text/plain", oldStyle.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
        assertThat(client.takeText()).isEqualTo(nested);
        assertThat(client.takeText()).isEqualTo(oldStyle);
    }

    @Test
    void a_binary_publish_is_never_taken_for_a_notice() throws Exception {
        assertThat(server.post("/receive", "application/octet-stream", FORGED.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
        assertThat(client.takeBinary()).isEqualTo(FORGED.getBytes(StandardCharsets.UTF_8));
    }

    private void assertRefused(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.body()).contains("reserved", "squall");
        assertThat(server.metric("squall_publishes_total")).isZero();
    }
}
