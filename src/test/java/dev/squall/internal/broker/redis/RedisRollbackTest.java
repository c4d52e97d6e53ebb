package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.RedisProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis comes back with an older state under the same epoch: publish m1-m3, {@code SAVE}, publish m4-m6, kill it
 * ({@code kill -9}) and restart it from its snapshot (Redis's default persistence; a replica promoted after a
 * failover does the same). The channel's meta hash then says offset 3 of the old epoch, and new publishes would be
 * numbered 4, 5, 6 again: other messages under offsets clients already have. They go to a new epoch instead, the
 * live subscriber is told it is not recovered, and no node, not even one that never saw m4-m6, answers a
 * recovery from offset 6 of the old epoch with {@code recovered: true}.
 */
@Timeout(60)
class RedisRollbackTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration BACK = Duration.ofSeconds(20);

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private <T extends AutoCloseable> T opened(T closeable) {
        open.add(closeable);
        return closeable;
    }

    private WsTestClient v1(TestServer node) {
        return opened(WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws"), Map.of(), List.of("squall.v1")));
    }

    private static JsonNode frame(WsTestClient client) throws Exception {
        return JSON.readTree(client.takeText());
    }

    @Test
    void a_redis_restarted_from_an_older_snapshot_starts_the_channel_on_a_new_epoch_and_nobody_recovers_across_it(@TempDir Path dir)
            throws Exception {
        RedisProcess redis = opened(RedisProcess.startSaving(dir));
        TestServer first = opened(TestServer.start(TestServer.config().redis(redis.uri()).build()));
        TestServer second = opened(TestServer.start(TestServer.config().redis(redis.uri()).build()));
        WsTestClient live = v1(first);
        live.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}");
        assertThat(frame(live).path("type").asText()).isEqualTo("subscribed");

        String epoch = null;
        for (int i = 1; i <= 6; i++) {
            epoch = first.publish("news", "\"m" + i + "\"").path("epoch").asText();
            if (i == 3) assertThat(redis.command("SAVE")).isEqualTo("+OK");
        }
        for (int i = 1; i <= 6; i++) {
            JsonNode publication = frame(live);
            assertThat(publication.path("offset").asLong()).isEqualTo(i);
            assertThat(publication.path("data").asText()).isEqualTo("m" + i);
        }

        redis.restart();                                   // SIGKILL, then up again from the snapshot of m1-m3
        Await.until("both nodes ready again", BACK,
                () -> first.getQuietly("/ready").contains("\"ready\"") && second.getQuietly("/ready").contains("\"ready\""));
        List<JsonNode> published = new ArrayList<>();
        for (int i = 4; i <= 7; i++) published.add(first.publish("news", "\"n" + i + "\""));

        assertThat(published.get(0).path("epoch").asText()).as("a new epoch, not the snapshot's").isNotEqualTo(epoch);
        JsonNode reset = frame(live);
        assertThat(reset.path("type").asText()).as("the live subscriber is told: %s", reset).isEqualTo("reset");
        assertThat(reset.path("recovered").asBoolean(true)).isFalse();
        assertThat(reset.path("epoch").asText()).isEqualTo(published.get(0).path("epoch").asText());
        List<String> after = new ArrayList<>();
        for (int i = 0; i < 4; i++) after.add(frame(live).path("data").asText());
        assertThat(after).as("every new publication, none taken for a duplicate").containsExactly("n4", "n5", "n6", "n7");

        for (TestServer node : List.of(first, second)) {
            WsTestClient back = v1(node);
            back.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":6,\"epoch\":\"" + epoch + "\"}");
            JsonNode subscribed = frame(back);
            assertThat(subscribed.path("type").asText()).isEqualTo("subscribed");
            assertThat(subscribed.path("recovered").asBoolean(true)).as("offsets 4-6 name other messages now: %s", subscribed).isFalse();
        }
    }
}
