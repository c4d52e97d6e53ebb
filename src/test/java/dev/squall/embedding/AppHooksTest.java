package dev.squall.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.ChannelAction;
import dev.squall.Identity;
import dev.squall.PublishAccess;
import dev.squall.ReadAccess;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import dev.squall.support.RawHttp;
import dev.squall.support.Stopping;
import dev.squall.support.WsTestClient;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The app decides who connects and what they may do (issue 18): an authenticate hook that reads the app's own session
 * cookie, an authorize hook for private channels, on every protocol, with the hooks' failures refusing.
 */
@Timeout(60)
class AppHooksTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> UPGRADE = Map.of("Upgrade", "websocket", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");

    private final List<AutoCloseable> open = new ArrayList<>();
    private Javalin app;
    /** Set by the tests that run a plugin as documented, with the default drain window: stopped without it. */
    private SquallPlugin documented;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable each : open) each.close();
        if (app != null && documented != null) Stopping.withoutDrain(app, documented);
        else if (app != null) app.stop();
    }

    /** A server whose app knows two sessions, ada's and bob's, and lets each user alone into "private:" + user. */
    private void start(Consumer<SquallPlugin.Config> more) {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.channelsPath = "/channels";
            cfg.ssePath = "/sse/{channel}";
            cfg.authenticate(handshake -> {
                String session = handshake.cookie("session");
                if ("s-ada".equals(session)) return Identity.of("ada", "{\"name\":\"Ada\"}");
                if ("s-bob".equals(session)) return Identity.of("bob");
                return null;
            });
            cfg.authorize((who, channel, action) -> channel.equals("private:" + who.user()));
            more.accept(cfg);
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
    }

    private WsTestClient connect(String path, String session, List<String> subprotocols) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path),
                Map.of("Cookie", "session=" + session), subprotocols);
        open.add(client);
        return client;
    }

    private RawHttp upgrade(String path, Map<String, String> more) throws Exception {
        Map<String, String> headers = new java.util.HashMap<>(UPGRADE);
        headers.putAll(more);
        return RawHttp.get(app.port(), path, headers);
    }

    private static JsonNode call(WsTestClient client, String command) throws Exception {
        client.send(command);
        while (true) {
            JsonNode frame = JSON.readTree(client.takeText());
            if (frame.has("id")) return frame;
        }
    }

    @Test
    void the_apps_hook_says_who_connects_and_handlers_see_it() throws Exception {
        CompletableFuture<Identity> seen = new CompletableFuture<>();
        start(cfg -> cfg.ws("/ws", ws -> ws.onOpen(client -> seen.complete(client.identity()))));
        connect("/ws", "s-ada", List.of());
        Identity ada = seen.get(10, TimeUnit.SECONDS);
        assertThat(ada.user()).isEqualTo("ada");
        assertThat(ada.info()).isEqualTo("{\"name\":\"Ada\"}");
    }

    @Test
    void a_request_the_app_does_not_recognise_is_refused_before_the_handshake() throws Exception {
        start(cfg -> { });
        RawHttp refused = upgrade("/ws", Map.of("Cookie", "session=forged"));
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.header("WWW-Authenticate")).startsWith("Bearer");
        assertThat(upgrade("/ws", Map.of()).status()).as("no cookie at all").isEqualTo(401);
        assertThat(upgrade("/ws", Map.of("Cookie", "session=s-ada")).status()).isEqualTo(101);
    }

    @Test
    void a_hook_that_throws_or_is_too_slow_refuses_and_never_shows_why() throws Exception {
        CountDownLatch slowStarted = new CountDownLatch(1);
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.hookTimeout = Duration.ofMillis(300);
            cfg.authenticate(handshake -> {
                if (handshake.queryParam("slow") != null) {
                    slowStarted.countDown();
                    Thread.sleep(30_000);
                }
                throw new IllegalStateException("database password is hunter2");
            });
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        RawHttp thrown = upgrade("/ws", Map.of());
        assertThat(thrown.status()).isEqualTo(403);
        assertThat(thrown.body()).doesNotContain("hunter2").doesNotContain("IllegalState");
        RawHttp slow = upgrade("/ws?slow=1", Map.of());
        assertThat(slowStarted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(slow.status()).as("past the deadline, refused").isEqualTo(403);
    }

    @Test
    void a_private_channel_route_admits_only_whom_the_app_allows() throws Exception {
        start(cfg -> cfg.ws("/private/{user}", ws -> ws.channelFrom(handshake -> "private:" + handshake.pathParam("user"))));
        WsTestClient ada = connect("/private/ada", "s-ada", List.of());
        assertThat(JSON.readTree(ada.takeText()).path("channel").asText()).isEqualTo("private:ada");
        RawHttp intruder = upgrade("/private/ada", Map.of("Cookie", "session=s-bob"));
        assertThat(intruder.status()).isEqualTo(403);
        assertThat(intruder.body()).contains("private:ada");
    }

    @Test
    void squall_v1_subscribes_publishes_and_reads_by_the_channels_rules_and_the_app() throws Exception {
        start(cfg -> cfg.namespace("private", ns -> ns.publish = PublishAccess.SUBSCRIBERS));
        WsTestClient ada = connect("/ws", "s-ada", List.of("squall.v1"));
        assertThat(call(ada, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"private:bob\"}").path("code").asText())
                .isEqualTo("forbidden");
        assertThat(call(ada, "{\"id\":2,\"type\":\"presence\",\"channel\":\"private:bob\"}").path("code").asText())
                .as("nor read it").isEqualTo("forbidden");
        assertThat(call(ada, "{\"id\":3,\"type\":\"publish\",\"channel\":\"private:ada\",\"data\":1}").path("code").asText())
                .as("only subscribers publish").isEqualTo("forbidden");
        assertThat(call(ada, "{\"id\":4,\"type\":\"subscribe\",\"channel\":\"private:ada\"}").path("type").asText())
                .isEqualTo("subscribed");
        assertThat(call(ada, "{\"id\":5,\"type\":\"publish\",\"channel\":\"private:ada\",\"data\":1}").path("type").asText())
                .isEqualTo("published");
        assertThat(call(ada, "{\"id\":6,\"type\":\"presence\",\"channel\":\"private:ada\"}").path("type").asText())
                .isEqualTo("presence");
        assertThat(call(ada, "{\"id\":7,\"type\":\"subscribe\",\"channel\":\"news\"}").path("code").asText())
                .as("secured: channels outside namespaces are private too").isEqualTo("forbidden");
    }

    @Test
    void an_authorize_hook_that_throws_answers_no() throws Exception {
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.authenticate(handshake -> Identity.of("ada"));
            cfg.authorize((who, channel, action) -> {
                throw new IllegalStateException("boom");
            });
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        WsTestClient ada = connect("/ws", "any", List.of("squall.v1"));
        JsonNode refused = call(ada, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"private:ada\"}");
        assertThat(refused.path("code").asText()).isEqualTo("forbidden");
        assertThat(refused.path("message").asText()).doesNotContain("boom");
    }

    @Test
    void server_sent_events_and_http_reads_follow_the_same_rules() throws Exception {
        start(cfg -> cfg.publishToken = "a-publish-token-of-some-length");
        assertThat(RawHttp.get(app.port(), "/sse/private:ada", Map.of()).status()).as("nobody").isEqualTo(401);
        assertThat(RawHttp.get(app.port(), "/sse/private:ada", Map.of("Cookie", "session=s-bob")).status()).isEqualTo(403);
        assertThat(RawHttp.get(app.port(), "/channels/private:ada/history", Map.of()).status())
                .as("reads need the publish token or a token that grants the channel").isEqualTo(401);
        assertThat(RawHttp.get(app.port(), "/channels/private:ada/history",
                Map.of("Authorization", "Bearer a-publish-token-of-some-length")).status()).isEqualTo(200);
    }

    /** The app's sessions, as the docs' examples have it: the identity of a session id, or null for none. */
    interface Sessions {
        Identity identityOf(String sessionId);
    }

    private static final Sessions SESSIONS = id -> "s-ada".equals(id) ? Identity.of("ada") : "s-bob".equals(id) ? Identity.of("bob") : null;

    @Test
    void the_readmes_hooks_admit_the_apps_sessions_and_keep_each_account_to_its_user() throws Exception {
        Sessions sessions = SESSIONS;
        // docs:hooks-java:start
        SquallPlugin squall = new SquallPlugin(cfg -> {
            cfg.authenticate(handshake -> sessions.identityOf(handshake.cookie("session")));   // null: 401
            cfg.authorize((who, channel, action) -> channel.equals("account:" + who.user()));
        });
        // docs:hooks-java:end
        app = Javalin.create(javalin -> javalin.registerPlugin(squall)).start("127.0.0.1", 0);
        documented = squall;
        assertThat(upgrade("/ws", Map.of()).status()).as("no session").isEqualTo(401);
        WsTestClient ada = connect("/ws", "s-ada", List.of("squall.v1"));
        assertThat(call(ada, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"account:ada\"}").path("type").asText()).isEqualTo("subscribed");
        assertThat(call(ada, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"account:bob\"}").path("code").asText()).isEqualTo("forbidden");
    }

    @Test
    void the_guides_example_lets_users_in_by_session_each_to_their_own_account_and_everyone_to_the_news() throws Exception {
        Sessions sessions = SESSIONS;
        // docs:who-may-connect-java:start
        SquallPlugin squall = new SquallPlugin(cfg -> {
            // Who is connecting: the app's own session cookie says; null refuses (401).
            cfg.authenticate(handshake -> sessions.identityOf(handshake.cookie("session")));
            // What a user may do with a channel its rules leave to the app: here, only with their own account:<user>.
            cfg.authorize((who, channel, action) -> channel.equals("account:" + who.user()));
            cfg.namespace("account", ns -> {
                ns.subscribe = SubscribeAccess.TOKEN;   // private: a token or the hook must grant it (the default)
                ns.read = ReadAccess.SUBSCRIBERS;       // history and presence too (the default)
            });
            cfg.namespace("news", ns -> ns.subscribe = SubscribeAccess.PUBLIC);   // anyone signed in listens
            cfg.ws("/ws", ws -> ws.onOpen(client -> client.send("hello " + client.identity().user())));
        });
        // docs:who-may-connect-java:end
        app = Javalin.create(javalin -> javalin.registerPlugin(squall)).start("127.0.0.1", 0);
        documented = squall;
        assertThat(upgrade("/ws", Map.of("Cookie", "session=forged")).status()).isEqualTo(401);
        assertThat(connect("/ws", "s-ada", List.of()).takeText()).isEqualTo("hello ada");

        WsTestClient bob = connect("/ws", "s-bob", List.of("squall.v1"));
        assertThat(call(bob, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"account:ada\"}").path("code").asText()).isEqualTo("forbidden");
        assertThat(call(bob, "{\"id\":2,\"type\":\"presence\",\"channel\":\"account:ada\"}").path("code").asText()).isEqualTo("forbidden");
        assertThat(call(bob, "{\"id\":3,\"type\":\"subscribe\",\"channel\":\"account:bob\"}").path("type").asText()).isEqualTo("subscribed");
        assertThat(call(bob, "{\"id\":4,\"type\":\"presence\",\"channel\":\"account:bob\"}").path("type").asText()).isEqualTo("presence");
        assertThat(call(bob, "{\"id\":5,\"type\":\"subscribe\",\"channel\":\"news:today\"}").path("type").asText()).isEqualTo("subscribed");
        assertThat(call(bob, "{\"id\":6,\"type\":\"subscribe\",\"channel\":\"elsewhere\"}").path("code").asText())
                .as("outside the namespaces: private, and the hook says no").isEqualTo("forbidden");
    }

    @Test
    void an_authorize_hook_alone_is_refused_at_start_up() {
        SquallPlugin plugin = new SquallPlugin(cfg -> cfg.authorize((who, channel, action) -> true));
        assertThatThrownBy(() -> Javalin.create(javalin -> javalin.registerPlugin(plugin)))
                .hasMessageContaining("authorize").hasMessageContaining("who the user is");
    }

    @Test
    void the_action_the_app_is_asked_about_is_named() throws Exception {
        List<ChannelAction> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        SquallPlugin plugin = new SquallPlugin(cfg -> {
            cfg.drainWindow = Duration.ZERO;
            cfg.authenticate(handshake -> Identity.of("ada"));
            cfg.authorize((who, channel, action) -> {
                asked.add(action);
                return true;
            });
        });
        app = Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        WsTestClient ada = connect("/ws", "any", List.of("squall.v1"));
        assertThat(call(ada, "{\"id\":1,\"type\":\"presence\",\"channel\":\"c\"}").path("type").asText()).isEqualTo("presence");
        assertThat(call(ada, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"c\"}").path("type").asText()).isEqualTo("subscribed");
        assertThat(asked).containsExactly(ChannelAction.READ, ChannelAction.SUBSCRIBE);
    }
}
