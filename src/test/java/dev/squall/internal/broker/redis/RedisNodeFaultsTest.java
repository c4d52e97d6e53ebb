package dev.squall.internal.broker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.support.Await;
import dev.squall.support.CuttableProxy;
import dev.squall.support.RedisProcess;
import dev.squall.support.ServerProcess;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two Squall nodes whose Redis goes away: killed mid-stream and restarted empty, or cut off from one node by the
 * network while the other goes on. Clients stay connected, and each ends with every message or is told what it
 * lost, never a silent hole (issue 10, "Faults").
 */
@Timeout(120)
class RedisNodeFaultsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final String CHANNEL = "live";

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private <T extends AutoCloseable> T opened(T closeable) {
        open.add(closeable);
        return closeable;
    }

    private TestServer node(String redisUri) {
        // Pings every second, answered within a second: an outage of several seconds spans several heartbeats.
        return opened(TestServer.start(TestServer.config().redis(redisUri).historySize(10_000)
                .pingInterval(Duration.ofSeconds(1)).pingTimeout(Duration.ofSeconds(1)).build()));
    }

    /** A client's frames as they arrive, read on the test thread. */
    private final class Feed {
        final String name;
        final WsTestClient client;
        final boolean v1;
        final List<String> frames = new ArrayList<>();

        Feed(String name, TestServer node, boolean v1) {
            this.name = name;
            this.v1 = v1;
            this.client = opened(v1
                    ? WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws"), Map.of(), List.of("squall.v1"))
                    : WsTestClient.connect(URI.create("ws://localhost:" + node.port() + "/ws/" + CHANNEL)));
            if (v1) client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\"}");
        }

        /** Takes what has arrived; fails if the server closed the connection. */
        void drain() throws InterruptedException {
            WsTestClient.Event event;
            while ((event = client.poll(Duration.ZERO)) != null) {
                assertThat(event.isClose()).as(name + " stays connected, closed with " + event.closeCode()).isFalse();
                frames.add(event.text());
            }
        }

        void until(String what, java.util.function.BooleanSupplier condition) {
            Await.until(name + ": " + what, DEADLINE, () -> {
                try {
                    drain();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return condition.getAsBoolean();
            });
        }

        /** The texts of the publications received (in order), whichever framing. */
        List<String> texts() {
            List<String> texts = new ArrayList<>();
            for (Entry entry : entries()) if (entry.text != null) texts.add(entry.text);
            return texts;
        }

        /** Publications and resets in the order they came; the subscribe answers and pongs left out. */
        List<Entry> entries() {
            List<Entry> entries = new ArrayList<>();
            for (String frame : frames) {
                if (!frame.startsWith("{")) {                             // plain framing: the data itself
                    entries.add(new Entry(frame, -1, null));
                    continue;
                }
                JsonNode node = read(frame);
                if (v1 && node.has("offset") && node.has("data") && !node.has("type")) {
                    entries.add(new Entry(node.path("data").asText(), node.path("offset").asLong(), null));
                } else if (node.path("recovered").isBoolean() && !node.path("recovered").asBoolean()
                        && (node.path("type").asText().equals("reset") || node.path("squall").asText().equals("subscribed"))) {
                    entries.add(new Entry(null, node.path("offset").asLong(), node.path("epoch").asText()));
                }
            }
            return entries;
        }
    }

    /** A publication ({@code text}, with its offset when the framing says it) or a reset ({@code epoch} set). */
    private record Entry(String text, long offset, String epoch) {
    }

    private static JsonNode read(String frame) {
        try {
            return JSON.readTree(frame);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + frame, e);
        }
    }

    /** One publish result: what was published and where it went; offset 0 when it was refused. */
    private record Published(String text, long offset, String epoch) {
    }

    /**
     * Publishes {@code "m0"}, {@code "m1"}, ... through {@code POST /publish} on the given nodes in turn, back to back,
     * and keeps going when one is refused (Redis away): it records where each accepted one went.
     */
    private static final class Publisher implements AutoCloseable {
        final List<Published> results = new CopyOnWriteArrayList<>();
        final AtomicInteger accepted = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Publisher(TestServer... nodes) {
            thread = new Thread(() -> {
                for (int i = 0; running.get(); i++) {
                    String text = "m" + i;
                    byte[] body = ("{\"channel\":\"" + CHANNEL + "\",\"data\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8);
                    try {
                        HttpResponse<String> response = nodes[i % nodes.length].post("/publish", "application/json", body);
                        if (response.statusCode() == 200) {
                            JsonNode answer = read(response.body());
                            results.add(new Published(text, answer.path("offset").asLong(), answer.path("epoch").asText()));
                            accepted.incrementAndGet();
                            continue;
                        }
                    } catch (Exception e) {
                        // refused or failed: as below
                    }
                    results.add(new Published(text, 0, null));
                    // Refused: Redis is away. Wait for the node to be ready again rather than hammer it meanwhile.
                    TestServer node = nodes[i % nodes.length];
                    while (running.get() && status(node, "/ready") != 200) pause();
                }
            }, "test-publisher");
            thread.start();
        }

        /** The poll interval of {@link Await}, while a node is not ready. */
        private static void pause() {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        List<Published> acceptedIn(String epoch) {
            return results.stream().filter(p -> epoch.equals(p.epoch())).toList();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(15_000);
        }
    }

    private static int status(TestServer node, String path) {
        try {
            return node.get(path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    /** A squall.v1 ping is answered while Redis is away: the connection is alive, not just open. */
    private static void pingAnswered(Feed v1) {
        String id = Integer.toString(1000 + v1.frames.size());
        v1.client.send("{\"id\":" + id + ",\"type\":\"ping\"}");
        v1.until("pong " + id, () -> v1.frames.stream().anyMatch(f -> f.equals("{\"id\":" + id + ",\"type\":\"pong\"}")));
    }

    @Test
    void redis_killed_mid_stream_and_restarted_empty_clients_stay_connected_and_get_every_message_or_are_told() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        TestServer a = node(redis.uri());
        TestServer b = node(redis.uri());
        List<Feed> feeds = List.of(new Feed("plain on A", a, false), new Feed("plain on B", b, false),
                new Feed("v1 on A", a, true), new Feed("v1 on B", b, true));
        for (Feed feed : feeds) feed.until("subscribed", () -> !feed.frames.isEmpty());

        Publisher publisher = opened(new Publisher(a, b));
        for (Feed feed : feeds) feed.until("some messages", () -> feed.texts().size() >= 20);
        String oldEpoch = publisher.results.stream().filter(p -> p.epoch() != null).findFirst().orElseThrow().epoch();

        redis.kill();
        Await.until("both nodes not ready", DEADLINE, () -> status(a, "/ready") == 503 && status(b, "/ready") == 503);
        int acceptedAtLoss = publisher.accepted.get();
        long lostAt = System.nanoTime();
        // Longer than ping interval + timeout twice over: a client whose heartbeat stopped would be closed by now.
        Await.until("three heartbeats", DEADLINE, () -> System.nanoTime() - lostAt > Duration.ofSeconds(3).toNanos());
        assertThat(publisher.accepted.get()).as("nothing accepted while Redis is away").isLessThanOrEqualTo(acceptedAtLoss + 1);
        for (Feed feed : feeds) {
            feed.drain();
            if (feed.v1) pingAnswered(feed);
        }

        redis.restart();
        Await.until("both nodes ready again", DEADLINE, () -> status(a, "/ready") == 200 && status(b, "/ready") == 200);
        Await.until("publishes in the new epoch", DEADLINE, () -> publisher.results.stream()
                .filter(p -> p.epoch() != null && !p.epoch().equals(oldEpoch)).count() >= 100);
        publisher.close();

        String newEpoch = publisher.results.get(publisher.results.size() - 1).epoch();
        assertThat(newEpoch).as("Redis restarted empty: a new epoch").isNotNull().isNotEqualTo(oldEpoch);
        List<Published> before = publisher.acceptedIn(oldEpoch);
        List<Published> after = publisher.acceptedIn(newEpoch);
        String lastText = after.get(after.size() - 1).text();
        for (Feed feed : feeds) {
            feed.until("the last message", () -> feed.texts().contains(lastText));
            List<Entry> entries = feed.entries();
            List<Entry> resets = entries.stream().filter(e -> e.epoch() != null).toList();
            assertThat(resets).as(feed.name + ": told once it lost the old stream").hasSize(1);
            Entry reset = resets.get(0);
            assertThat(reset.epoch()).isEqualTo(newEpoch);
            int at = entries.indexOf(reset);

            List<String> old = entries.subList(0, at).stream().map(Entry::text).toList();
            List<String> oldAccepted = before.stream().map(Published::text).toList();
            List<String> oldAccepted2 = old.size() <= oldAccepted.size() ? oldAccepted.subList(0, old.size()) : oldAccepted;
            assertThat(old).as(feed.name + ": the old epoch, in order, from the first, with no hole before the reset")
                    .startsWith(oldAccepted2.toArray(String[]::new));

            List<String> expected = after.stream().filter(p -> p.offset() > reset.offset()).map(Published::text).toList();
            assertThat(entries.subList(at + 1, entries.size()).stream().map(Entry::text).toList())
                    .as(feed.name + ": after the reset, every message of the new epoch after its offset, once, in order")
                    .isEqualTo(expected);
        }
    }

    @Test
    void after_a_network_cut_between_one_node_and_redis_its_clients_get_every_message_once_in_order() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        CuttableProxy cable = opened(CuttableProxy.to(redis.port()));
        TestServer cut = node("redis://127.0.0.1:" + cable.port());
        TestServer other = node(redis.uri());
        List<Feed> feeds = List.of(new Feed("plain on the cut node", cut, false), new Feed("v1 on the cut node", cut, true));
        for (Feed feed : feeds) feed.until("subscribed", () -> !feed.frames.isEmpty());

        Publisher publisher = opened(new Publisher(other));
        for (Feed feed : feeds) feed.until("some messages", () -> feed.texts().size() >= 20);
        cable.sever();
        Await.until("the cut node not ready", DEADLINE, () -> status(cut, "/ready") == 503);
        int atCut = publisher.accepted.get();
        Await.until("the other node goes on publishing", DEADLINE, () -> publisher.accepted.get() > atCut + 200);
        for (Feed feed : feeds) if (feed.v1) pingAnswered(feed);
        cable.restore();
        Await.until("the cut node ready again", DEADLINE, () -> status(cut, "/ready") == 200);
        int healed = publisher.accepted.get();
        Await.until("more published after the heal", DEADLINE, () -> publisher.accepted.get() > healed + 100);
        publisher.close();

        List<String> all = publisher.results.stream().map(Published::text).toList();
        assertThat(publisher.results).as("the other node's publishes never failed").allMatch(p -> p.offset() > 0);
        for (Feed feed : feeds) {
            feed.until("the last message", () -> feed.texts().contains(all.get(all.size() - 1)));
            assertThat(feed.entries()).as(feed.name + ": no reset").allMatch(e -> e.epoch() == null);
            assertThat(feed.texts()).as(feed.name + ": every message once, in order").isEqualTo(all);
        }
    }

    @Test
    void a_lost_redis_is_one_line_and_its_return_another_with_no_line_per_reconnect_attempt(@TempDir Path workingDir) throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        ServerProcess server = opened(ServerProcess.start(workingDir, Path.of("target", "redis-node-faults-lost.log"),
                List.of("-Dorg.slf4j.simpleLogger.log.dev.squall=info"), "--port", "0", "--host", "127.0.0.1", "--redis", redis.uri()));
        Await.until("the start-up line", DEADLINE, () -> server.output().contains("Squall listening on"));

        redis.kill();
        Await.until("the line saying Redis is lost", DEADLINE, () -> server.output().contains("Lost Redis at " + redis.uri()));
        long lostAt = System.nanoTime();
        Await.until("several reconnect attempts", DEADLINE, () -> System.nanoTime() - lostAt > Duration.ofSeconds(2).toNanos());
        redis.restart();
        Await.until("the line saying it is back", DEADLINE, () -> server.output().contains("Redis at " + redis.uri() + " is back after"));

        List<String> lines = server.output().lines().filter(line -> !line.contains("Squall listening on")).toList();
        assertThat(lines).as("one line lost, one line back, nothing from Lettuce, no stack trace").hasSize(2);
        assertThat(lines.get(0)).contains("WARN", "Lost Redis at " + redis.uri() + ": publishes answer 503 until it is back; reconnecting");
        assertThat(lines.get(1)).contains("INFO", "is back after", "channels subscribed again and checked");
    }
}
