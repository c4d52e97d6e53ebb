package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 item 15: a query parameter a route does not take is a 400 naming it and the ones the route takes. Ignored,
 * it answers what was not asked for: {@code ?sinc=1} (a typo of since) read history from the start. WebSocket routes
 * are the app's: their query parameters reach its handlers, so none is refused there.
 */
@Timeout(60)
class QueryParametersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        for (int i = 1; i <= 3; i++) server.publish("news", "\"m" + i + "\"");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void a_typo_on_history_is_refused_instead_of_reading_from_the_start() throws Exception {
        assertRefused(server.get("/channels/news/history?sinc=2"),
                "unknown query parameter 'sinc': GET /channels/news/history takes since, limit and token");
        assertThat(JSON.readTree(server.get("/channels/news/history?since=2&limit=5").body()).path("publications").size())
                .as("the ones it takes still work").isEqualTo(1);
    }

    @Test
    void the_channel_list_takes_limit_and_a_channels_info_only_a_token() throws Exception {
        assertRefused(server.get("/channels?limt=1"), "unknown query parameter 'limt': GET /channels takes limit");
        assertRefused(server.get("/channels/news?since=1"), "unknown query parameter 'since': GET /channels/news takes token");
        assertThat(server.get("/channels?limit=1").statusCode()).isEqualTo(200);
        assertThat(server.get("/channels/news").statusCode()).isEqualTo(200);
    }

    @Test
    void a_typo_on_an_event_stream_is_refused_instead_of_starting_from_now() throws Exception {
        try (SseTestClient typo = SseTestClient.connect(server.http("/sse/news?sinc=1"))) {
            assertThat(typo.status()).isEqualTo(400);
            assertThat(JSON.readTree(typo.body()).path("error").asText())
                    .isEqualTo("unknown query parameter 'sinc': GET /sse/news takes lastEventId, since, epoch and token");
        }
        try (SseTestClient since = SseTestClient.connect(server.http("/sse/news?since=2"))) {
            assertThat(since.status()).isEqualTo(200);
            assertThat(since.take().event()).isEqualTo("subscribed");
            assertThat(since.take().data()).isEqualTo("m3");
        }
    }

    @Test
    void the_publish_routes_take_msg_and_channel_or_nothing() throws Exception {
        assertRefused(server.get("/receive?msg=hi&chanel=news"),
                "unknown query parameter 'chanel': GET /receive takes msg and channel");
        assertRefused(server.post("/receive?chanel=news", "text/plain", "hi".getBytes(StandardCharsets.UTF_8)),
                "unknown query parameter 'chanel': POST /receive takes channel");
        assertRefused(server.post("/publish?channel=news", "application/json", "{\"channel\":\"news\",\"data\":1}".getBytes(StandardCharsets.UTF_8)),
                "unknown query parameter 'channel': POST /publish takes none");
        assertThat(JSON.readTree(server.get("/channels/news").body()).path("offset").asLong()).as("nothing was published").isEqualTo(3);
        assertThat(server.get("/receive?msg=hi&channel=other").statusCode()).isEqualTo(200);
    }

    @Test
    void a_parameter_name_is_read_as_the_client_encoded_it() throws Exception {
        assertRefused(server.get("/channels/news/history?s%69nce=1&sinc%65=2&x+y=3"),
                "unknown query parameter 'x y': GET /channels/news/history takes since, limit and token");
    }

    @Test
    void websocket_routes_pass_any_query_parameter_to_the_app() {
        try (WsTestClient plain = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws?name=ann&token=x"))) {
            assertThat(plain.takeText()).isEqualTo("Welcome");
        }
        try (WsTestClient channel = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws/news?room=1"))) {
            assertThat(channel.takeText()).startsWith("{\"squall\":\"subscribed\",\"channel\":\"news\"");
        }
    }

    private static void assertRefused(HttpResponse<String> response, String error) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.path("error").asText()).isEqualTo(error);
    }
}
