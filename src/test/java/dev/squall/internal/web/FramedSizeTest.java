package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.V1Framing;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a message weighs in a client's queue is its frame, not its size as published: JSON escapes a control
 * character to six bytes ({@code squall.v1}), SSE gives every line its own {@code data: }. A publish that fits
 * {@code --max-publish-bytes} but whose frame would not fit twice in a queue is refused at publish, so it can
 * neither close every v1 and SSE subscriber as slow nor make their recovery loop.
 */
@Timeout(60)
class FramedSizeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** 64 KiB queues: publishes of up to 16 KiB, frames of up to 32 KiB. */
    private static final long QUEUE = 64 * 1024;

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (server != null) server.close();
    }

    private void start() {
        server = TestServer.start(TestServer.config().maxQueueBytes(QUEUE).maxMessageBytes(16 * 1024).build());
    }

    private WsTestClient v1Subscriber(String channel) throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(client);
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(JSON.readTree(client.takeText()).path("type").asText()).isEqualTo("subscribed");
        return client;
    }

    private SseTestClient sseSubscriber(String pathAndQuery, Map<String, String> headers) {
        SseTestClient client = SseTestClient.connect(server.http(pathAndQuery), headers);
        open.add(client);
        return client;
    }

    private HttpResponse<String> publishText(String channel, String text) throws Exception {
        return server.post("/receive?channel=" + channel, "text/plain", text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void every_framing_bounds_the_frame_it_makes() {
        Framing v1 = new V1Framing(new Codec(ChannelName::problem, RecoveryParams.MAX_EPOCH_LENGTH, 256));
        List<Message> messages = List.of(
                Message.text(""), Message.text("plain text"), Message.text("\u0001".repeat(1000)),
                Message.text("\n".repeat(1000)), Message.text("\r\n".repeat(500)), Message.text("\"\\\b\t\f\r\n/\u007f"),
                Message.text("é€😀 unicode"), Message.json("{\"a\":[1,2,{\"b\":\"\\u0001\"}]}"),
                Message.binary(new byte[0]), Message.binary(new byte[1]), Message.binary(new byte[1000]));
        for (Framing framing : List.of(Framing.PLAIN, v1, SseFraming.EVENTS)) {
            for (Message message : messages) {
                Message frame = framing.frame("a-channel:name", new Publication(Long.MAX_VALUE, message, "f".repeat(64)));
                long bound = framing.frameBound("a-channel:name", message);
                assertThat(bound).as("%s, %s", framing, message.textPayload()).isGreaterThanOrEqualTo(frame.size());
                assertThat(bound).as("within the growth every framing promises")
                        .isLessThanOrEqualTo((long) Framing.MAX_GROWTH * message.size() + Framing.MAX_OVERHEAD + "a-channel:name".length());
            }
        }
    }

    @Test
    void a_publish_whose_json_frame_would_not_fit_twice_in_a_queue_is_refused_and_subscribers_stay() throws Exception {
        start();
        WsTestClient v1 = v1Subscriber("news");
        SseTestClient sse = sseSubscriber("/sse/news", Map.of());
        assertThat(sse.take().event()).isEqualTo("subscribed");
        String controls = "\u0001".repeat(16 * 1024);             // fits --max-publish-bytes; six times that as JSON

        HttpResponse<String> refused = publishText("news", controls);
        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(refused.body()).contains("squall.v1 clients", "--max-queue-bytes");
        // A v1 command is itself JSON, so it cannot carry more control characters than its frame would; line feeds
        // are two bytes in it and seven in an SSE frame.
        v1.send("{\"id\":2,\"type\":\"publish\",\"channel\":\"news\",\"data\":" + JSON.writeValueAsString("\n".repeat(6000)) + "}");
        JsonNode error = JSON.readTree(v1.takeText());
        assertThat(error.path("code").asText()).as(error.toString()).isEqualTo("too_large");
        assertThat(error.path("message").asText()).contains("SSE clients");
        assertThatThrownBy(() -> server.app.plugin().squall().publish("news", controls))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("squall.v1 clients");

        assertThat(publishText("news", "after").statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(v1.takeText()).path("data").asText()).as("the v1 subscriber is still there").isEqualTo("after");
        assertThat(sse.take().data()).as("and so is the SSE one").isEqualTo("after");
        assertThat(server.metric("squall_slow_consumers_total")).isZero();
    }

    @Test
    void a_publish_of_many_lines_that_sse_would_make_seven_times_larger_is_refused() throws Exception {
        start();
        HttpResponse<String> refused = publishText("log", "x\n".repeat(8 * 1024));   // 16 KiB: 64 KiB as SSE events
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
        assertThat(refused.body()).contains("SSE clients");
        assertThat(server.publish("log", JSON.writeValueAsString("x\n".repeat(1000))).path("offset").asLong())
                .as("as JSON the line feeds are escaped, and fewer of them fit").isEqualTo(1);
    }

    @Test
    void a_replay_that_fits_as_published_but_not_as_framed_is_not_recovered_instead_of_closing_the_client() throws Exception {
        start();
        // Where a client that read the channel before stands (no live subscriber: none to be too slow for the burst).
        JsonNode start = JSON.readTree(server.get("/channels/feed").body());
        // Each one fits alone (4 KiB of line feeds is 28 KiB as SSE); the four of them are 112 KiB, over a 64 KiB queue.
        for (int i = 0; i < 4; i++) assertThat(publishText("feed", "\n".repeat(4 * 1024)).statusCode()).isEqualTo(200);

        SseTestClient again = sseSubscriber("/sse/feed", Map.of("Last-Event-ID", "0:" + start.path("epoch").asText()));
        SseTestClient.Event told = again.take(Duration.ofSeconds(10));

        assertThat(told.event()).isEqualTo("subscribed");
        assertThat(JSON.readTree(told.data()).path("recovered").asBoolean(true)).as(told.data()).isFalse();
        assertThat(publishText("feed", "live").statusCode()).isEqualTo(200);
        assertThat(again.take().data()).isEqualTo("live");
        assertThat(server.metric("squall_slow_consumers_total")).isZero();
    }
}
