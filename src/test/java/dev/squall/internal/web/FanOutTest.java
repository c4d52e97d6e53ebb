package dev.squall.internal.web;

import dev.squall.SlowConsumerPolicy;
import dev.squall.support.Await;
import dev.squall.support.RawWsClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 3: fan-out that no client can stall, in order, bounded, and consistent under close storms. */
@Timeout(60)
class FanOutTest {

    private static final int MIB = 1024 * 1024;

    /** One HttpClient (one selector thread) for every WsTestClient: a thousand of them stay cheap. */
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = Collections.synchronizedList(new ArrayList<>());
    private final List<RawWsClient> rawClients = Collections.synchronizedList(new ArrayList<>());
    private final ExecutorService pool = Executors.newFixedThreadPool(16);
    private TestServer server;

    @AfterEach
    void stop() throws Exception {
        pool.shutdownNow();
        synchronized (clients) {
            clients.forEach(WsTestClient::close);
        }
        synchronized (rawClients) {
            for (RawWsClient raw : rawClients) raw.close();
        }
        if (server != null) server.close();
    }

    @Test
    void a_thousand_clients_each_receive_a_hundred_http_broadcasts_in_publish_order() throws Exception {
        server = TestServer.start(TestServer.config().build());
        List<WsTestClient> subscribers = connect(1000);

        for (int i = 0; i < 100; i++) {
            var response = server.get("/receive?msg=" + URLEncoder.encode("seq " + i, StandardCharsets.UTF_8));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("{\"delivered\":1000}");
        }

        for (WsTestClient subscriber : subscribers) {
            for (int i = 0; i < 100; i++) {
                assertThat(subscriber.takeText()).isEqualTo("seq " + i);
            }
        }
    }

