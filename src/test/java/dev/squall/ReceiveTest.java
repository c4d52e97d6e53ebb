package dev.squall;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Publishing through /receive: GET ?msg= and POST bodies of each supported type, and every bad input. */
class ReceiveTest {

    private static final ObjectMapper json = new ObjectMapper();
    private static final Duration NOTHING_MORE = Duration.ofMillis(300);

    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
    }

    private void start(SquallConfig config) {
        server = TestServer.start(config);
    }

    private void start() {
        start(TestServer.config().build());
    }

    /** A connected client whose Welcome has been read. */
    private WsTestClient client() {
        WsTestClient client = WsTestClient.connect(server.ws());
        clients.add(client);
        assertThat(client.takeText()).isEqualTo("Welcome");
        return client;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static void assertDelivered(HttpResponse<String> response, int connections) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(json.readTree(response.body())).isEqualTo(json.readTree("{\"delivered\": " + connections + "}"));
    }

    /** Asserts a JSON error {@code {"error": "..."}} with this status whose message contains {@code words}. */
    private static void assertError(HttpResponse<String> response, int status, String... words) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode body = json.readTree(response.body());
        assertThat(body.size()).isEqualTo(1);
        if (words.length > 0) assertThat(body.path("error").asText()).contains(words);
        else assertThat(body.path("error").asText()).isNotBlank();
    }

    private static void assertNothingArrives(WsTestClient client) throws InterruptedException {
        assertThat(client.poll(NOTHING_MORE)).isNull();
    }

    @Test
    void get_receive_sends_msg_to_every_client_and_reports_how_many() throws Exception {
        start();
        WsTestClient a = client(), b = client(), c = client();
        assertDelivered(server.get("/receive?msg=" + encode("hello & ✓")), 3);
        for (WsTestClient client : List.of(a, b, c)) assertThat(client.takeText()).isEqualTo("hello & ✓");
    }

    @Test
    void get_receive_with_nobody_connected_delivers_zero() throws Exception {
        start();
        assertDelivered(server.get("/receive?msg=anyone"), 0);
    }

    @Test
    void a_missing_msg_is_400_naming_msg() throws Exception {
        start();
        WsTestClient client = client();
        assertError(server.get("/receive"), 400, "msg");
        assertNothingArrives(client);
    }

    @Test
    void an_empty_msg_is_400_naming_msg() throws Exception {
        start();
        WsTestClient client = client();
        assertError(server.get("/receive?msg="), 400, "msg");
        assertNothingArrives(client);
    }

    @Test
    void a_url_beyond_the_header_limit_is_414_json_without_a_stack_trace() throws Exception {
        start();
        WsTestClient client = client();
        HttpResponse<String> response = server.get("/receive?msg=" + "x".repeat(10_000));
        assertError(response, 414, "POST /receive");
        assertThat(response.body()).doesNotContain("at org.eclipse", "<html");
        assertNothingArrives(client);
    }

    @Test
    void a_url_just_inside_the_header_limit_is_delivered() throws Exception {
        start();
        WsTestClient client = client();
        String msg = "y".repeat(6_000);
        assertDelivered(server.get("/receive?msg=" + msg), 1);
        assertThat(client.takeText()).isEqualTo(msg);
    }

    @Test
    void post_text_plain_is_sent_as_a_text_frame() throws Exception {
        start();
        WsTestClient client = client();
        assertDelivered(server.post("/receive", "text/plain", "line one\nline two ✓".getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo("line one\nline two ✓");
    }

    @Test
    void post_text_plain_carries_a_large_message() throws Exception {
        start();
        WsTestClient client = client();
        String large = "0123456789abcdef".repeat(200 * 1024 / 16);
        assertDelivered(server.post("/receive", "text/plain; charset=utf-8", large.getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo(large);
    }

    @Test
    void post_text_plain_honours_its_charset_parameter() throws Exception {
        start();
        WsTestClient client = client();
        assertDelivered(server.post("/receive", "text/plain; charset=ISO-8859-1", "café".getBytes(StandardCharsets.ISO_8859_1)), 1);
        assertThat(client.takeText()).isEqualTo("café");
    }

    @Test
    void post_text_plain_with_an_unknown_charset_is_415() throws Exception {
        start();
        assertError(server.post("/receive", "text/plain; charset=klingon", "x".getBytes(StandardCharsets.UTF_8)), 415, "charset");
    }

    @Test
    void post_text_plain_that_is_not_valid_utf8_is_400() throws Exception {
        start();
        WsTestClient client = client();
        byte[] invalid = {'o', 'k', (byte) 0xC3, (byte) 0x28, (byte) 0xFF};
        assertError(server.post("/receive", "text/plain", invalid), 400, "msg", "UTF-8");
        assertNothingArrives(client);
    }

    @Test
    void post_json_is_validated_and_sent_compactly_as_text() throws Exception {
        start();
        WsTestClient client = client();
        assertDelivered(server.post("/receive", "application/json",
                "{\"a\": 1,  \"b\": [1, 2]}".getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo("{\"a\":1,\"b\":[1,2]}");
    }

    @Test
    void post_invalid_json_is_400() throws Exception {
        start();
        WsTestClient client = client();
        assertError(server.post("/receive", "application/json", "{\"a\": ".getBytes(StandardCharsets.UTF_8)), 400, "JSON");
        assertNothingArrives(client);
    }

    @Test
    void post_octet_stream_is_sent_as_a_binary_frame() throws Exception {
        start();
        WsTestClient client = client();
        byte[] bytes = {0, 1, 2, (byte) 0xff, (byte) 0x80, 10};
        assertDelivered(server.post("/receive", "application/octet-stream", bytes), 1);
        assertThat(client.takeBinary()).containsExactly(bytes);
    }

    @Test
    void post_form_sends_its_msg_field() throws Exception {
        start();
        WsTestClient client = client();
        assertDelivered(server.post("/receive", "application/x-www-form-urlencoded",
                ("other=1&msg=" + encode("from a form ✓")).getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo("from a form ✓");
    }

    @Test
    void post_form_carries_a_large_message_too() throws Exception {
        start();
        WsTestClient client = client();
        String large = "z".repeat(300 * 1024);
        assertDelivered(server.post("/receive", "application/x-www-form-urlencoded",
                ("msg=" + large).getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo(large);
    }

    @Test
    void post_form_without_msg_is_400_naming_msg() throws Exception {
        start();
        assertError(server.post("/receive", "application/x-www-form-urlencoded",
                "message=oops".getBytes(StandardCharsets.UTF_8)), 400, "msg");
    }

    @Test
    void post_with_an_empty_body_is_400_for_every_type() throws Exception {
        start();
        WsTestClient client = client();
        for (String type : List.of("text/plain", "application/json", "application/octet-stream")) {
            assertError(server.post("/receive", type, new byte[0]), 400, "msg");
        }
        assertNothingArrives(client);
    }

    @Test
    void post_with_an_unsupported_content_type_is_415_listing_the_supported_ones() throws Exception {
        start();
        assertError(server.post("/receive", "text/html", "<b>x</b>".getBytes(StandardCharsets.UTF_8)), 415,
                "text/html", "text/plain", "application/json", "application/octet-stream");
    }

    @Test
    void post_without_a_content_type_is_415() throws Exception {
        start();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(server.http("/receive")).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(response, 415, "Content-Type");
    }

    @Test
    void post_larger_than_max_queue_bytes_is_413_json() throws Exception {
        start(TestServer.config().maxMessageBytes(1024).maxQueueBytes(4096).build());
        WsTestClient client = client();
        assertError(server.post("/receive", "text/plain", new byte[5000]), 413);
        assertNothingArrives(client);
        assertDelivered(server.post("/receive", "application/octet-stream", new byte[4096]), 1);
        assertThat(client.takeBinary()).hasSize(4096);
    }

    @Test
    void each_connection_receives_sequential_publishes_in_publish_order() throws Exception {
        start();
        WsTestClient a = client(), b = client();
        int count = 200;
        for (int i = 0; i < count; i++) {
            if (i % 2 == 0) assertDelivered(server.get("/receive?msg=m" + i), 2);
            else assertDelivered(server.post("/receive", "text/plain", ("m" + i).getBytes(StandardCharsets.UTF_8)), 2);
        }
        for (WsTestClient client : List.of(a, b)) {
            List<String> received = new ArrayList<>();
            for (int i = 0; i < count; i++) received.add(client.takeText());
            assertThat(received).containsExactlyElementsOf(java.util.stream.IntStream.range(0, count).mapToObj(i -> "m" + i).toList());
        }
    }

    @Test
    void publishes_interleave_with_echo_replies_on_one_connection_without_loss() throws Exception {
        start();
        WsTestClient client = client();
        client.send("first");
        assertThat(client.takeText()).isEqualTo("new message :first");
        assertDelivered(server.get("/receive?msg=" + encode("broadcast")), 1);
        assertThat(client.takeText()).isEqualTo("broadcast");
        assertThat(server.metrics().scrape()).contains("squall_publishes_total 1.0");
    }
}
