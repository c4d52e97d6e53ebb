package dev.squall;

import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.SocketTimeoutException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 2 item 6: server pings, and dead peers (nothing at all arrives after a ping) are dropped. */
@Timeout(60)
class HeartbeatTest {

    private static final Duration INTERVAL = Duration.ofMillis(400);
    private static final Duration TIMEOUT = Duration.ofMillis(400);
    private static final int CYCLES = 10;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private TestServer startWithHeartbeat() {
        server = TestServer.start(TestServer.config().pingInterval(INTERVAL).pingTimeout(TIMEOUT).build());
        return server;
    }

    @Test
    void a_peer_that_never_answers_pings_is_dropped_after_interval_plus_timeout() throws Exception {
        startWithHeartbeat();
        long connected = System.nanoTime();
        try (RawWsClient silent = RawWsClient.connect(server.port())) {
            assertThat(silent.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");
            // The ping arrives (and is left unanswered): the connection was open until then.
            assertThat(silent.readUntil(RawWsClient.PING, INTERVAL.multipliedBy(3)).opcode()).isEqualTo(RawWsClient.PING);
            assertThat(server.hub().size()).isEqualTo(1);

            int code = silent.awaitServerClose(INTERVAL.plus(TIMEOUT).multipliedBy(3));
            Duration lived = Duration.ofNanos(System.nanoTime() - connected);

            // Dropped without a close frame: a dead peer would never read one.
            assertThat(code).isEqualTo(1006);
            assertThat(lived).isGreaterThanOrEqualTo(TIMEOUT.minusMillis(50))
                    .isLessThan(INTERVAL.plus(TIMEOUT).multipliedBy(3));
        }
        Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 0);
        assertThat(server.metric("squall_dead_peers_total")).isEqualTo(1.0);
    }

    @Test
    void peers_that_answer_pings_stay_connected_over_many_cycles_and_can_still_talk() throws Exception {
        // A generous timeout: a pong delayed by a busy CI machine is not what this test is about. A heartbeat
        // that ignored pongs would still drop both peers within the first few of the 10 cycles.
        server = TestServer.start(TestServer.config().pingInterval(INTERVAL).pingTimeout(INTERVAL.multipliedBy(3)).build());
        try (WsTestClient automatic = WsTestClient.connect(server.ws());
             RawWsClient manual = RawWsClient.connect(server.port())) {
            assertThat(automatic.takeText()).isEqualTo("Welcome");
            assertThat(manual.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");

            // The raw peer answers each ping by hand and sends nothing else: idle, but alive.
            for (int ping = 1; ping <= CYCLES; ping++) {
                RawWsClient.Frame frame = manual.readUntil(RawWsClient.PING, INTERVAL.multipliedBy(3));
                manual.sendFrame(RawWsClient.PONG, frame.payload());
            }

            assertThat(automatic.isOpen()).isTrue();
            assertThat(server.hub().size()).isEqualTo(2);
            assertThat(server.metric("squall_dead_peers_total")).isZero();

            automatic.send("still here");
            assertThat(automatic.takeText()).isEqualTo("new message :still here");
            manual.sendText("me too");
            assertThat(readTextSkippingPings(manual)).isEqualTo("new message :me too");
        }
    }

    @Test
    void with_ping_interval_zero_no_pings_arrive_and_a_silent_peer_stays() throws Exception {
        server = TestServer.start(TestServer.config().pingInterval(Duration.ZERO).pingTimeout(TIMEOUT).build());
        try (RawWsClient silent = RawWsClient.connect(server.port())) {
            assertThat(silent.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");
            // Several would-be ping intervals pass in silence: no frame of any kind arrives.
            assertThatThrownBy(() -> silent.read(INTERVAL.plus(TIMEOUT).multipliedBy(2)))
                    .isInstanceOf(SocketTimeoutException.class);
            assertThat(server.hub().size()).isEqualTo(1);
            silent.sendText("hello");
            assertThat(silent.read(WsTestClient.DEADLINE).text()).isEqualTo("new message :hello");
        }
    }

    private static String readTextSkippingPings(RawWsClient client) throws Exception {
        while (true) {
            RawWsClient.Frame frame = client.read(WsTestClient.DEADLINE);
            if (frame.opcode() == RawWsClient.PING) {
                client.sendFrame(RawWsClient.PONG, frame.payload());
            } else {
                return frame.text();
            }
        }
    }
}
