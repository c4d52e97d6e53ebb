package dev.squall.internal.broker.redis;

import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A channel whose last subscriber left while Redis was lost: its next subscriber, once Redis is back, gets its publications. */
@Timeout(60)
class RedisLostUnsubscribeTest {

    private static final Duration BACK = Duration.ofSeconds(20);

    private final List<AutoCloseable> open = new ArrayList<>();
    private RedisProcess redis;
    private TestServer node;

    @BeforeEach
    void start() throws Exception {
        redis = RedisProcess.start();
        open.add(redis);
        node = TestServer.start(TestServer.config().redis(redis.uri()).build());
        open.add(node);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private WsTestClient subscriber(String channel) throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/" + channel));
        open.add(client);
        assertThat(client.takeText()).contains("\"squall\":\"subscribed\"");
        return client;
    }

    @Test
    void a_channel_left_while_redis_was_lost_delivers_to_its_next_subscriber_once_redis_is_back() throws Exception {
        WsTestClient first = subscriber("news");
        redis.kill();
        Await.until("the node sees Redis lost", BACK, () -> node.getQuietly("/ready").contains("Redis is unavailable"));
        first.close();                                   // the last one out: the node unsubscribes 'news', and Redis is away
        Await.until("the channel to empty", BACK, () -> node.hub().subscribers("news") == 0);

        redis.restart();
        Await.until("Redis is back", BACK, () -> node.getQuietly("/ready").contains("\"ready\""));
        WsTestClient second = WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/news"));
        open.add(second);
        assertThat(second.takeText()).as("the stream is the channel's, made when it was subscribed again")
                .contains("\"squall\":\"subscribed\"").doesNotContain("\"epoch\":\"\"");
        node.publish("news", "\"after\"");
        assertThat(second.takeText()).as("the publication, with no notice of a loss that did not happen before it")
                .isEqualTo("after");
    }
}
