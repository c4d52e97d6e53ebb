package dev.squall.internal.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.RawWsClient;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18, {@code --max-connections-per-ip} and {@code --max-connections}, end to end: past a client address's limit
 * an upgrade or an event stream is answered 429, past the node's 503, both with {@code Retry-After} and Squall's JSON
 * error, before any handshake (no 101, no stream); loopback is an address like any other; and every connection gives
 * its place back exactly once however it ends, which the metrics show. (Per user: {@code ConnectionLimitsTest}, with
 * identities, since no route makes one yet.)
 */
@Timeout(120)
class ConnectionLimitTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (server != null) server.close();
    }

    private static Map<String, String> upgrade(String... more) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Upgrade", "websocket");
        headers.put("Connection", "Upgrade");
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        headers.put("Sec-WebSocket-Key", Base64.getEncoder().encodeToString(key));
        headers.put("Sec-WebSocket-Version", "13");
        for (int i = 0; i < more.length; i += 2) headers.put(more[i], more[i + 1]);
        return headers;
    }

    private WsTestClient ws(String path) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + path));
        open.add(client);
        return client;
    }

    private SseTestClient sse(String channel) {
        SseTestClient client = SseTestClient.connect(server.http("/sse/" + channel));
        open.add(client);
        assertThat(client.status()).isEqualTo(200);
        return client;
    }

    private double gauge(String name) {
        return server.metric(name);
    }

    /** The refusal as the client gets it: the status, Retry-After, and Squall's {"error": ...} naming the setting. */
    private static void assertRefused(RawHttp answer, int status, String retryAfter, String names) throws IOException {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.header("Retry-After")).isEqualTo(retryAfter);
        assertThat(answer.header("Sec-WebSocket-Accept")).as("no handshake").isNull();
        assertThat(JSON.readTree(answer.body()).path("error").asText()).contains(names);
    }

    @Test
    void past_the_per_address_limit_upgrades_and_event_streams_from_loopback_are_refused_with_429_before_any_handshake() throws Exception {
        server = TestServer.start(TestServer.config().maxConnectionsPerIp(2).build());
        assertThat(server.metrics().scrape()).as("every limit exported from the start").contains(
                "squall_limited_total{limit=\"connections_per_ip\"} 0.0", "squall_limited_total{limit=\"connections\"} 0.0",
                "squall_limited_total{limit=\"connections_per_user\"} 0.0", "squall_limited_total{limit=\"messages_per_second\"} 0.0",
                "squall_limited_total{limit=\"handshake_timeout\"} 0.0", "squall_limited_total{limit=\"channels\"} 0.0",
                "squall_limit_connections 0.0", "squall_limit_addresses 0.0", "squall_limit_users 0.0");
        WsTestClient first = ws("/ws");
        assertThat(first.takeText()).isEqualTo("Welcome");
        sse("news").take();                                                    // the stream's subscribed event
        Await.until("two counted", Duration.ofSeconds(10), () -> gauge("squall_limit_connections"), 2.0);

        assertRefused(RawHttp.get(server.port(), "/ws", upgrade()), 429, "10", "--max-connections-per-ip");
        assertRefused(RawHttp.get(server.port(), "/ws/news", upgrade()), 429, "10", "--max-connections-per-ip");
        assertRefused(RawHttp.get(server.port(), "/ws", upgrade("Sec-WebSocket-Protocol", "squall.v1")), 429, "10", "--max-connections-per-ip");
        assertRefused(RawHttp.get(server.port(), "/sse/news", Map.of("Accept", "text/event-stream")), 429, "10", "--max-connections-per-ip");
        assertThat(server.metric("squall_limited_total{limit=\"connections_per_ip\"}")).isEqualTo(4.0);
        assertThat(gauge("squall_limit_connections")).as("a refusal holds nothing").isEqualTo(2.0);
        assertThat(gauge("squall_limit_addresses")).isEqualTo(1.0);
        assertThat(server.hub().size()).isEqualTo(2);

        first.close();
        Await.until("its place given back", Duration.ofSeconds(10), () -> gauge("squall_limit_connections"), 1.0);
        assertThat(ws("/ws").takeText()).isEqualTo("Welcome");
        // Plain requests are no connections: they are never counted, and never refused by these limits.
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void past_the_nodes_limit_any_address_is_refused_with_503() throws Exception {
        server = TestServer.start(TestServer.config().maxConnections(2).build());
        ws("/ws/news").takeText();
        sse("news").take();
        Await.until("two counted", Duration.ofSeconds(10), () -> gauge("squall_limit_connections"), 2.0);

        assertRefused(RawHttp.get(server.port(), "/ws", upgrade()), 503, "5", "--max-connections");
        assertRefused(RawHttp.get(server.port(), "/sse/other", Map.of()), 503, "5", "--max-connections");
        try (RawWsClient refused = RawWsClient.connect(server.port())) {
            assertThat(refused.status()).isEqualTo(503);
        }
        assertThat(server.metric("squall_limited_total{limit=\"connections\"}")).isEqualTo(3.0);
        assertThat(gauge("squall_limit_connections")).isEqualTo(2.0);
        assertThat(server.hub().size()).isEqualTo(2);
    }

    @Test
    void connections_that_end_every_way_give_their_places_back_exactly_once() throws Exception {
        int limit = 30;
        server = TestServer.start(TestServer.config().maxConnections(limit).maxConnectionsPerIp(limit + 10)
                .handshakeTimeout(Duration.ofSeconds(2)).build());   // gives back the places of upgrades that never opened
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < 180; i++) {
            int kind = i % 9;
            done.add(threads.submit(() -> {
                endOneWay(kind);
                return null;
            }));
        }
        for (Future<?> each : done) each.get(60, TimeUnit.SECONDS);
        threads.shutdown();

        // Upgrades whose client vanished before it could open are given back by the handshake deadline at the latest.
        Await.until("no connection counted", Duration.ofSeconds(15), () -> gauge("squall_limit_connections"), 0.0);
        assertThat(gauge("squall_limit_addresses")).isZero();
        Await.until("hub empty", Duration.ofSeconds(10), () -> server.hub().size(), 0);
        assertThat(gauge("squall_sse_streams")).isZero();

        // Nothing was given back twice either: the node takes exactly its limit again, and not one more.
        List<WsTestClient> full = new ArrayList<>();
        for (int i = 0; i < limit; i++) full.add(ws("/ws"));
        for (WsTestClient client : full) assertThat(client.takeText()).isEqualTo("Welcome");
        assertRefused(RawHttp.get(server.port(), "/ws", upgrade()), 503, "5", "--max-connections");
        assertThat(gauge("squall_limit_connections")).isEqualTo((double) limit);
        for (WsTestClient client : full) client.close();
        Await.until("all given back", Duration.ofSeconds(10), () -> gauge("squall_limit_connections"), 0.0);
    }

    /** One connection, ended one of nine ways: cleanly, dropped, vanished mid-handshake, reset, as a stream. */
    private void endOneWay(int kind) throws Exception {
        String head = "GET /ws HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n"
                + upgrade().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue() + "\r\n").reduce("", String::concat) + "\r\n";
        switch (kind) {
            case 0 -> {                                                          // a clean close handshake
                try (WsTestClient client = WsTestClient.connect(server.ws())) {
                    client.takeText();
                }
            }
            case 1 -> RawWsClient.connect(server.port()).close();                // dropped right after the 101
            case 2 -> {                                                          // the whole head, gone before the answer
                try (Socket socket = socket()) {
                    socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                }
            }
            case 3 -> {                                                          // half a head, gone
                try (Socket socket = socket()) {
                    socket.getOutputStream().write(head.substring(0, head.length() / 2).getBytes(StandardCharsets.US_ASCII));
                }
            }
            case 4 -> {                                                          // the whole head, then a reset
                Socket socket = socket();
                socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                socket.setSoLinger(true, 0);
                socket.close();
            }
            case 5 -> {                                                          // squall.v1, subscribed, then a reset
                RawWsClient client = RawWsClient.connect(server.port(), Map.of("Sec-WebSocket-Protocol", "squall.v1"), 0);
                client.sendText("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}");
                client.read(Duration.ofSeconds(10));
                client.close();
            }
            case 6 -> {                                                          // an event stream dropped mid-answer
                try (Socket socket = socket()) {
                    OutputStream out = socket.getOutputStream();
                    out.write(("GET /sse/news HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    InputStream in = socket.getInputStream();
                    assertThat(in.read()).isNotNegative();
                }
            }
            case 7 -> {                                                          // an event stream the client closes
                try (SseTestClient client = SseTestClient.connect(server.http("/sse/news"))) {
                    client.take();
                }
            }
            default -> {                                                         // the client's close frame, answered
                try (RawWsClient client = RawWsClient.connect(server.port())) {
                    client.sendFrame(RawWsClient.CLOSE, new byte[]{0x03, (byte) 0xE8});
                    assertThat(client.awaitServerClose(Duration.ofSeconds(10))).isEqualTo(1000);
                }
            }
        }
    }

    private Socket socket() throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        socket.setSoTimeout(10_000);
        return socket;
    }
}
