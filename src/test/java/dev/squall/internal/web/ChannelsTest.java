package dev.squall.internal.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.Published;
import dev.squall.SquallPlugin;
import dev.squall.server.SquallConfig;
import dev.squall.support.Await;
import dev.squall.support.ContinuousPublisher;
import dev.squall.support.RawHttp;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Channels over HTTP and plain WebSockets: {@code /ws/{channel}}, {@code POST /publish}, {@code /receive?channel=},
 * history, and recovery that gives a reconnecting client exactly what it missed or says it cannot.
 */
@Timeout(120)
class ChannelsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
    }

    private WsTestClient connect(String pathAndQuery) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + pathAndQuery));
        clients.add(client);
        return client;
    }


    private static JsonNode notice(WsTestClient client) throws Exception {
        JsonNode notice = JSON.readTree(client.takeText());
        assertThat(notice.path("squall").asText()).isEqualTo("subscribed");
        return notice;
    }

    @Test
    void a_channel_client_learns_its_position_first_and_gets_only_its_channels_messages() throws Exception {
        server = TestServer.start();
        WsTestClient news = connect("/ws/news");
        WsTestClient sport = connect("/ws/sport");
        WsTestClient tutorial = connect("/ws");
        assertThat(tutorial.takeText()).isEqualTo("Welcome");
        JsonNode first = notice(news);
        assertThat(first.path("channel").asText()).isEqualTo("news");
        assertThat(first.path("offset").asLong()).isZero();
        assertThat(first.path("epoch").asText()).isNotEmpty();
        notice(sport);

        JsonNode published = server.publish("news", "\"hello\"");
        assertThat(published.path("channel").asText()).isEqualTo("news");
        assertThat(published.path("offset").asLong()).isEqualTo(1);
        assertThat(published.path("epoch").asText()).isEqualTo(first.path("epoch").asText());
        assertThat(published.path("delivered").asInt()).isEqualTo(1);
        assertThat(news.takeText()).as("a JSON string arrives as its text").isEqualTo("hello");

        server.publish("news", "{\"score\": [1, 2]}");
        assertThat(news.takeText()).as("other JSON as compact JSON text").isEqualTo("{\"score\":[1,2]}");
        HttpResponse<String> viaReceive = server.get("/receive?channel=sport&msg=goal");
        assertThat(JSON.readTree(viaReceive.body()).path("offset").asLong()).isEqualTo(1);
        assertThat(sport.takeText()).isEqualTo("goal");
        assertThat(server.get("/receive?msg=everyone").body()).isEqualTo("{\"delivered\":1}");
        assertThat(tutorial.takeText()).as("the tutorial's channel is its own").isEqualTo("everyone");

        server.publish("news", "\"sentinel\"");
        assertThat(news.takeText()).as("nothing of sport's or the broadcast came first").isEqualTo("sentinel");
        server.publish("sport", "\"sentinel\"");
        assertThat(sport.takeText()).isEqualTo("sentinel");
    }

    @Test
    void on_a_channel_route_the_subscribed_notice_comes_first_then_the_replay_then_what_the_open_handler_sent() throws Exception {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.ws("/rooms/{room}", ws -> {
                ws.channelFrom("room");
                // An app frame is no publication: the app gives it a shape its clients tell apart.
                ws.onOpen(client -> client.send("{\"type\":\"hello\",\"room\":\"" + client.pathParam("room") + "\"}"));
            });
        });
        Javalin app = Javalin.create(config -> config.registerPlugin(plugin)).start("127.0.0.1", 0);
        try {
            Published first = plugin.squall().publish("lobby", "m1");
            plugin.squall().publish("lobby", "m2");
            plugin.squall().publish("lobby", "m3");
            String base = "ws://localhost:" + app.port() + "/rooms/lobby";

            WsTestClient fresh = WsTestClient.connect(URI.create(base));
            clients.add(fresh);
            assertThat(notice(fresh).path("offset").asLong()).as("where the stream stands, before anything the app sends").isEqualTo(3);
            assertThat(fresh.takeText()).isEqualTo("{\"type\":\"hello\",\"room\":\"lobby\"}");

            WsTestClient recovering = WsTestClient.connect(URI.create(base + "?since=1&epoch=" + first.epoch()));
            clients.add(recovering);
            JsonNode notice = notice(recovering);
            assertThat(notice.path("recovered").asBoolean()).isTrue();
            assertThat(notice.path("offset").asLong()).as("the offset the replay starts after").isEqualTo(1);
            assertThat(List.of(recovering.takeText(), recovering.takeText())).as("the replay, in order, right after the notice")
                    .containsExactly("m2", "m3");
            assertThat(recovering.takeText()).isEqualTo("{\"type\":\"hello\",\"room\":\"lobby\"}");
            plugin.squall().publish("lobby", "m4");
            assertThat(recovering.takeText()).isEqualTo("m4");
        } finally {
            app.stop();
        }
    }

    @Test
    void a_client_that_reconnects_with_its_offset_gets_exactly_what_it_missed_then_the_live_stream() throws Exception {
        server = TestServer.start();
        WsTestClient first = connect("/ws/room");
        String epoch = notice(first).path("epoch").asText();
        server.publish("room", "\"one\"");
        assertThat(first.takeText()).isEqualTo("one");
        first.close();

        server.publish("room", "\"two\"");
        server.publish("room", "\"three\"");
        WsTestClient again = connect("/ws/room?since=1&epoch=" + epoch);
        JsonNode resumed = notice(again);
        assertThat(resumed.path("recovered").asBoolean()).isTrue();
        assertThat(resumed.path("offset").asLong()).as("the next message comes after the client's offset").isEqualTo(1);
        assertThat(again.takeText()).isEqualTo("two");
        assertThat(again.takeText()).isEqualTo("three");
        server.publish("room", "\"four\"");
        assertThat(again.takeText()).isEqualTo("four");
    }

    @Test
    void recovery_is_never_partial_a_lost_epoch_or_a_gap_beyond_history_says_recovered_false() throws Exception {
        server = TestServer.start(TestServer.config().historySize(3).build());
        for (int i = 1; i <= 5; i++) server.publish("feed", "\"m" + i + "\"");

        WsTestClient covered = connect("/ws/feed?since=2");
        assertThat(notice(covered).path("recovered").asBoolean()).isTrue();
        assertThat(List.of(covered.takeText(), covered.takeText(), covered.takeText())).containsExactly("m3", "m4", "m5");

        WsTestClient beyond = connect("/ws/feed?since=1");
        JsonNode gap = notice(beyond);
        assertThat(gap.path("recovered").asBoolean()).as("m2 is no longer in history").isFalse();
        assertThat(gap.path("offset").asLong()).as("it goes on from the newest").isEqualTo(5);

        JsonNode otherEpoch = notice(connect("/ws/feed?since=4&epoch=not-this-one"));
        assertThat(otherEpoch.path("recovered").asBoolean()).isFalse();
        JsonNode ahead = notice(connect("/ws/feed?since=99"));
        assertThat(ahead.path("recovered").asBoolean()).as("an offset the channel never had").isFalse();

        server.publish("feed", "\"m6\"");
        assertThat(beyond.takeText()).as("not recovered, then live: nothing replayed").isEqualTo("m6");
        assertThat(covered.takeText()).isEqualTo("m6");
        String metrics = server.get("/metrics").body();
        assertThat(metrics).containsPattern("squall_recoveries_total\\{result=\"recovered\"[^}]*} 1\\.0")
                .containsPattern("squall_recoveries_total\\{result=\"not_recovered\"[^}]*} 3\\.0")
                .containsPattern("(?m)^squall_channels 1\\.0");
    }

    @Test
    void a_namespace_keeps_the_history_its_config_gives_it() throws Exception {
        server = TestServer.start(TestServer.config().historySize(100)
                .namespaces(Map.of("chat", new SquallConfig.Namespace(2, null))).build());
        for (int i = 1; i <= 5; i++) {
            server.publish("chat:room1", "\"c" + i + "\"");
            server.publish("news", "\"n" + i + "\"");
        }
        assertThat(JSON.readTree(server.get("/channels/chat:room1/history").body()).path("publications").size()).isEqualTo(2);
        assertThat(JSON.readTree(server.get("/channels/news/history").body()).path("publications").size()).isEqualTo(5);
        assertThat(JSON.readTree(server.get("/channels/chatter/history").body()).path("publications").size())
                .as("only the namespace before ':' counts").isZero();
    }

    @Test
    void a_replay_larger_than_half_the_clients_queue_is_not_recovered_rather_than_closing_the_client() throws Exception {
        server = TestServer.start(TestServer.config().maxQueueBytes(4096).maxMessageBytes(1024).maxPublishBytes(1024L).build());
        String big = "\"" + "x".repeat(500) + "\"";
        for (int i = 0; i < 10; i++) server.publish("big", big);                  // 5000 bytes missed, the queue holds 4096

        WsTestClient client = connect("/ws/big?since=0");
        JsonNode started = notice(client);
        assertThat(started.path("recovered").asBoolean()).isFalse();
        assertThat(started.path("offset").asLong()).isEqualTo(10);
        server.publish("big", "\"small\"");
        assertThat(client.takeText()).as("still connected, and live").isEqualTo("small");

        WsTestClient fits = connect("/ws/big?since=7");                    // 1500 bytes: within half the queue
        assertThat(notice(fits).path("recovered").asBoolean()).isTrue();
    }

    @Test
    void since_latest_starts_with_the_newest_message() throws Exception {
        server = TestServer.start();
        server.publish("price", "{\"eur\": 1.07}");
        server.publish("price", "{\"eur\": 1.08}");

        WsTestClient dashboard = connect("/ws/price?since=latest");
        assertThat(notice(dashboard).path("offset").asLong()).isEqualTo(1);
        assertThat(dashboard.takeText()).isEqualTo("{\"eur\":1.08}");
    }

    @Test
    void a_client_reconnecting_dozens_of_times_under_continuous_publishing_misses_nothing_and_sees_nothing_twice() throws Exception {
        server = TestServer.start(TestServer.config().historySize(100_000).maxRecovery(100_000).build());
        WsTestClient client = connect("/ws/load");
        JsonNode start = notice(client);
        long startedAfter = start.path("offset").asLong();
        String epoch = start.path("epoch").asText();
        ContinuousPublisher publisher = ContinuousPublisher.start(server, "load");
        List<String> received = new ArrayList<>();
        long offset = startedAfter;
        for (int reconnect = 0; reconnect < 40; reconnect++) {
            int take = ThreadLocalRandom.current().nextInt(1, 30);
            for (int i = 0; i < take; i++) {
                received.add(client.takeText());
                offset++;
            }
            client.close();                                             // the network blips
            client = connect("/ws/load?since=" + offset + "&epoch=" + epoch);
            JsonNode resumed = notice(client);
            assertThat(resumed.path("recovered").asBoolean()).as("reconnect " + reconnect).isTrue();
            assertThat(resumed.path("offset").asLong()).isEqualTo(offset);
        }
        long last = publisher.stop();
        while (offset < last) {
            received.add(client.takeText());
            offset++;
        }

        List<String> expected = publisher.publishedAfter(startedAfter);
        assertThat(received).as("exactly what was published, in order").containsExactlyElementsOf(expected);
        assertThat(expected).hasSizeGreaterThan(40);
    }

    @Test
    void a_retried_publish_with_the_same_idempotency_key_is_delivered_once_and_answers_the_first_offset() throws Exception {
        server = TestServer.start();
        WsTestClient client = connect("/ws/orders");
        notice(client);
        byte[] body = "{\"channel\":\"orders\",\"data\":\"paid\",\"idempotency_key\":\"order-42\"}".getBytes(StandardCharsets.UTF_8);

        JsonNode first = JSON.readTree(server.post("/publish", "application/json", body).body());
        JsonNode retry = JSON.readTree(server.post("/publish", "application/json", body).body());

        assertThat(retry.path("offset").asLong()).isEqualTo(first.path("offset").asLong());
        assertThat(retry.path("duplicate").asBoolean()).isTrue();
        assertThat(retry.path("delivered").asInt()).isZero();
        server.publish("orders", "\"next\"");
        assertThat(client.takeText()).isEqualTo("paid");
        assertThat(client.takeText()).as("the retry was not delivered").isEqualTo("next");
    }

    @Test
    void history_lists_what_came_after_an_offset_with_the_position() throws Exception {
        server = TestServer.start();
        server.publish("log", "\"a\"");
        server.publish("log", "{\"b\": true}");
        server.post("/receive?channel=log", "application/octet-stream", new byte[]{1, 2, 3});

        JsonNode all = JSON.readTree(server.get("/channels/log/history").body());
        assertThat(all.path("channel").asText()).isEqualTo("log");
        assertThat(all.path("offset").asLong()).isEqualTo(3);
        assertThat(all.path("epoch").asText()).isNotEmpty();
        assertThat(all.path("publications").toString()).isEqualTo(
                "[{\"offset\":1,\"data\":\"a\"},{\"offset\":2,\"data\":{\"b\":true}},{\"offset\":3,\"data\":\"AQID\",\"encoding\":\"base64\"}]");
        JsonNode page = JSON.readTree(server.get("/channels/log/history?since=1&limit=1").body());
        assertThat(page.path("publications").toString()).isEqualTo("[{\"offset\":2,\"data\":{\"b\":true}}]");
        JsonNode unknown = JSON.readTree(server.get("/channels/nobody-here/history").body());
        assertThat(unknown.path("offset").asLong()).isZero();
        assertThat(unknown.path("epoch").asText()).as("a channel without a stream gets one").isNotEmpty();
        assertThat(unknown.path("publications").size()).isZero();
    }

    @Test
    void the_position_a_read_of_a_channel_without_a_stream_answers_is_one_a_client_recovers_from() throws Exception {
        server = TestServer.start();
        JsonNode read = JSON.readTree(server.get("/channels/fresh").body());
        String epoch = read.path("epoch").asText();
        assertThat(epoch).isNotEmpty();
        server.publish("fresh", "\"first\"");

        WsTestClient client = connect("/ws/fresh?since=0&epoch=" + epoch);
        JsonNode subscribed = JSON.readTree(client.takeText());
        assertThat(subscribed.path("recovered").asBoolean()).as(subscribed.toString()).isTrue();
        assertThat(subscribed.path("epoch").asText()).isEqualTo(epoch);
        assertThat(client.takeText()).isEqualTo("first");
    }

    @Test
    void presence_counts_follow_subscribers_through_churn() throws Exception {
        server = TestServer.start();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        List<WsTestClient> lobby = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            List<java.util.concurrent.CompletableFuture<WsTestClient>> opening = new ArrayList<>();
            for (int i = 0; i < 20; i++) opening.add(WsTestClient.connectAsync(http, URI.create("ws://localhost:" + server.port() + "/ws/lobby")));
            for (java.util.concurrent.CompletableFuture<WsTestClient> each : opening) lobby.add(each.join());
            for (int i = 0; i < 10; i++) lobby.remove(0).close();          // half of them leave again, abruptly
        }
        clients.addAll(lobby);
        WsTestClient kitchen = connect("/ws/kitchen");
        notice(kitchen);
        server.publish("lobby", "\"hi\"");

        dev.squall.support.Await.until("the lobby count to settle at 50", Duration.ofSeconds(10),
                () -> lobbyCount() == 50);
        JsonNode list = JSON.readTree(server.get("/channels").body());
        assertThat(list.path("channels").toString())
                .isEqualTo("[{\"channel\":\"kitchen\",\"subscribers\":1},{\"channel\":\"lobby\",\"subscribers\":50}]");
        assertThat(list.path("more").asBoolean()).isFalse();
        JsonNode lobbyInfo = JSON.readTree(server.get("/channels/lobby").body());
        assertThat(lobbyInfo.path("subscribers").asInt()).isEqualTo(50);
        assertThat(lobbyInfo.path("users").asInt()).as("anonymous clients are no user").isZero();
        assertThat(lobbyInfo.path("offset").asLong()).isEqualTo(1);
        assertThat(JSON.readTree(server.get("/channels?limit=1").body()).path("more").asBoolean()).isTrue();

        kitchen.close();
        dev.squall.support.Await.until("the kitchen to be gone", Duration.ofSeconds(10),
                () -> !server.getQuietly("/channels").contains("kitchen"));
        RawHttp crossSite = RawHttp.get(server.port(), "/channels", Map.of("Sec-Fetch-Site", "cross-site"));
        assertThat(crossSite.status()).as("the publish policy guards the server's view").isEqualTo(403);
    }

    private int lobbyCount() {
        try {
            return JSON.readTree(server.get("/channels/lobby").body()).path("subscribers").asInt();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void bad_channel_names_and_parameters_are_refused_with_what_is_allowed() throws Exception {
        server = TestServer.start();
        RawHttp badName = RawHttp.get(server.port(), "/ws/has%20space", upgrade());
        assertThat(badName.status()).as("before the upgrade").isEqualTo(400);
        assertThat(badName.body()).contains("has a space").contains("letters, digits and - _ . : @ = ,");
        assertThat(RawHttp.get(server.port(), "/ws/" + "x".repeat(256), upgrade()).body()).contains("at most 255 characters");
        assertThat(RawHttp.get(server.port(), "/ws/ok?since=abc", upgrade()).body())
                .contains("since must be an offset (a whole number from 0) or 'latest', got 'abc'");
        assertThat(RawHttp.get(server.port(), "/ws/ok?since=-1", upgrade()).status()).isEqualTo(400);
        assertThat(RawHttp.get(server.port(), "/ws/ok?epoch=e1", upgrade()).body()).contains("epoch goes with since");

        assertRefused(server.post("/publish", "application/json", "{\"channel\":\"a b\",\"data\":1}".getBytes()), 400, "has a space");
        assertRefused(server.post("/publish", "application/json", "{\"channel\":\"a\"}".getBytes()), 400, "data is missing");
        assertRefused(server.post("/publish", "application/json", "{\"data\":1}".getBytes()), 400, "channel is missing");
        assertRefused(server.post("/publish", "application/json", "{\"channel\":\"a\",\"data\":1,\"chanel\":\"b\"}".getBytes()), 400,
                "unknown field 'chanel'");
        assertRefused(server.post("/publish", "application/json", "[1]".getBytes()), 400, "must be a JSON object");
        assertRefused(server.post("/publish", "application/json", "{\"channel\":".getBytes()), 400, "not valid JSON");
        assertRefused(server.post("/publish", "application/json", new byte[0]), 400, "the body is empty");
        assertRefused(server.post("/publish", "text/plain", "hi".getBytes()), 415, "takes Content-Type application/json");
        assertRefused(server.post("/publish", "application/json",
                "{\"channel\":\"a\",\"data\":1,\"idempotency_key\":7}".getBytes()), 400, "idempotency_key must be a string");
        assertRefused(server.post("/publish", "application/json",
                "{\"channel\":\"a\",\"data\":{\"squall\":\"dropped\",\"count\":1}}".getBytes()), 400, "reserved");
        assertRefused(server.get("/receive?channel=a%2Fb&msg=x"), 400, "'/' at position 2");
        assertRefused(server.get("/channels/a%20b/history"), 400, "has a space");
        assertRefused(server.get("/channels/a/history?since=x"), 400, "since must be a whole number from 0");
        assertRefused(server.get("/channels/a/history?limit=0"), 400, "limit must be a whole number from 1 to 1000");
        assertRefused(server.get("/channels/a/history?limit=1001"), 400, "limit must be a whole number from 1 to 1000");
        assertRefused(server.get("/channels/a%20b"), 400, "has a space");
        assertRefused(server.get("/channels?limit=x"), 400, "limit must be a whole number from 1 to 1000");
    }

    private static void assertRefused(HttpResponse<String> response, int status, String says) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(JSON.readTree(response.body()).path("error").asText()).contains(says);
    }

    private static Map<String, String> upgrade() {
        return Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13");
    }
}
