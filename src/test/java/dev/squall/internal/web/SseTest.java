package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.SlowConsumerPolicy;
import dev.squall.SquallPlugin;
import dev.squall.support.Await;
import dev.squall.support.ContinuousPublisher;
import dev.squall.support.RawHttp;
import dev.squall.support.SseTestClient.Event;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code GET /sse/{channel}}: a channel as Server-Sent Events, read by a real HTTP client line by line. Events carry
 * {@code OFFSET:EPOCH} ids, a reconnect with {@code Last-Event-ID} (or {@code lastEventId}) gets exactly what it
 * missed or {@code recovered: false}, and a stream is a connection like any other: bounded, pinged, guarded, closed
 * on stop.
 */
@Timeout(60)
class SseTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<SseTestClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(SseTestClient::close);
        if (server != null) server.close();
    }

    private SseTestClient connect(String pathAndQuery, Map<String, String> headers) {
        SseTestClient client = SseTestClient.connect(server.http(pathAndQuery), headers);
        clients.add(client);
        return client;
    }

    private SseTestClient connect(String pathAndQuery) {
        return connect(pathAndQuery, Map.of());
    }


    /** The first event of a stream: {@code event: subscribed}, its data as JSON. */
    private static JsonNode subscribed(SseTestClient client) throws Exception {
        Event first = client.take();
        assertThat(first.event()).isEqualTo("subscribed");
        JsonNode data = JSON.readTree(first.data());
        assertThat(first.id()).as("the id is the position the stream starts after")
                .isEqualTo(data.path("offset").asLong() + ":" + data.path("epoch").asText());
        return data;
    }

    @Test
    void a_stream_starts_with_its_position_then_carries_each_publication_with_an_offset_and_epoch_id() throws Exception {
        server = TestServer.start();
        SseTestClient news = connect("/sse/news");
        assertThat(news.status()).isEqualTo(200);
        assertThat(news.header("Content-Type")).startsWith("text/event-stream");
        assertThat(news.header("Cache-Control")).isEqualTo("no-cache");

        Event first = news.take();
        assertThat(first.retry()).as("the reconnect delay comes first").isEqualTo(3000);
        assertThat(first.event()).isEqualTo("subscribed");
        JsonNode start = JSON.readTree(first.data());
        assertThat(start.path("channel").asText()).isEqualTo("news");
        assertThat(start.path("offset").asLong()).isZero();
        String epoch = start.path("epoch").asText();
        assertThat(epoch).isNotEmpty();
        assertThat(start.has("recovered")).as("only a recovery says whether it recovered").isFalse();
        assertThat(start.has("squall")).as("no reserved key: the event type says what it is").isFalse();
        assertThat(first.id()).isEqualTo("0:" + epoch);

        server.publish("news", "\"hello\"");
        Event hello = news.take();
        assertThat(hello.event()).isEqualTo("message");
        assertThat(hello.id()).isEqualTo("1:" + epoch);
        assertThat(hello.data()).as("as a plain client gets it").isEqualTo("hello");

        server.publish("news", "{\"score\": [1, 2]}");
        assertThat(news.take().data()).isEqualTo("{\"score\":[1,2]}");
    }

    @Test
    void text_with_line_breaks_arrives_whole_and_binary_arrives_as_base64() throws Exception {
        server = TestServer.start();
        SseTestClient log = connect("/sse/log");
        subscribed(log);

        server.publish("log", "\"first line\\nsecond line\\n\\nafter a blank line\\r\\nlast\"");
        assertThat(log.take().data()).as("a line break survives; CRLF comes back as LF, as SSE cannot carry CR")
                .isEqualTo("first line\nsecond line\n\nafter a blank line\nlast");
        server.publish("log", "\"\"");
        assertThat(log.take().data()).as("an empty text is an event too").isEmpty();
        server.publish("log", "\"data: forged\\n\\nevent: subscribed\"");
        Event tricky = log.take();
        assertThat(tricky.event()).as("a text cannot end its event or name another").isEqualTo("message");
        assertThat(tricky.data()).isEqualTo("data: forged\n\nevent: subscribed");

        server.post("/receive?channel=log", "application/octet-stream", new byte[]{0, 1, 2, (byte) 0xff});
        Event binary = log.take();
        assertThat(binary.event()).isEqualTo("binary");
        assertThat(binary.id()).startsWith("4:");
        assertThat(binary.data()).isEqualTo("AAEC/w==");
    }

    @Test
    void each_stream_gets_only_its_own_channel() throws Exception {
        server = TestServer.start();
        SseTestClient news = connect("/sse/news");
        SseTestClient sport = connect("/sse/sport");
        subscribed(news);
        subscribed(sport);

        server.publish("sport", "\"goal\"");
        server.get("/receive?msg=everyone");
        server.publish("news", "\"sentinel\"");
        assertThat(news.take().data()).as("nothing of sport's or the broadcast came first").isEqualTo("sentinel");
        assertThat(sport.take().data()).isEqualTo("goal");
        server.publish("sport", "\"sentinel\"");
        assertThat(sport.take().data()).isEqualTo("sentinel");
    }

    @Test
    void a_reconnect_with_last_event_id_gets_exactly_what_it_missed_then_the_live_stream() throws Exception {
        server = TestServer.start();
        SseTestClient first = connect("/sse/room");
        subscribed(first);
        server.publish("room", "\"one\"");
        Event one = first.take();
        first.close();

        server.publish("room", "\"two\"");
        server.publish("room", "\"three\"");
        SseTestClient again = connect("/sse/room", Map.of("Last-Event-ID", one.id()));
        JsonNode resumed = subscribed(again);
        assertThat(resumed.path("recovered").asBoolean()).isTrue();
        assertThat(resumed.path("offset").asLong()).isEqualTo(1);
        assertThat(again.take().data()).isEqualTo("two");
        assertThat(again.take().data()).isEqualTo("three");
        server.publish("room", "\"four\"");
        assertThat(again.take().data()).isEqualTo("four");
    }

    @Test
    void a_first_connection_recovers_from_the_last_event_id_query_parameter_and_the_header_wins_over_it() throws Exception {
        server = TestServer.start();
        SseTestClient probe = connect("/sse/feed");
        String epoch = subscribed(probe).path("epoch").asText();
        for (int i = 1; i <= 4; i++) server.publish("feed", "\"m" + i + "\"");

        SseTestClient page = connect("/sse/feed?lastEventId=2:" + epoch);
        assertThat(subscribed(page).path("recovered").asBoolean()).isTrue();
        assertThat(List.of(page.take().data(), page.take().data())).containsExactly("m3", "m4");

        SseTestClient bare = connect("/sse/feed?lastEventId=3");
        assertThat(subscribed(bare).path("recovered").asBoolean()).as("a bare offset, no epoch check").isTrue();
        assertThat(bare.take().data()).isEqualTo("m4");

        // An EventSource reconnects to the same URL, query and all, with the header: the header is newer.
        SseTestClient reconnected = connect("/sse/feed?lastEventId=1:" + epoch, Map.of("Last-Event-ID", "3:" + epoch));
        assertThat(subscribed(reconnected).path("offset").asLong()).isEqualTo(3);
        assertThat(reconnected.take().data()).isEqualTo("m4");

        SseTestClient latest = connect("/sse/feed?since=latest");
        assertThat(subscribed(latest).path("offset").asLong()).as("since=latest as on /ws/{channel}").isEqualTo(3);
        assertThat(latest.take().data()).isEqualTo("m4");
        SseTestClient since = connect("/sse/feed?since=3&epoch=" + epoch);
        assertThat(subscribed(since).path("recovered").asBoolean()).isTrue();
        assertThat(since.take().data()).isEqualTo("m4");
    }

    @Test
    void a_reconnect_before_any_publication_recovers_from_the_subscribed_events_id() throws Exception {
        server = TestServer.start();
        // Another page listens, so the channel is remembered: one left with neither subscribers nor history is
        // forgotten (README, Channels), and its closed stream now leaves at once, before the publish below.
        subscribed(connect("/sse/quiet"));
        SseTestClient first = connect("/sse/quiet");
        Event start = first.take();
        first.close();
        Await.until("the closed stream has left", Duration.ofSeconds(5), () -> server.hub().subscribers("quiet"), 1);
        server.publish("quiet", "\"while away\"");

        SseTestClient again = connect("/sse/quiet", Map.of("Last-Event-ID", start.id()));
        assertThat(subscribed(again).path("recovered").asBoolean()).isTrue();
        assertThat(again.take().data()).isEqualTo("while away");
    }

    @Test
    void an_id_from_before_a_restart_or_beyond_history_is_told_it_was_not_recovered() throws Exception {
        server = TestServer.start(TestServer.config().historySize(3).build());
        SseTestClient before = connect("/sse/feed");
        subscribed(before);
        for (int i = 1; i <= 5; i++) server.publish("feed", "\"m" + i + "\"");
        String lastIdBeforeRestart = null;
        for (int i = 1; i <= 5; i++) lastIdBeforeRestart = before.take().id();
        String epoch = lastIdBeforeRestart.substring(lastIdBeforeRestart.indexOf(':') + 1);

        SseTestClient beyond = connect("/sse/feed", Map.of("Last-Event-ID", "1:" + epoch));
        JsonNode gap = subscribed(beyond);
        assertThat(gap.path("recovered").asBoolean()).as("m2 is no longer in history").isFalse();
        assertThat(gap.path("offset").asLong()).as("it goes on from the newest").isEqualTo(5);

        server.close();
        clients.forEach(SseTestClient::close);
        server = TestServer.start();                                   // a new node: new streams, new epochs
        server.publish("feed", "\"after restart 1\"");
        server.publish("feed", "\"after restart 2\"");
        SseTestClient reconnected = connect("/sse/feed", Map.of("Last-Event-ID", "1:" + epoch));
        JsonNode restarted = subscribed(reconnected);
        assertThat(restarted.path("recovered").asBoolean())
                .as("offset 1 of the new stream is not what the client had: the epoch says so").isFalse();
        assertThat(restarted.path("offset").asLong()).isEqualTo(2);
        assertThat(restarted.path("epoch").asText()).isNotEqualTo(epoch);
        server.publish("feed", "\"live\"");
        assertThat(reconnected.take().data()).as("nothing replayed, then live").isEqualTo("live");
    }

    @Test
    void a_malformed_last_event_id_header_still_gets_a_stream_told_it_was_not_recovered() throws Exception {
        server = TestServer.start();
        server.publish("feed", "\"old\"");
        for (String id : List.of("not-an-id", "-1", "1:2:3", "99999999999999999999", "x".repeat(500))) {
            SseTestClient client = connect("/sse/feed", Map.of("Last-Event-ID", id));
            assertThat(client.status()).as("an EventSource gives up on anything but 200: " + id).isEqualTo(200);
            JsonNode start = subscribed(client);
            assertThat(start.path("recovered").asBoolean()).isFalse();
            assertThat(start.path("offset").asLong()).isEqualTo(1);
        }
        SseTestClient live = clients.get(clients.size() - 1);
        server.publish("feed", "\"new\"");
        assertThat(live.take().data()).isEqualTo("new");
    }

    @Test
    void a_malformed_query_parameter_or_channel_name_is_a_400_that_names_the_rule() throws Exception {
        server = TestServer.start();
        Map<String, String> refused = Map.of(
                "/sse/feed?lastEventId=abc", "lastEventId must be",
                "/sse/feed?lastEventId=", "lastEventId must be",
                "/sse/feed?since=soon", "since must be",
                "/sse/feed?epoch=e1", "epoch goes with since",
                "/sse/feed?lastEventId=1&since=1", "send one of them",
                "/sse/bad%20name", "channel",
                "/sse/" + "c".repeat(300), "channel");
        for (Map.Entry<String, String> each : refused.entrySet()) {
            SseTestClient client = connect(each.getKey());
            assertThat(client.status()).as(each.getKey()).isEqualTo(400);
            assertThat(client.header("Content-Type")).startsWith("application/json");
            assertThat(JSON.readTree(client.body()).path("error").asText()).as(each.getKey()).contains(each.getValue());
        }
        Await.until("no stream left open by a refusal", Duration.ofSeconds(5), () -> server.hub().size(), 0);
    }

    @Test
    void a_page_from_a_foreign_origin_is_refused_and_an_allowed_one_gets_cors_headers() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("https://app.example")).build());
        SseTestClient foreign = connect("/sse/news", Map.of("Origin", "https://evil.example"));
        assertThat(foreign.status()).isEqualTo(403);
        assertThat(JSON.readTree(foreign.body()).path("error").asText()).contains("origin https://evil.example is not allowed");

        SseTestClient allowed = connect("/sse/news", Map.of("Origin", "https://app.example"));
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
        subscribed(allowed);
        SseTestClient self = connect("/sse/news", Map.of("Origin", "http://localhost:" + server.port()));
        assertThat(self.status()).as("the page's own origin").isEqualTo(200);

        RawHttp rebinding = RawHttp.get(server.port(), "/sse/news", Map.of("Host", "attacker.example"));
        assertThat(rebinding.status()).as("a Host that is not this server's (DNS rebinding)").isEqualTo(403);
    }

    @Test
    void a_plain_get_without_accept_gets_the_stream_too() throws Exception {
        server = TestServer.start();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /sse/news HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String head = readUntil(socket.getInputStream(), "event: subscribed");
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-Type: text/event-stream");
        }
    }

    @Test
    void head_opens_no_stream_and_other_methods_are_405() throws Exception {
        server = TestServer.start();
        RawHttp head = RawHttp.request(server.port(), "HEAD", "/sse/news", Map.of(), new byte[0]);
        assertThat(head.status()).as("Javalin answers HEAD itself where there is a GET, without running it").isEqualTo(200);
        RawHttp post = RawHttp.request(server.port(), "POST", "/sse/news", Map.of(), "x".getBytes(StandardCharsets.UTF_8));
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        assertThat(server.hub().size()).as("no connection behind either").isZero();
        assertThat(server.metric("squall_connects_total")).isZero();
    }

    /** Reads up to and including {@code marker} (and perhaps a little past it, into its buffer). */
    private static String readUntil(InputStream raw, String marker) throws Exception {
        InputStream in = new java.io.BufferedInputStream(raw);
        StringBuilder seen = new StringBuilder();
        while (seen.length() < marker.length() || !seen.substring(seen.length() - marker.length()).equals(marker)) {
            int b = in.read();
            if (b < 0) throw new AssertionError("the stream ended before '" + marker + "' after " + seen.length() + " bytes");
            seen.append((char) b);
        }
        return seen.toString();
    }

    @Test
    void heartbeat_comments_arrive_at_the_ping_interval_and_keep_a_reading_client_open() throws Exception {
        server = TestServer.start(TestServer.config().pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(500)).build());
        SseTestClient client = connect("/sse/news");
        subscribed(client);
        for (int i = 0; i < 5; i++) assertThat(client.takeComment(Duration.ofSeconds(3))).isEqualTo("ping");
        assertThat(client.ended()).as("a client that reads is alive: nothing ever arrives from it, and it is not dropped").isFalse();
        assertThat(server.metric("squall_dead_peers_total")).isZero();
        server.publish("news", "\"still here\"");
        assertThat(client.take().data()).isEqualTo("still here");
    }

    @Test
    void a_client_that_closes_or_resets_its_connection_leaves_at_once_not_at_the_next_ping() throws Exception {
        // A ping a minute: the server used to learn of a close only when a write failed, a ping or a publication later.
        server = TestServer.start(TestServer.config().pingInterval(Duration.ofSeconds(60)).build());
        Duration promptly = Duration.ofSeconds(3);
        Map<String, ThrowingConsumer<Socket>> departures = new java.util.LinkedHashMap<>();
        departures.put("closes its connection (FIN)", Socket::close);
        departures.put("is killed (RST)", socket -> {
            socket.setSoLinger(true, 0);
            socket.close();
        });
        departures.put("shuts its side down (FIN, still open to read)", Socket::shutdownOutput);
        int gone = 0;
        for (Map.Entry<String, ThrowingConsumer<Socket>> departure : departures.entrySet()) {
            String how = departure.getKey();
            try (Socket socket = rawStream("/sse/quiet")) {
                assertThat(server.hub().subscribers("quiet")).as(how).isEqualTo(1);
                departure.getValue().accept(socket);
                Await.until("a client that " + how + " unsubscribed", promptly, () -> server.hub().subscribers("quiet"), 0);
            }
            gone++;
            assertThat(server.metric("squall_sse_streams")).as(how + ": already counted out when the hub let go").isZero();
            assertThat(server.metric("squall_connections")).as(how).isZero();
            assertThat(server.publish("quiet", "\"anyone?\"").path("delivered").asInt()).as(how + ": delivered to nobody").isZero();
            assertThat(JSON.readTree(server.get("/channels/quiet").body()).path("subscribers").asInt()).as(how + ": presence").isZero();
            assertThat(server.metric("squall_disconnects_total{code=\"1006\"}")).as(how + ": counted as a client that went away")
                    .isEqualTo(gone);
        }

        SseTestClient eventSource = connect("/sse/quiet");
        subscribed(eventSource);
        eventSource.close();
        Await.until("a closed EventSource unsubscribed", promptly, () -> server.hub().subscribers("quiet"), 0);
        assertThat(server.metric("squall_sse_streams")).isZero();
    }

    @Test
    void a_client_that_goes_away_as_its_stream_starts_leaves_too() throws Exception {
        server = TestServer.start(TestServer.config().pingInterval(Duration.ofSeconds(60)).build());
        for (int i = 0; i < 20; i++) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(("GET /sse/hasty HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                // The first byte of the answer: the stream is open, and its request may still be in its dispatch.
                assertThat(socket.getInputStream().read()).isEqualTo('H');
                if (i % 2 == 0) socket.setSoLinger(true, 0);
            }
        }
        Await.until("every stream has left", Duration.ofSeconds(5),
                () -> server.metric("squall_connects_total") == 20 && server.hub().size() == 0);
        assertThat(server.metric("squall_sse_streams")).isZero();
        assertThat(server.hub().subscribers("hasty")).isZero();
        SseTestClient after = connect("/sse/hasty");
        subscribed(after);
        assertThat(server.publish("hasty", "\"still serving\"").path("delivered").asInt()).isEqualTo(1);
        assertThat(after.take().data()).isEqualTo("still serving");
    }

    /** A stream on a bare socket, read up to the end of its first event: its client can close or reset at will. */
    private Socket rawStream(String pathAndQuery) throws Exception {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: localhost:" + server.port()
                + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        readUntil(socket.getInputStream(), "event: subscribed");
        return socket;
    }

    @FunctionalInterface
    private interface ThrowingConsumer<T> {
        void accept(T value) throws Exception;
    }

    @Test
    void a_client_that_never_reads_is_closed_as_a_slow_consumer_and_the_others_get_everything() throws Exception {
        server = TestServer.start(TestServer.config().maxQueueBytes(64 * 1024).maxMessageBytes(16 * 1024).maxPublishBytes(16 * 1024L)
                .writeTimeout(Duration.ofSeconds(30)).build());
        SseTestClient reader = connect("/sse/flood");
        subscribed(reader);
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            OutputStream out = stalled.getOutputStream();
            out.write(("GET /sse/flood HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nAccept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            Await.until("both streams subscribed", Duration.ofSeconds(5), () -> server.hub().subscribers("flood"), 2);

            String big = "\"" + "x".repeat(8000) + "\"";
            long maxQueued = 0;
            int published = 0;
            while (server.metric("squall_slow_consumers_total") == 0 && published < 2000) {
                server.publish("flood", big);
                published++;
                maxQueued = Math.max(maxQueued, server.hub().queuedBytes());
                Event event = reader.take();
                assertThat(event.id()).startsWith(published + ":");
            }
            assertThat(server.metric("squall_slow_consumers_total")).as("closed as a slow consumer").isEqualTo(1);
            assertThat(maxQueued).as("what the server holds for it stays within the bound (plus one reader's event)")
                    .isLessThanOrEqualTo(64 * 1024 + 9000);
            Await.until("the stalled stream has left", Duration.ofSeconds(5), () -> server.hub().subscribers("flood"), 1);
            Await.until("no SSE stream but the reader's", Duration.ofSeconds(5), () -> server.metric("squall_sse_streams"), 1.0);
            assertThat(readsToTheEnd(stalled, Duration.ofSeconds(20))).as("its connection was cut, not left open").isTrue();
        }
        server.publish("flood", "\"after\"");
        assertThat(reader.take().data()).as("the reader was unaffected").isEqualTo("after");
    }

    /** Reads (and discards) until the server closes the connection; false if it is still open at the deadline. */
    private static boolean readsToTheEnd(Socket socket, Duration deadline) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        socket.setSoTimeout(500);
        byte[] buffer = new byte[64 * 1024];
        while (System.nanoTime() < end) {
            try {
                if (socket.getInputStream().read(buffer) < 0) return true;
            } catch (java.net.SocketTimeoutException quiet) {
                // Nothing yet: look again until the deadline.
            } catch (java.io.IOException reset) {
                return true;
            }
        }
        return false;
    }

    @Test
    void with_drop_oldest_a_client_that_never_reads_is_dropped_by_the_write_timeout() throws Exception {
        server = TestServer.start(TestServer.config().slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST)
                .maxQueueBytes(64 * 1024).maxMessageBytes(16 * 1024).maxPublishBytes(16 * 1024L)
                .pingInterval(Duration.ZERO).writeTimeout(Duration.ofMillis(500)).build());
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            stalled.getOutputStream().write(("GET /sse/flood HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            Await.until("the stream subscribed", Duration.ofSeconds(5), () -> server.hub().subscribers("flood"), 1);
            String big = "\"" + "y".repeat(8000) + "\"";
            for (int i = 0; i < 3000 && server.metric("squall_stalled_peers_total") == 0; i++) {
                server.publish("flood", big);
                assertThat(server.hub().queuedBytes()).as("drop-oldest keeps it within the bound").isLessThanOrEqualTo(64 * 1024 + 8100);
            }
            Await.until("dropped as stalled", Duration.ofSeconds(10), () -> server.metric("squall_stalled_peers_total"), 1.0);
            Await.until("gone from the hub", Duration.ofSeconds(5), () -> server.hub().size(), 0);
            assertThat(server.metric("squall_dropped_messages_total")).as("the oldest made room first").isPositive();
            assertThat(readsToTheEnd(stalled, Duration.ofSeconds(20))).as("its connection was cut").isTrue();
        }
    }

    @Test
    void with_drop_oldest_a_reader_that_falls_behind_is_told_how_many_events_it_lost_and_the_ids_say_the_same() throws Exception {
        server = TestServer.start(TestServer.config().slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST)
                .maxQueueBytes(64 * 1024).maxMessageBytes(16 * 1024).maxPublishBytes(16 * 1024L)
                .pingInterval(Duration.ZERO).writeTimeout(Duration.ZERO).build());
        try (Socket late = new Socket()) {
            late.setReceiveBufferSize(4096);
            late.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            late.setSoTimeout(10_000);
            late.getOutputStream().write(("GET /sse/prices HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            Await.until("the stream subscribed", Duration.ofSeconds(5), () -> server.hub().subscribers("prices"), 1);
            String big = "\"" + "p".repeat(8000) + "\"";
            int published = 0;
            while (server.metric("squall_dropped_messages_total") == 0 && published < 3000) {
                server.publish("prices", big);
                published++;
            }
            server.publish("prices", "\"last\"");
            published++;
            String stream = readUntil(late.getInputStream(), "data: last\n");

            java.util.regex.Matcher each = java.util.regex.Pattern
                    .compile("id: (\\d+):|event: dropped\ndata: \\{\"count\":(\\d+)}").matcher(stream);
            long expected = 0;                                         // the subscribed event's id: the start
            int notices = 0;
            while (each.find()) {
                if (each.group(2) != null) {
                    expected += Long.parseLong(each.group(2));
                    notices++;
                } else {
                    assertThat(Long.parseLong(each.group(1))).as("the next id after what was lost").isEqualTo(expected);
                    expected++;
                }
            }
            assertThat(notices).as("at least one dropped event").isPositive();
            assertThat(expected - 1).as("every offset accounted for, received or reported lost").isEqualTo(published);
        }
    }

    @Test
    void an_sse_path_without_a_channel_parameter_is_refused_at_create() {
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> cfg.ssePath = "/events"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SquallPlugin.Config.ssePath must have the path parameter {channel}");
        assertThatThrownBy(() -> Javalin.create(config -> config.registerPlugin(new SquallPlugin(cfg -> {
                    cfg.ssePath = "/x/{channel}";
                    cfg.channelsPath = "/x/{channel}";
                }))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already one of Squall's routes");
    }

    @Test
    void streams_end_when_the_server_stops() throws Exception {
        server = TestServer.start();
        SseTestClient client = connect("/sse/news");
        subscribed(client);
        assertThat(server.metric("squall_sse_streams")).isEqualTo(1.0);
        assertThat(server.metric("squall_connections")).as("a stream is a connection").isEqualTo(1.0);
        server.close();
        assertThat(client.awaitEnd(Duration.ofSeconds(10))).as("the stream ended; an EventSource reconnects").isTrue();
        server = null;
    }

    @Test
    void a_client_reconnecting_dozens_of_times_under_continuous_publishing_misses_nothing_and_sees_nothing_twice() throws Exception {
        server = TestServer.start(TestServer.config().historySize(100_000).maxRecovery(100_000).build());
        SseTestClient client = connect("/sse/load");
        Event start = client.take();
        long startedAfter = JSON.readTree(start.data()).path("offset").asLong();
        String lastId = start.id();
        ContinuousPublisher publisher = ContinuousPublisher.start(server, "load");
        List<String> received = new ArrayList<>();
        long offset = startedAfter;
        for (int reconnect = 0; reconnect < 40; reconnect++) {
            int take = ThreadLocalRandom.current().nextInt(1, 30);
            for (int i = 0; i < take; i++) {
                Event event = client.take();
                received.add(event.data());
                lastId = event.id();
                offset++;
            }
            client.close();                                             // the network blips; EventSource reconnects
            client = connect("/sse/load", Map.of("Last-Event-ID", lastId));
            JsonNode resumed = subscribed(client);
            assertThat(resumed.path("recovered").asBoolean()).as("reconnect " + reconnect).isTrue();
            assertThat(resumed.path("offset").asLong()).isEqualTo(offset);
        }
        long last = publisher.stop();
        while (offset < last) {
            received.add(client.take().data());
            offset++;
        }

        List<String> expected = publisher.publishedAfter(startedAfter);
        assertThat(received).as("exactly what was published, in order").containsExactlyElementsOf(expected);
        assertThat(expected).hasSizeGreaterThan(40);
        Await.until("closed streams have left the hub", Duration.ofSeconds(10), () -> server.hub().size(), 1);
    }
}
