package dev.squall.internal.web;

import dev.squall.internal.hub.Connection;
import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 2 item 10: bad input never crashes the server, leaks a connection or a thread. */
@Timeout(90)
class BadInputTest {

    private static final int PROTOCOL_ERROR = 1002;
    private static final int INVALID_PAYLOAD = 1007;

    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.config()
                .maxMessageBytes(1024).maxQueueBytes(64 * 1024).maxQueueMessages(100).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void a_plain_get_on_the_websocket_path_is_a_426_asking_for_an_upgrade() throws Exception {
        var response = server.get("/ws");
        assertThat(response.statusCode()).isEqualTo(426);
        assertThat(response.headers().firstValue("Upgrade")).hasValue("websocket");
        assertServerStillWorks();
    }

    @Test
    void an_upgrade_without_sec_websocket_key_is_a_400_not_a_500() throws Exception {
        assertThat(upgradeStatus("""
                GET /ws HTTP/1.1\r
                Host: localhost\r
                Upgrade: websocket\r
                Connection: Upgrade\r
                Sec-WebSocket-Version: 13\r
                \r
                """)).isEqualTo(400);
        assertThat(server.metric("squall_connects_total")).isZero();
        assertServerStillWorks();
    }

    @Test
    void an_upgrade_with_a_key_that_is_not_16_bytes_of_base64_is_a_400() throws Exception {
        for (String key : new String[]{"not base64!", "c2hvcnQ=", ""}) {
            assertThat(upgradeStatus("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n")).as("key '%s'", key).isEqualTo(400);
        }
        assertServerStillWorks();
    }

    @Test
    void an_upgrade_with_the_wrong_protocol_version_is_a_426_naming_version_13() throws Exception {
        try (RawWsClient client = RawWsClient.connect(server.port(), java.util.Map.of("Sec-WebSocket-Version", "8"), 0)) {
            assertThat(client.status()).isEqualTo(426);
            // RFC 6455 4.4: the answer to an unsupported version names the versions the server speaks.
            assertThat(client.header("Sec-WebSocket-Version")).isEqualTo("13");
        }
        assertServerStillWorks();
    }

    @Test
    void a_text_frame_that_is_not_valid_utf8_closes_the_connection_with_1007() throws Exception {
        try (RawWsClient client = openRaw()) {
            client.sendFrame(RawWsClient.TEXT, new byte[]{'o', 'k', (byte) 0xC3, 0x28});   // 0xC3 needs a continuation byte
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(INVALID_PAYLOAD);
        }
        assertServerStillWorks();
    }

