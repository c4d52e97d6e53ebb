package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.web.ProtocolSession;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Redis that stops answering (busy for seconds, {@code DEBUG SLEEP}, as one stuck on a slow command is) while
 * more squall.v1 clients publish than the server has threads: each publish waits on a Jetty thread for Redis's
 * answer, and only a few may, so the rest of the server goes on. A plain client's echo comes back at once, and
 * pings and pongs go on, so no live peer is taken for dead.
 */
@Timeout(60)
class RedisSilentTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** More than the standalone server's 64 HTTP threads. */
    private static final int PUBLISHERS = 80;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    @Test
    void while_redis_is_silent_plain_websocket_traffic_and_pings_go_on() throws Exception {
        RedisProcess redis = RedisProcess.start();
        open.add(redis);
        TestServer node = TestServer.start(TestServer.config().redis(redis.uri())
                .pingInterval(Duration.ofSeconds(1)).pingTimeout(Duration.ofSeconds(1)).build());
        open.add(node);
        URI ws = URI.create("ws://localhost:" + node.port() + "/ws");
        WsTestClient plain = WsTestClient.connect(ws);
        open.add(plain);
        assertThat(plain.takeText()).isEqualTo("Welcome");
        List<WsTestClient> publishers = new ArrayList<>();
        for (int i = 0; i < PUBLISHERS; i++) {
            WsTestClient publisher = WsTestClient.connect(ws, Map.of(), List.of("squall.v1"));
            open.add(publisher);
            publishers.add(publisher);
        }

        redis.freeze(Duration.ofSeconds(4));
        for (WsTestClient publisher : publishers) publisher.send("{\"id\":1,\"type\":\"publish\",\"channel\":\"news\",\"data\":\"x\"}");
        long sent = System.nanoTime();
        plain.send("still there?");
        String echo = plain.takeText();
        long tookMillis = (System.nanoTime() - sent) / 1_000_000;

        assertThat(echo).isEqualTo("new message :still there?");
        assertThat(tookMillis).as("the echo waited for no Redis call (Redis is frozen for 4 s)").isLessThan(2000);
        // Past two ping intervals and timeouts of the freeze: every pong was read.
        for (WsTestClient publisher : publishers) {
            String reply = publisher.takeText();
            assertThat(JSON.readTree(reply).path("id").asLong()).as(reply).isEqualTo(1);
        }
        assertThat(plain.isOpen()).isTrue();
        assertThat(node.metric("squall_dead_peers_total")).as("no live peer taken for dead").isZero();
    }

    @Test
    void a_client_that_sends_more_commands_than_can_wait_while_redis_is_silent_is_closed_with_try_again_later() throws Exception {
        RedisProcess redis = RedisProcess.start();
        open.add(redis);
        // The bound on waiting commands is under test: --max-messages-per-second would close this flooder first (3013).
        TestServer node = TestServer.start(TestServer.config().redis(redis.uri()).maxMessagesPerSecond(0).build());
        open.add(node);
        WsTestClient flooder = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws"), Map.of(), List.of("squall.v1"));
        open.add(flooder);

        redis.freeze(Duration.ofSeconds(3));
        for (int i = 1; i <= ProtocolSession.MAX_WAITING_COMMANDS + 10; i++) {
            flooder.send("{\"id\":" + i + ",\"type\":\"publish\",\"channel\":\"news\",\"data\":\"x\"}");
        }

        assertThat(flooder.awaitClose()).as("1013: try again later").isEqualTo(1013);
    }
}
