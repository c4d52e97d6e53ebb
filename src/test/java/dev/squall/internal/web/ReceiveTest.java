package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.server.SquallConfig;
import dev.squall.support.RawHttp;
import dev.squall.support.TestServer;
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

/**
 * Publishing through /receive: GET ?msg= and POST bodies of each supported type, and every bad input.
 * Nothing-delivered checks publish a sentinel afterwards and require it to be the next message.
 */
class ReceiveTest {

    private static final ObjectMapper json = new ObjectMapper();

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

    /** An allowed publish made now is the next message: nothing refused before it arrived, not even late. */
    private void assertNothingArrives(WsTestClient client) throws Exception {
        String sentinel = "sentinel-" + System.nanoTime();
        assertDelivered(server.get("/receive?msg=" + sentinel), clients.size());
        assertThat(client.takeText()).isEqualTo(sentinel);
    }

    private HttpResponse<String> postWithoutContentType(byte[] body) throws Exception {
        return HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(server.http("/receive")).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart/form-data body of text fields, as {@code curl -F name=value} sends it. */
    private HttpResponse<String> postMultipart(List<String[]> fields) throws Exception {
        String boundary = "squall-test-boundary";
        StringBuilder body = new StringBuilder();
        for (String[] field : fields) {
            body.append("--").append(boundary).append("\r\n")
                    .append("Content-Disposition: form-data; name=\"").append(field[0]).append('"')
                    .append(field.length > 2 ? "; filename=\"" + field[2] + "\"" : "").append("\r\n\r\n")
                    .append(field[1]).append("\r\n");
        }
        body.append("--").append(boundary).append("--\r\n");
        return server.post("/receive", "multipart/form-data; boundary=" + boundary, body.toString().getBytes(StandardCharsets.UTF_8));
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
    void post_text_plain_with_an_unknown_charset_is_415_naming_it_and_asking_for_utf8() throws Exception {
        start();
        HttpResponse<String> response = server.post("/receive", "text/plain; charset=klingon", "x".getBytes(StandardCharsets.UTF_8));
        assertError(response, 415, "charset", "klingon", "UTF-8");
        assertThat(response.body()).as("not the list of content types").doesNotContain("application/json");
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
    void post_json_with_anything_after_the_value_is_400_and_delivers_nothing() throws Exception {
        start();
        WsTestClient client = client();
        for (String body : List.of("{\"a\":1} trailing", "{\"a\":1}{\"b\":2}", "[1] [2]", "1 2")) {
            HttpResponse<String> response = server.post("/receive", "application/json", body.getBytes(StandardCharsets.UTF_8));
            assertError(response, 400, "msg", "JSON");
            assertThat(response.body()).as(body).doesNotContain("Source", "REDACTED", "StreamReadFeature", "jackson");
        }
        assertThat(json.readTree(server.post("/receive", "application/json", "{\"a\":1}{\"b\":2}".getBytes(StandardCharsets.UTF_8)).body())
                .path("error").asText()).contains("line 1, column 8");
        assertNothingArrives(client);
        assertThat(server.metric("squall_publishes_total")).isEqualTo(1.0);
    }

    @Test
    void post_json_errors_say_where_and_what_in_plain_words() throws Exception {
        start();
        assertThat(jsonError("{\"a\": xyz}")).isEqualTo("msg: the body is not valid JSON: unexpected 'xyz' at line 1, column 7");
        assertThat(jsonError("{\"a\": 1,\n \"b\": ]}")).isEqualTo("msg: the body is not valid JSON: unexpected character ']' at line 2, column 7");
        assertThat(jsonError("{\"a\": ")).isEqualTo("msg: the body is not valid JSON: the body ends before the JSON value is complete");
        assertThat(jsonError("[1, 2")).isEqualTo("msg: the body is not valid JSON: the body ends before the JSON value is complete");
        assertThat(jsonError("[".repeat(2000) + "]".repeat(2000))).isEqualTo("msg: the body is not valid JSON: it is nested too deeply, or a number or string in it is too long");
    }

    private String jsonError(String body) throws Exception {
        HttpResponse<String> response = server.post("/receive", "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertError(response, 400);
        return json.readTree(response.body()).path("error").asText();
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
        String large = "z".repeat(200 * 1024);
        assertDelivered(server.post("/receive", "application/x-www-form-urlencoded",
                ("msg=" + large).getBytes(StandardCharsets.UTF_8)), 1);
        assertThat(client.takeText()).isEqualTo(large);
    }

    @Test
    void post_multipart_form_data_sends_its_msg_field() throws Exception {
        start();
        WsTestClient client = client();
        assertDelivered(postMultipart(List.of(new String[]{"other", "1"}, new String[]{"msg", "from curl -F ✓"})), 1);
        assertThat(client.takeText()).isEqualTo("from curl -F ✓");
        assertDelivered(postMultipart(List.<String[]>of(new String[]{"msg", "from a file", "msg.txt"})), 1);
        assertThat(client.takeText()).as("curl -F msg=@file sends a file part").isEqualTo("from a file");
    }

    @Test
    void post_multipart_without_msg_or_with_it_twice_is_400() throws Exception {
        start();
        WsTestClient client = client();
        assertError(postMultipart(List.<String[]>of(new String[]{"message", "oops"})), 400, "msg", "-F msg=");
        assertError(postMultipart(List.<String[]>of(new String[]{"msg", ""})), 400, "msg");
        assertError(postMultipart(List.of(new String[]{"msg", "a"}, new String[]{"msg", "b"})), 400, "give msg once");
        assertError(server.post("/receive", "multipart/form-data; boundary=nope", "not multipart".getBytes(StandardCharsets.UTF_8)), 400, "multipart");
        assertNothingArrives(client);
    }

    @Test
    void post_multipart_larger_than_max_publish_bytes_is_413_with_or_without_content_length() throws Exception {
        start(TestServer.config().maxQueueBytes(128 * 1024).maxPublishBytes(4096L).build());
        WsTestClient client = client();
        assertError(postMultipart(List.<String[]>of(new String[]{"msg", "x".repeat(5000), "big.txt"})), 413, "--max-publish-bytes", "4096");
        HttpResponse<String> chunked = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.http("/receive"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                        ("--b\r\nContent-Disposition: form-data; name=\"msg\"; filename=\"f\"\r\n\r\n" + "y".repeat(100_000)
                                + "\r\n--b--\r\n").getBytes(StandardCharsets.US_ASCII)))).build(), HttpResponse.BodyHandlers.ofString());
        assertError(chunked, 413, "--max-publish-bytes");
        assertNothingArrives(client);
    }

    @Test
    void a_badly_percent_encoded_msg_is_400_saying_so() throws Exception {
        start();
        WsTestClient client = client();
        // The JDK's URI refuses these, so they go out on a bare socket, as curl sends them.
        for (String query : List.of("msg=%zz", "msg=ok%2", "msg=100%", "msg=%C3%28")) {
            RawHttp response = RawHttp.get(server.port(), "/receive?" + query, java.util.Map.of());
            assertThat(response.status()).as(query).isEqualTo(400);
            assertThat(json.readTree(response.body()).path("error").asText()).as(query).contains("msg").doesNotContain("missing");
        }
        assertThat(json.readTree(RawHttp.get(server.port(), "/receive?msg=%zz", java.util.Map.of()).body()).path("error").asText())
                .contains("msg is badly percent-encoded", "'%zz'");
        assertError(server.post("/receive", "application/x-www-form-urlencoded", "msg=%zz".getBytes(StandardCharsets.UTF_8)), 400, "percent-encoded");
        assertNothingArrives(client);
    }

    @Test
    void msg_given_twice_is_400_asking_for_it_once() throws Exception {
        start();
        WsTestClient client = client();
        assertError(server.get("/receive?msg=a&msg=b"), 400, "give msg once");
        assertError(server.post("/receive", "application/x-www-form-urlencoded", "msg=a&x=1&msg=b".getBytes(StandardCharsets.UTF_8)), 400, "give msg once");
        assertNothingArrives(client);
        assertDelivered(server.get("/receive?msg=" + encode("a+b %")), 1);
        assertThat(client.takeText()).isEqualTo("a+b %");
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
    void post_without_a_content_type_is_415_saying_which_header_is_needed() throws Exception {
        start();
        assertError(postWithoutContentType("x".getBytes(StandardCharsets.UTF_8)), 415,
                "POST /receive needs a Content-Type header", "text/plain", "application/json");
    }

    @Test
    void post_larger_than_max_publish_bytes_is_413_naming_the_limit_and_the_flag() throws Exception {
        // A quarter of the queue when not given: 1024 of 4096.
        start(TestServer.config().maxMessageBytes(1024).maxQueueBytes(4096).build());
        WsTestClient client = client();
        for (String type : List.of("text/plain", "application/octet-stream", "application/json", "application/x-www-form-urlencoded")) {
            assertError(server.post("/receive", type, new byte[1025]), 413, "--max-publish-bytes (1024 bytes)");
        }
        assertError(server.get("/receive?msg=" + "m".repeat(1025)), 413, "--max-publish-bytes (1024 bytes)");
        assertNothingArrives(client);
        assertDelivered(server.post("/receive", "application/octet-stream", new byte[1024]), 1);
        assertThat(client.takeBinary()).hasSize(1024);
    }

    @Test
    void a_body_without_content_length_is_cut_off_at_the_limit_with_413() throws Exception {
        start(TestServer.config().maxQueueBytes(128 * 1024).maxPublishBytes(2048L).build());
        WsTestClient client = client();
        // A chunked body a little over the limit that never ends: the answer can only come from the cut-off, and the
        // client has written everything before it reads (a client still writing when the server answers and closes
        // can fail on a broken pipe before it reads the 413: the JDK's client did, streaming 1,000,000 bytes).
        byte[] head = ("POST /receive HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nContent-Type: application/octet-stream\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(3000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
        request.writeBytes(head);
        request.writeBytes(new byte[3000]);
        request.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        RawHttp response = RawHttp.send(server.port(), request.toByteArray());
        assertThat(response.status()).as(response.body()).isEqualTo(413);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        assertThat(json.readTree(response.body()).path("error").asText()).contains("--max-publish-bytes (2048 bytes)");
        assertNothingArrives(client);
    }

    @Test
    void the_limit_counts_the_message_as_sent_in_utf8_not_the_body() throws Exception {
        start(TestServer.config().maxMessageBytes(1024).maxQueueBytes(4096).build());
        WsTestClient client = client();
        // 1000 bytes of ISO-8859-1 fit the 1024-byte limit; the 2000 bytes of UTF-8 clients would get do not.
        byte[] latin1 = "é".repeat(1000).getBytes(StandardCharsets.ISO_8859_1);
        assertError(server.post("/receive", "text/plain; charset=ISO-8859-1", latin1), 413, "the message", "--max-publish-bytes");
        assertNothingArrives(client);
        assertDelivered(server.post("/receive", "text/plain; charset=ISO-8859-1", "é".repeat(512).getBytes(StandardCharsets.ISO_8859_1)), 1);
        assertThat(client.takeText()).isEqualTo("é".repeat(512));
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
