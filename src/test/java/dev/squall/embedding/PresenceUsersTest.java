package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.Identity;
import dev.squall.ReadAccess;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import dev.squall.support.Await;
import dev.squall.support.RawHttp;
import dev.squall.support.SseTestClient;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence counts users as well as connections (issue 18), over every protocol: a user with three connections is one
 * user, an anonymous connection is none, and join and leave events say whose connection came or went, with the info
 * its identity carries. The app's authenticate hook names the user from a header, as an app would from its session.
 */
@Timeout(60)
class PresenceUsersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PUBLISH_TOKEN = "a-publish-token-of-some-length";
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null) app.stop();
    }

    /** X-User names the user ("-": anonymous), X-Info their info; "chat:" channels are open to all, with presence on. */
    private void start() {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.publishToken = PUBLISH_TOKEN;
            cfg.channelsPath = "/channels";
            cfg.ssePath = "/sse/{channel}";
            cfg.ws("/ws", ws -> { });
            cfg.ws("/ws/{channel}", ws -> ws.channelFrom("channel"));
            cfg.authenticate(handshake -> {
                String user = handshake.header("X-User");
                if (user == null) return null;
                return user.equals("-") ? Identity.ANONYMOUS : Identity.of(user, handshake.header("X-Info"));
            });
            cfg.namespace("chat", ns -> {
                ns.presence = true;
                ns.subscribe = SubscribeAccess.PUBLIC;
                ns.read = ReadAccess.PUBLIC;
            });
        });
        app = Javalin.create(javalin -> {
            javalin.registerPlugin(plugin);
            // Jetty's stop waits for requests, as the standalone server's does: with Javalin's default of none, an
            // event stream ending as the server stops leaves Javalin finishing a request Jetty has recycled already.
            javalin.jetty.modifyServer(server -> server.setStopTimeout(2000));
        }).start("127.0.0.1", 0);
    }

    private static Map<String, String> as(String user, String... info) {
        Map<String, String> headers = new HashMap<>();
        headers.put("X-User", user);
        if (info.length > 0) headers.put("X-Info", info[0]);
        return headers;
    }

    private WsTestClient plain(String channel, String user) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + "/ws/" + channel), as(user));
        open.add(client);
        client.takeText();                                                  // its subscribed notice
        return client;
    }

    private WsTestClient v1(String channel, Map<String, String> headers) throws Exception {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + "/ws"), headers, List.of("squall.v1"));
        open.add(client);
        client.send("{\"id\":1,\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        assertThat(JSON.readTree(client.takeText()).path("type").asText()).isEqualTo("subscribed");
        return client;
    }

    private SseTestClient sse(String channel, String user) {
        SseTestClient client = SseTestClient.connect(URI.create("http://127.0.0.1:" + app.port() + "/sse/" + channel), as(user));
        open.add(client);
        assertThat(client.status()).isEqualTo(200);
        client.take();                                                      // its subscribed event
        return client;
    }

    private JsonNode channel(String channel) throws Exception {
        RawHttp answer = RawHttp.get(app.port(), "/channels/" + channel, Map.of("Authorization", "Bearer " + PUBLISH_TOKEN));
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    private static JsonNode reply(WsTestClient client, String command) throws Exception {
        client.send(command);
        while (true) {
            JsonNode frame = JSON.readTree(client.takeText());
            if (frame.has("id")) return frame;
        }
    }

    @Test
    void the_channel_route_and_the_presence_reply_count_each_user_once_and_no_anonymous_one() throws Exception {
        start();
        plain("chat:room", "ada");
        sse("chat:room", "ada");
        WsTestClient bob = v1("chat:room", as("bob"));
        plain("chat:room", "-");
        sse("chat:room", "-");

        JsonNode room = channel("chat:room");
        assertThat(room.path("subscribers").asInt()).isEqualTo(5);
        assertThat(room.path("users").asInt()).as("ada twice, bob, and two anonymous ones").isEqualTo(2);
        JsonNode presence = reply(bob, "{\"id\":2,\"type\":\"presence\",\"channel\":\"chat:room\"}");
        assertThat(presence.path("subscribers").asInt()).as(presence.toString()).isEqualTo(5);
        assertThat(presence.path("users").asInt()).isEqualTo(2);
        assertThat(channel("chat:empty").path("users").asInt()).isZero();
    }

    @Test
    void a_user_stays_counted_until_their_last_connection_on_the_channel_has_gone() throws Exception {
        start();
        WsTestClient phone = plain("chat:room", "ada");
        SseTestClient laptop = sse("chat:room", "ada");
        WsTestClient bob = v1("chat:room", as("bob"));
        v1("chat:other", as("carol"));

        phone.close();
        Await.until("ada's phone to have left", DEADLINE, () -> subscribers("chat:room"), 2);
        assertThat(channel("chat:room").path("users").asInt()).as("ada is still there on her laptop").isEqualTo(2);
        laptop.close();
        Await.until("ada's laptop to have left", DEADLINE, () -> subscribers("chat:room"), 1);
        assertThat(channel("chat:room").path("users").asInt()).isEqualTo(1);
        reply(bob, "{\"id\":2,\"type\":\"unsubscribe\",\"channel\":\"chat:room\"}");
        assertThat(channel("chat:room").path("users").asInt()).isZero();
        assertThat(channel("chat:other").path("users").asInt()).as("another channel's users are its own").isEqualTo(1);
    }

    private int subscribers(String channel) {
        try {
            return channel(channel).path("subscribers").asInt();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void joins_and_leaves_say_whose_connection_it_is_with_the_info_only_when_there_is_some() throws Exception {
        start();
        WsTestClient watcher = v1("chat:room", as("watcher"));
        WsTestClient ada = v1("chat:room", as("ada", "{ \"name\": \"Ada\", \"roles\": [\"admin\"] }"));
        JsonNode adaJoined = JSON.readTree(watcher.takeText());
        assertThat(adaJoined.path("type").asText()).isEqualTo("join");
        assertThat(adaJoined.path("user").asText()).isEqualTo("ada");
        assertThat(adaJoined.path("info").toString()).as("the info as the identity holds it, compact")
                .isEqualTo("{\"name\":\"Ada\",\"roles\":[\"admin\"]}");
        String adaClient = adaJoined.path("client").asText();

        WsTestClient nobody = plain("chat:room", "-");
        JsonNode anonymousJoined = JSON.readTree(watcher.takeText());
        assertThat(anonymousJoined.path("user").asText()).as("anonymous: an empty user").isEmpty();
        assertThat(anonymousJoined.has("user")).isTrue();
        assertThat(anonymousJoined.has("info")).as("no info, no field").isFalse();
        JSON.readTree(ada.takeText());                                         // ada hears it too

        ada.close();
        JsonNode adaLeft = JSON.readTree(watcher.takeText());
        assertThat(adaLeft.toString()).isEqualTo("{\"type\":\"leave\",\"channel\":\"chat:room\",\"client\":\"" + adaClient
                + "\",\"user\":\"ada\",\"info\":{\"name\":\"Ada\",\"roles\":[\"admin\"]}}");
        nobody.close();
        JsonNode anonymousLeft = JSON.readTree(watcher.takeText());
        assertThat(anonymousLeft.toString()).isEqualTo("{\"type\":\"leave\",\"channel\":\"chat:room\",\"client\":\""
                + anonymousJoined.path("client").asText() + "\",\"user\":\"\"}");
    }
}