    @Test
    void four_concurrent_publishers_are_seen_in_one_global_order_that_keeps_each_publishers_order() throws Exception {
        server = TestServer.start(TestServer.config().build());
        // 250 subscribers keep the class well under a minute here; the ordering argument does not depend on the count.
        int subscriberCount = 250, publishers = 4, perPublisher = 25;
        List<WsTestClient> subscribers = connect(subscriberCount);

        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int publisher = p;
            running.add(pool.submit((Callable<Void>) () -> {
                go.await();
                for (int i = 0; i < perPublisher; i++) {
                    String text = "p" + publisher + " " + i;
                    if (publisher % 2 == 0) {                         // half over HTTP, half through App.publish
                        assertThat(server.get("/receive?msg=" + URLEncoder.encode(text, StandardCharsets.UTF_8)).body())
                                .isEqualTo("{\"delivered\":" + subscriberCount + "}");
                    } else {
                        assertThat(server.app.plugin().squall().broadcast(text)).isEqualTo(subscriberCount);
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> publisher : running) publisher.get(30, TimeUnit.SECONDS);

        List<String> globalOrder = null;
        for (WsTestClient subscriber : subscribers) {
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < publishers * perPublisher; i++) seen.add(subscriber.takeText());
            assertEachPublishersOrder(seen, publishers, perPublisher);
            if (globalOrder == null) globalOrder = seen;
            assertThat(seen).as("every client sees the same interleaving").isEqualTo(globalOrder);
        }
    }

    @Test
    void a_client_that_never_reads_is_dropped_mid_publish_while_everyone_else_gets_everything() throws Exception {
        server = TestServer.start(TestServer.config().build());           // 1 MiB / 1000 messages per connection
        int broadcasts = 2000, messageBytes = 6 * 1024;
        List<WsTestClient> readers = connect(20);
        RawWsClient stalled = RawWsClient.connect(server.port(), Map.of(), 4096);   // tiny window, never reads
        rawClients.add(stalled);
        Await.until("open and subscribed", Duration.ofSeconds(10), () -> server.hub().openCount(), 21);

        int droppedAt = -1;
        long mostQueued = 0;
        for (int i = 0; i < broadcasts; i++) {
            String prefix = "m" + i + " ";
            server.app.plugin().squall().broadcast(prefix + "x".repeat(messageBytes - prefix.length()));
            mostQueued = Math.max(mostQueued, server.hub().queuedBytes());
            if (droppedAt < 0 && server.hub().size() == 20) droppedAt = i;
            if (i % 25 == 24) {
                // Readers keep up: within 50 messages of the publisher (+1: the Welcome), in seconds, not after
                // the stalled client is dealt with. The deadline leaves room for a noisy CI machine.
                int published = i + 1;
                Await.until("every reader within 50 messages of #" + i, Duration.ofSeconds(5),
                        () -> readers.stream().allMatch(reader -> reader.received() >= published + 1 - 50));
            }
        }

        assertThat(droppedAt).as("publish index at which the stalled client left the hub")
                .isBetween(0, broadcasts / 2);
        assertThat(server.metric("squall_slow_consumers_total")).isEqualTo(1.0);
        assertThat(server.metric("squall_disconnects_total{code=\"1008\"}")).isEqualTo(1.0);
        // The stalled connection held at most its own bound. A reader's queue never exceeds its lag, and the
        // publisher runs at most 25 messages past a point where every reader was within 50: 75 messages each.
        assertThat(mostQueued).isLessThanOrEqualTo(MIB + 20L * 75 * messageBytes);
        assertThat(stalled.awaitServerClose(WsTestClient.DEADLINE)).isIn(1008, 1006);

        for (WsTestClient reader : readers) {
            assertThat(reader.isOpen()).isTrue();
            for (int i = 0; i < broadcasts; i++) {
                String text = reader.takeText();
                assertThat(text).startsWith("m" + i + " ").hasSize(messageBytes);
            }
        }
        System.out.printf("stalled client dropped at publish #%d of %d; most queued %d bytes%n", droppedAt, broadcasts, mostQueued);
    }

    @Test
    void with_drop_oldest_a_client_that_reads_late_stays_connected_and_is_told_exactly_what_it_missed() throws Exception {
        server = TestServer.start(TestServer.config().slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).build());
        int phases = 3, perPhase = 1000, messageBytes = 6 * 1024;   // a phase: more than the socket buffers + queue hold
        List<WsTestClient> readers = connect(20);
        RawWsClient late = RawWsClient.connect(server.port(), Map.of(), 4096);   // tiny window; reads between phases
        rawClients.add(late);
        Await.until("open and subscribed", Duration.ofSeconds(10), () -> server.hub().openCount(), 21);
        assertThat(late.read(WsTestClient.DEADLINE).text()).isEqualTo("Welcome");

        long mostQueued = 0;
        GapCheck gaps = new GapCheck();
        for (int phase = 0; phase < phases; phase++) {
            // It reads nothing while a phase is published...
            for (int i = phase * perPhase; i < (phase + 1) * perPhase; i++) {
                String prefix = "m" + i + " ";
                assertThat(server.app.plugin().squall().broadcast(prefix + "x".repeat(messageBytes - prefix.length())))
                        .as("connections that took broadcast #%d", i).isEqualTo(21);
                mostQueued = Math.max(mostQueued, server.hub().queuedBytes());
                if (i % 25 == 24) {
                    int published = i + 1;
                    Await.until("every reader within 50 messages of #" + i, Duration.ofSeconds(5),
                            () -> readers.stream().allMatch(reader -> reader.received() >= published + 1 - 50));
                }
            }
            // ...then catches up: what it gets is in publish order, and each gap is announced with its exact size.
            gaps.readThrough(late, (phase + 1) * perPhase - 1);
        }

        assertThat(gaps.count).as("gaps: one per phase the late client fell behind in").isEqualTo(phases);
        assertThat(gaps.missed).as("notices add up to the dropped-messages metric")
                .isEqualTo((int) server.metric("squall_dropped_messages_total"));
        assertThat(server.metric("squall_slow_consumers_total")).isZero();
        assertThat(server.hub().size()).isEqualTo(21);
        assertThat(mostQueued).isLessThanOrEqualTo(MIB + 20L * 75 * messageBytes);
        for (WsTestClient reader : readers) {
            for (int i = 0; i < phases * perPhase; i++) assertThat(reader.takeText()).startsWith("m" + i + " ");
        }
        System.out.printf("drop-oldest: the late client missed %d of %d broadcasts in %d gaps; most queued %d bytes%n",
                gaps.missed, phases * perPhase, gaps.count, mostQueued);
    }

    /** Reads {@code m<i> ...} messages and {@code {"squall":"dropped","count":N}} notices, checking each gap's size. */
    private static final class GapCheck {
        int last = -1, missed, count;
        Integer notice;

        void readThrough(RawWsClient client, int target) throws Exception {
            while (last < target) {
                RawWsClient.Frame frame = client.read(WsTestClient.DEADLINE);
                if (frame.opcode() == RawWsClient.PING) continue;
                String text = frame.text();
                if (text.startsWith("{")) {
                    assertThat(notice).as("two notices in a row").isNull();
                    assertThat(text).matches("\\{\"squall\":\"dropped\",\"count\":[1-9][0-9]*}");
                    notice = Integer.valueOf(text.replaceAll("\\D", ""));
                    continue;
                }
                int index = Integer.parseInt(text.substring(1, text.indexOf(' ')));
                assertThat(index - last - 1).as("messages missing before m%d", index).isEqualTo(notice == null ? 0 : notice);
                if (notice != null) {
                    missed += notice;
                    count++;
                }
                notice = null;
                last = index;
            }
        }
    }

    @Test
    void a_close_storm_during_a_publish_storm_leaves_the_hub_empty_and_the_metrics_consistent() throws Exception {
        server = TestServer.start(TestServer.config().build());
        List<WsTestClient> jdk = connect(100);
        List<RawWsClient> raw = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            RawWsClient client = RawWsClient.connect(server.port());
            rawClients.add(client);
            raw.add(client);
        }
        Await.until("hub size", Duration.ofSeconds(10), () -> server.hub().size(), 200);

        List<Callable<Void>> closers = new ArrayList<>();
        for (int i = 0; i < jdk.size(); i++) {
            WsTestClient client = jdk.get(i);
            closers.add(() -> { client.close(); return null; });           // close frame, then gone
        }
        for (int i = 0; i < raw.size(); i++) {
            RawWsClient client = raw.get(i);
            boolean clean = i % 2 == 0;
            closers.add(() -> {
                if (clean) client.sendFrame(RawWsClient.CLOSE, new byte[]{0x03, (byte) 0xE8});
                client.close();                                          // clean or not, the socket goes
                return null;
            });
        }
        Collections.shuffle(closers, new Random(42));

        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> publishing = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int publisher = p;
            publishing.add(pool.submit((Callable<Void>) () -> {
                go.await();
                for (int i = 0; i < 500; i++) {
                    if (publisher == 0 && i % 5 == 0) {
                        assertThat(server.get("/receive?msg=storm-" + i).statusCode()).isEqualTo(200);
                    } else {
                        server.app.plugin().squall().broadcast("p" + publisher + " " + i);
                    }
                }
                return null;
            }));
        }
        Future<?> closing = pool.submit((Callable<Void>) () -> {
            go.await();
            for (Callable<Void> closer : closers) closer.call();
            return null;
        });
        go.countDown();
        closing.get(30, TimeUnit.SECONDS);
        for (Future<?> publisher : publishing) publisher.get(30, TimeUnit.SECONDS);   // rethrows any publisher failure

        Await.until("hub size", Duration.ofSeconds(15), () -> server.hub().size(), 0);
        Await.until("disconnects (all codes) = connects", Duration.ofSeconds(10),
                () -> server.metricsMatching("squall_disconnects_total").stream().mapToDouble(Double::doubleValue).sum()
                        == server.metric("squall_connects_total"));
        assertThat(server.metric("squall_connects_total")).isEqualTo(200.0);
        assertThat(server.metric("squall_connections")).isZero();
        assertThat(server.hub().queuedBytes()).isZero();
        assertThat(server.get("/receive?msg=anyone").body()).isEqualTo("{\"delivered\":0}");
    }

