package dev.squall.internal.web;

import dev.squall.SlowConsumerPolicy;
import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
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

            // Dropped without a close frame: a dead peer would never read one. Not before the first ping (an
            // interval after connecting) has had its full timeout: a heartbeat that dropped at ping time fails here.
            assertThat(code).isEqualTo(1006);
            assertThat(lived).isGreaterThanOrEqualTo(INTERVAL.plus(TIMEOUT).minusMillis(50))
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
    void a_peer_that_vanishes_between_ping_and_check_is_not_counted_as_a_dead_peer() throws Exception {
        startWithHeartbeat();
        try (RawWsClient silent = RawWsClient.connect(server.port())) {
            RawWsClient vanishing = RawWsClient.connect(server.port());
            assertThat(vanishing.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");
            vanishing.readUntil(RawWsClient.PING, INTERVAL.multipliedBy(3));
            vanishing.close();                                         // gone after its ping, before the check
            Await.until("the silent peer's drop", Duration.ofSeconds(10), () -> server.metric("squall_dead_peers_total"), 1.0);
            // A peer connected now is dropped a whole cycle later, after any check of the vanished one.
            try (RawWsClient later = RawWsClient.connect(server.port())) {
                Await.until("the later silent peer's drop", Duration.ofSeconds(10), () -> server.metric("squall_dead_peers_total"), 2.0);
            }
        }
        Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 0);
        assertThat(server.metric("squall_dead_peers_total")).as("the vanished peer is not among them").isEqualTo(2.0);
    }

    @Test
    void with_pings_off_a_peer_that_stops_reading_is_dropped_once_its_writes_stall_for_the_write_timeout() throws Exception {
        server = TestServer.start(TestServer.config().pingInterval(Duration.ZERO).writeTimeout(Duration.ofSeconds(1))
                .slowConsumerPolicy(dev.squall.SlowConsumerPolicy.DROP_OLDEST).build());
        try (RawWsClient stalled = RawWsClient.connect(server.port(), java.util.Map.of(), 4096)) {   // never reads
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 1);
            String big = "x".repeat(32 * 1024);
            // Enough to fill both sockets' buffers; with drop-oldest the queue stays full and nothing is refused.
            Await.until("messages stuck in the stalled peer's queue", Duration.ofSeconds(20), () -> {
                server.app.plugin().squall().broadcast(big);
                return server.hub().queuedBytes() > 0 && server.metric("squall_dropped_messages_total") > 0;
            });
            Await.until("the stalled peer's drop", Duration.ofSeconds(10), () -> server.metric("squall_stalled_peers_total"), 1.0);
            assertThat(server.metric("squall_slow_consumers_total")).as("drop-oldest never closes it as slow").isZero();
            Await.until("hub size", Duration.ofSeconds(5), () -> server.hub().size(), 0);
            assertThat(server.hub().queuedBytes()).isZero();
        }
    }

    @Test
    void with_ping_interval_zero_no_pings_arrive_and_a_silent_peer_stays() throws Exception {
        // A short write timeout too: a quiet listener with nothing queued is not a stalled one.
        server = TestServer.start(TestServer.config().pingInterval(Duration.ZERO).pingTimeout(TIMEOUT)
                .writeTimeout(Duration.ofMillis(200)).build());
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