    @Test
    void garbage_after_the_handshake_closes_that_connection_and_the_server_carries_on() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(server.ws());
             RawWsClient client = openRaw()) {
            bystander.takeText();
            client.sendRaw("GET / HTTP/1.1\r\nHost: nonsense\r\n\r\n\0\1\2\3 garbage".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(PROTOCOL_ERROR);
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 1);
            assertBystanderUnharmed(bystander);
        }
        assertServerStillWorks();
    }

    @Test
    void a_frame_with_a_reserved_opcode_closes_that_connection_with_1002() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(server.ws());
             RawWsClient client = openRaw()) {
            bystander.takeText();
            client.sendFrame(0x3, "reserved".getBytes(StandardCharsets.US_ASCII));
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(PROTOCOL_ERROR);
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 1);
            assertBystanderUnharmed(bystander);
        }
        assertServerStillWorks();
    }

    @Test
    void an_unmasked_client_frame_closes_that_connection_with_1002() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(server.ws());
             RawWsClient client = openRaw()) {
            bystander.takeText();
            client.sendRaw(new byte[]{(byte) 0x81, 0x02, 'h', 'i'});      // FIN + text, no mask bit
            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(PROTOCOL_ERROR);
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 1);
            assertBystanderUnharmed(bystander);
        }
        assertServerStillWorks();
    }

    @Test
    void five_hundred_rapid_connect_disconnect_cycles_leave_the_hub_empty_and_no_thread_behind() throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        try {
            runCycles(workers, 40);                                     // warm up: let Jetty's pool reach its working size
            Await.until("hub size after warm-up", Duration.ofSeconds(10), () -> server.hub().size(), 0);
            int threadsBefore = Thread.activeCount();
            double connectsBefore = server.metric("squall_connects_total");

            runCycles(workers, 500);

            Await.until("hub size", Duration.ofSeconds(15), () -> server.hub().size(), 0);
            // Every WebSocket that opened also left, and the metrics agree with the hub.
            Await.until("disconnects = connects", Duration.ofSeconds(10),
                    () -> sum(server.metricsMatching("squall_disconnects_total")) == server.metric("squall_connects_total"));
            assertThat(server.metric("squall_connects_total") - connectsBefore).isGreaterThan(300);
            assertThat(server.metric("squall_connections")).isZero();
            // A leak would be one thread per connection; allow for pool growth under the parallel load.
            Await.until("threads back near " + threadsBefore, Duration.ofSeconds(10),
                    () -> Thread.activeCount() <= threadsBefore + 20);
        } finally {
            workers.shutdownNow();
        }
        assertServerStillWorks();
    }

    @Test
    void close_codes_a_client_picks_freely_share_one_metric_series_per_range() throws Exception {
        int[] codes = {3001, 3999, 4000, 4321, 4999, 1000};
        for (int code : codes) {
            WsTestClient client = WsTestClient.connect(server.ws());
            assertThat(client.takeText()).isEqualTo("Welcome");
            client.closeWith(code, "chosen by the client");
            client.awaitClose();
        }
        Await.until("hub size", Duration.ofSeconds(10), () -> server.hub().size(), 0);
        assertThat(server.metric("squall_disconnects_total{code=\"3000-3999\"}")).isEqualTo(2.0);
        assertThat(server.metric("squall_disconnects_total{code=\"4000-4999\"}")).isEqualTo(3.0);
        assertThat(server.metric("squall_disconnects_total{code=\"1000\"}")).isEqualTo(1.0);
        assertThat(server.metricsMatching("squall_disconnects_total")).as("one series per range, not per code").hasSize(3);
        assertServerStillWorks();
    }

    @Test
    void a_client_that_floods_without_reading_its_echoes_is_closed_as_a_slow_consumer() throws Exception {
        // The queue's bound is under test here: --max-messages-per-second would close this flooder first (3013, see
        // MessageRateLimitTest), so it is off.
        server.close();
        server = TestServer.start(TestServer.config()
                .maxMessageBytes(1024).maxQueueBytes(64 * 1024).maxQueueMessages(100).maxMessagesPerSecond(0).build());
        long maxQueueBytes = 64 * 1024;
        byte[] payload = "x".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        AtomicLong mostQueued = new AtomicLong();
        int sent = 0;
        try (RawWsClient flooder = RawWsClient.connect(server.port(), java.util.Map.of(), 4096)) {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            try {
                // Kernel buffers on both sides absorb a few MB before the server's queue starts to fill.
                while (System.nanoTime() < end) {
                    flooder.sendFrame(RawWsClient.TEXT, payload);
                    sent++;
                    mostQueued.accumulateAndGet(server.hub().queuedBytes(), Math::max);
                    if (sent % 200 == 0 && server.metric("squall_slow_consumers_total") > 0) break;
                }
            } catch (IOException dropped) {
                // The server closed the socket under our writes: that is the point.
            }
        }
        Await.until("slow consumer closed", Duration.ofSeconds(10), () -> server.metric("squall_slow_consumers_total"), 1.0);
        Await.until("hub size", Duration.ofSeconds(10), () -> server.hub().size(), 0);
        assertThat(server.metric("squall_disconnects_total{code=\"1008\"}")).isEqualTo(1.0);
        assertThat(mostQueued.get()).isLessThanOrEqualTo(maxQueueBytes);
        assertThat(sent).as("messages sent before the drop").isLessThan(100_000);
        assertServerStillWorks();
    }

    private void runCycles(ExecutorService workers, int cycles) throws Exception {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < cycles; i++) {
            int kind = i % 3;
            done.add(workers.submit(() -> {
                switch (kind) {
                    case 0 -> {                                          // clean close handshake
                        try (RawWsClient client = openRaw()) {
                            client.sendFrame(RawWsClient.CLOSE, new byte[]{0x03, (byte) 0xE8});
                            assertThat(client.awaitServerClose(WsTestClient.DEADLINE)).isEqualTo(1000);
                        }
                    }
                    case 1 -> {                                          // socket dropped right after the upgrade
                        RawWsClient client = RawWsClient.connect(server.port());
                        client.close();
                    }
                    default -> {                                         // socket dropped mid-handshake
                        try (Socket socket = new Socket()) {
                            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
                            OutputStream out = socket.getOutputStream();
                            out.write("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConn".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : done) future.get(30, TimeUnit.SECONDS);
    }

    private RawWsClient openRaw() throws IOException {
        RawWsClient client = RawWsClient.connect(server.port());
        assertThat(client.status()).isEqualTo(101);
        assertThat(client.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");
        return client;
    }

    private int upgradeStatus(String request) throws IOException {
        try (RawWsClient client = RawWsClient.handshake(server.port(), request.getBytes(StandardCharsets.US_ASCII), 0)) {
            return client.status();
        }
    }

    private void assertBystanderUnharmed(WsTestClient bystander) throws Exception {
        assertThat(bystander.isOpen()).isTrue();
        bystander.send("ping?");
        assertThat(bystander.takeText()).isEqualTo("new message :ping?");
        assertThat(server.get("/receive?msg=still-here").body()).isEqualTo("{\"delivered\":1}");
        assertThat(bystander.takeText()).isEqualTo("still-here");
    }

    private void assertServerStillWorks() throws Exception {
        assertThat(server.get("/index").statusCode()).isEqualTo(200);
        try (WsTestClient client = WsTestClient.connect(server.ws())) {
            assertThat(client.takeText()).isEqualTo("Welcome");
        }
    }

    private static double sum(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).sum();
    }
}