    /** Opens {@code count} clients in parallel through the shared HttpClient, each past its Welcome. */
    private List<WsTestClient> connect(int count) throws Exception {
        List<Future<WsTestClient>> opening = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            opening.add(pool.submit(() -> {
                WsTestClient client = WsTestClient.connect(http, server.ws(), Map.of());
                clients.add(client);
                assertThat(client.takeText()).isEqualTo("Welcome");
                return client;
            }));
        }
        List<WsTestClient> opened = new ArrayList<>();
        for (Future<WsTestClient> future : opening) opened.add(future.get(30, TimeUnit.SECONDS));
        Await.until("open and subscribed", Duration.ofSeconds(10), () -> server.hub().openCount(), count);
        return opened;
    }

    private static void assertEachPublishersOrder(List<String> seen, int publishers, int perPublisher) {
        Map<String, Integer> next = new HashMap<>();
        for (String text : seen) {
            String[] parts = text.split(" ");
            int expected = next.getOrDefault(parts[0], 0);
            assertThat(Integer.parseInt(parts[1])).as("%s in %s", parts[0], seen).isEqualTo(expected);
            next.put(parts[0], expected + 1);
        }
        assertThat(next).hasSize(publishers).allSatisfy((publisher, count) -> assertThat(count).isEqualTo(perPublisher));
    }
}
