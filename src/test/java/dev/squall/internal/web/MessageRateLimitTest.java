package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18, {@code --max-messages-per-second}: a client that sends as fast as it can, plain or {@code squall.v1}, is
 * closed with 3013 (too many requests), while 100 well-behaved neighbours on the same node, each subscribed and each
 * receiving publishes during the flood, get every publication exactly once, and may go on sending at their pace.
 */
@Timeout(120)
class MessageRateLimitTest {

    private static final int RATE = 20;
    private static final int PUBLICATIONS = 40;
    private static final int TOO_MANY_REQUESTS = 3013;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.config().maxMessagesPerSecond(RATE).build());
    }

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        server.close();
    }

    /**
     * Floods from a fresh raw connection (plain, or {@code squall.v1}) until the server closes it; returns the close
     * code the flooder read, and how many messages it got out.
     */
    private int[] flood(boolean v1) throws IOException {
        Map<String, String> headers = v1 ? Map.of("Sec-WebSocket-Protocol", "squall.v1") : Map.of();
        try (RawWsClient flooder = RawWsClient.connect(server.port(), headers, 0)) {
            assertThat(flooder.status()).isEqualTo(101);
            AtomicBoolean closed = new AtomicBoolean();
            AtomicInteger sent = new AtomicInteger();
            Thread writer = new Thread(() -> {
                try {
                    for (int id = 1; !closed.get(); id++) {
                        flooder.sendText(v1 ? "{\"id\":" + id + ",\"type\":\"ping\"}" : "flood " + id);
                        sent.incrementAndGet();
                    }
                } catch (IOException dropped) {
                    // The server dropped the socket under the flood: the end of it.
                }
            }, "flooder");
            writer.start();
            int code;
            try {
                code = flooder.awaitServerClose(Duration.ofSeconds(20));
            } finally {
                closed.set(true);
                flooder.close();
                writer.join(10_000);
            }
            return new int[]{code, sent.get()};                      // read once the writer has counted its last
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void flooders_are_closed_with_3013_while_100_subscribed_neighbours_get_every_publication_exactly_once() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI channel = URI.create("ws://localhost:" + server.port() + "/ws/news");
        URI anyRoute = URI.create("ws://localhost:" + server.port() + "/ws");
        List<WsTestClient> plain = new ArrayList<>();
        List<WsTestClient> v1 = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            WsTestClient client = WsTestClient.connect(http, channel, Map.of());
            clients.add(client);
            plain.add(client);
            assertThat(client.takeText()).startsWith("{\"squall\":\"subscribed\"");
        }
        for (int i = 0; i < 50; i++) {
            WsTestClient client = WsTestClient.connect(http, anyRoute, Map.of(), List.of("squall.v1"));
            clients.add(client);
            v1.add(client);
            client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}");
            assertThat(JSON.readTree(client.takeText()).path("type").asText()).isEqualTo("subscribed");
        }
        Await.until("100 subscribers", Duration.ofSeconds(10), () -> server.hub().subscribers("news"), 100);

        // Flooders, plain and v1 in turn, each reconnecting as soon as it is closed, for as long as publishes go on.
        ExecutorService flooders = Executors.newFixedThreadPool(2);
        AtomicBoolean publishing = new AtomicBoolean(true);
        ConcurrentLinkedQueue<int[]> floods = new ConcurrentLinkedQueue<>();
        CountDownLatch flooding = new CountDownLatch(2);
        List<Future<?>> running = new ArrayList<>();
        for (boolean isV1 : new boolean[]{false, true}) {
            running.add(flooders.submit(() -> {
                do {
                    floods.add(flood(isV1));
                    flooding.countDown();
                } while (publishing.get());
                return null;
            }));
        }
        assertThat(flooding.await(30, TimeUnit.SECONDS)).as("both kinds of flooder were closed once").isTrue();
        for (int i = 1; i <= PUBLICATIONS; i++) {
            server.publish("news", "\"m" + i + "\"");
            Thread.sleep(10);                               // spread over the flood, not one burst before it
        }
        publishing.set(false);
        for (Future<?> each : running) each.get(60, TimeUnit.SECONDS);
        flooders.shutdown();

        assertThat(floods).allSatisfy(flood -> {
            assertThat(flood[0]).as("close code").isEqualTo(TOO_MANY_REQUESTS);
            assertThat(flood[1]).as("messages a flooder got out").isGreaterThan(RATE);
        });
        Await.until("every flooder counted", Duration.ofSeconds(10),
                () -> server.metric("squall_limited_total{limit=\"messages_per_second\"}"), (double) floods.size());

        for (WsTestClient client : plain) {
            for (int i = 1; i <= PUBLICATIONS; i++) assertThat(client.takeText()).isEqualTo("m" + i);
        }
        for (WsTestClient client : v1) {
            for (int i = 1; i <= PUBLICATIONS; i++) {
                JsonNode publication = JSON.readTree(client.takeText());
                assertThat(publication.path("data").asText()).isEqualTo("m" + i);
                assertThat(publication.path("offset").asLong()).isEqualTo(i);
            }
        }
        // No duplicate behind them, and each neighbour may still send at its pace: its answer is the next frame.
        for (WsTestClient client : plain) {
            client.send("still here");
            assertThat(client.takeText()).isEqualTo("new message :still here");
        }
        for (WsTestClient client : v1) {
            client.send("{\"id\":2,\"type\":\"ping\"}");
            assertThat(client.takeText()).isEqualTo("{\"id\":2,\"type\":\"pong\"}");
        }
        assertThat(clients).allSatisfy(client -> assertThat(client.isOpen()).isTrue());
        assertThat(server.hub().subscribers("news")).isEqualTo(100);
    }

    @Test
    void a_burst_of_the_rate_is_taken_at_once_and_a_client_that_then_keeps_below_the_rate_is_never_closed() throws Exception {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            assertThat(client.takeText()).isEqualTo("Welcome");
            for (int i = 0; i < RATE; i++) client.send("burst " + i);          // the whole burst, back to back
            for (int i = 0; i < RATE; i++) assertThat(client.takeText()).isEqualTo("new message :burst " + i);
            Thread.sleep(250);                                                 // a quarter second refills a quarter
            for (int i = 0; i < RATE / 5; i++) client.send("refilled " + i);
            for (int i = 0; i < RATE / 5; i++) assertThat(client.takeText()).isEqualTo("new message :refilled " + i);
            for (int i = 0; i < RATE / 4; i++) {                               // half a second at half the rate
                client.send("paced " + i);
                assertThat(client.takeText()).isEqualTo("new message :paced " + i);
                Thread.sleep(2000 / RATE);
            }
            assertThat(client.isOpen()).isTrue();
        }
        assertThat(server.metric("squall_limited_total{limit=\"messages_per_second\"}")).isZero();
    }

    @Test
    void a_well_formed_client_over_a_burst_is_closed_with_3013_and_the_reason_after_the_messages_it_was_allowed() {
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            // Some more than a burst: on a slow machine the bucket may refill by one or two while they go out.
            for (int i = 0; i < RATE + 10; i++) client.send("quick " + i);
            int answered = 0;
            WsTestClient.Event event;
            while ((event = client.take()).text() != null) assertThat(event.text()).isEqualTo("new message :quick " + answered++);
            assertThat(answered).as("the burst was taken, and not all of them").isBetween(RATE, RATE + 9);
            assertThat(event.closeCode()).isEqualTo(TOO_MANY_REQUESTS);
            assertThat(event.reason()).isEqualTo("too many requests");
        }
        Await.until("hub empty", Duration.ofSeconds(10), () -> server.hub().size(), 0);
        assertThat(server.metric("squall_limited_total{limit=\"messages_per_second\"}")).isEqualTo(1.0);
    }

    @Test
    void with_no_limit_a_client_may_send_as_fast_as_it_likes() throws Exception {
        server.close();
        server = TestServer.start(TestServer.config().maxMessagesPerSecond(0).build());
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            client.takeText();
            for (int i = 0; i < 500; i++) client.send("fast " + i);
            for (int i = 0; i < 500; i++) assertThat(client.takeText()).isEqualTo("new message :fast " + i);
            assertThat(client.isOpen()).isTrue();
        }
    }
}
