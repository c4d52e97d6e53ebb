package dev.squall;

import dev.squall.internal.node.Declared;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import dev.squall.internal.node.RouteHandlers;
import dev.squall.internal.web.Endpoints;
import dev.squall.internal.web.HandshakeDeadline;
import dev.squall.internal.web.Protocols;
import io.javalin.config.JavalinState;
import io.javalin.plugin.Plugin;
import org.jspecify.annotations.Nullable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Squall in any Javalin 7 app: WebSocket routes with bounded per-client queues, encode-once fan-out, a heartbeat
 * that finds dead and stalled peers, message limits, an origin check, and optionally an HTTP publish route and
 * {@code /metrics}, {@code /health}, {@code /ready}.
 *
 * <pre>{@code
 * SquallPlugin squall = new SquallPlugin(cfg -> {
 *     cfg.ws("/ws", ws -> ws.onMessage((client, text) -> client.send("new message :" + text)));
 * });
 * Javalin.create(config -> {
 *     config.registerPlugin(squall);
 *     config.routes.post("/orders", ctx -> squall.squall().broadcast("new order"));
 * });
 * }</pre>
 *
 * <p>What it mounts: the WebSocket routes declared with {@link Config#ws}, or, when none is, one push-only route
 * at {@code /ws}; a plain {@code GET} on each such path (426, "connect with a WebSocket client"); and only the
 * routes whose path is set: {@link Config#publishPath}, {@link Config#metricsPath}, {@link Config#healthPath},
 * {@link Config#readyPath}, {@link Config#publishApiPath}, {@link Config#channelsPath}, {@link Config#disconnectPath}, {@link Config#ssePath},
 * {@link Config#clientPath}
 * (the publish routes with their CORS preflight). Nothing else of the app changes: its own routes, WebSocket routes, limits, error
 * handlers, CORS and sessions are left as they are (Squall's limits are set on each of its own connections).
 * For the same origin and {@code Host} policy on every route, register {@link OriginPolicyPlugin} too.
 *
 * <p>Lifecycle: the node's threads start when the server starts; when it stops, {@code /ready} and the publish
 * route answer 503 for {@link Config#drainWindow}, then every Squall connection is closed with 1001 within
 * {@link Config#stopTimeout}, before Jetty stops. One instance serves one Javalin app; register it once.
 */
public final class SquallPlugin extends Plugin<SquallPlugin.Config> {

    /**
     * The plugin's settings, with the command line's defaults. Validated when the plugin is registered: a bad
     * value fails {@code Javalin.create()} with an {@link IllegalArgumentException} naming the field.
     */
    public static final class Config {
        /** The most publications {@link #historySize} (or a namespace's) may keep, and {@link #maxRecovery} replay. */
        public static final int MAX_HISTORY = 100_000;
        /** The most {@link #maxChannelsPerConnection} may be. */
        public static final int MAX_CHANNELS_PER_CONNECTION = 100_000;

        /** Time between server pings to each connection; {@link Duration#ZERO} turns pings and dead-peer detection off. */
        public Duration pingInterval = Duration.ofSeconds(25);
        /** After a ping, how long until something must have arrived, or the connection is dropped. At least 1 second. */
        public Duration pingTimeout = Duration.ofSeconds(10);
        /** How long a connection may have messages waiting while its socket takes none; zero turns it off. */
        public Duration writeTimeout = Duration.ofSeconds(30);
        /** Largest message a client may send, in bytes; a larger one closes that connection with 1009. */
        public int maxMessageBytes = 65536;
        /** Bytes one connection may have waiting to be sent; past it, {@link #slowConsumerPolicy} applies. At least 1024. */
        public long maxQueueBytes = 1024 * 1024;
        /** Messages one connection may have waiting to be sent; past it, {@link #slowConsumerPolicy} applies. */
        public int maxQueueMessages = 1000;
        /** Largest message one publish or broadcast may carry (and largest publish body); null: a quarter of {@link #maxQueueBytes}, and at most half. */
        public @Nullable Long maxPublishBytes = null;
        /** What happens to a connection whose queue is full. */
        public SlowConsumerPolicy slowConsumerPolicy = SlowConsumerPolicy.CLOSE;
        /**
         * Browser origins, besides the page's own, that may open Squall's WebSockets and call its publish route:
         * {@code scheme://host[:port]} values, or {@code "*"} alone for any. Empty: same origin only.
         */
        public List<String> allowedOrigins = List.of();
        /** Host names (any port), besides loopback ones, that name this server; checked for publishing, see {@link #checkHosts}. */
        public List<String> allowedHosts = List.of();
        /** Whether Squall's routes refuse a {@code Host} that is neither loopback nor in {@link #allowedHosts} (DNS rebinding); on when {@link #allowedHosts} is set. */
        public boolean checkHosts = false;
        /** When set (16 characters or more), publishing needs {@code Authorization: Bearer <token>}; when null, only this machine may publish. */
        public @Nullable String publishToken = null;
        /** Where {@code GET ?msg=} and {@code POST} publishes are taken (the standalone server's {@code /receive}); null: no publish route. */
        public @Nullable String publishPath = null;
        /** Where Prometheus metrics are served; null: not mounted. */
        public @Nullable String metricsPath = null;
        /** Where a liveness probe answers {@code {"status":"up"}}; null: not mounted. */
        public @Nullable String healthPath = null;
        /** Where a readiness probe answers 200 while serving and 503 while starting or stopping; null: not mounted. */
        public @Nullable String readyPath = null;
        /** Publications each channel keeps for recovery and history (0 turns history off; offsets go on). */
        public int historySize = 100;
        /** How long each publication stays in its channel's history. */
        public Duration historyTtl = Duration.ofSeconds(300);
        /** The most publications one recovery replays; a client further behind is told it was not recovered. */
        public int maxRecovery = 300;
        /** The most channels one {@code squall.v1} connection may be subscribed to at once; one more is {@code too_many_channels}. */
        public int maxChannelsPerConnection = 128;
        /**
         * The Redis that several nodes share channels through, as {@code redis://host:port} (or {@code rediss://}
         * for TLS, {@code redis://:password@host:port/db}); null: this node keeps its channels in memory, alone.
         * Several, separated by commas ({@code "redis://a:6379,redis://b:6379"}), spread the channels over them,
         * each channel on one (every node must list the same ones, in any order; a comma in a password is {@code %2C}).
         * A Redis that cannot be reached when the app starts does not stop it: the node keeps trying, and its
         * ready path answers 503 until Redis is reached. Needs the Redis client, an optional dependency of Squall that
         * the app adds ({@code io.lettuce:lettuce-core}, see docs/embedding.md); without it {@code Javalin.create()}
         * fails with a sentence that names it.
         */
        public @Nullable String redis = null;
        /** How long a publish's idempotency key is remembered, so that a retry within it is not published twice. */
        public Duration idempotencyWindow = Duration.ofMinutes(5);
        /** Where {@code POST {"channel", "data"}} publishes are taken (the standalone server's {@code /publish}); null: not mounted. */
        public @Nullable String publishApiPath = null;
        /**
         * Where a channel is streamed as Server-Sent Events, a path with a {@code {channel}} parameter (the
         * standalone server's {@code /sse/{channel}}); null: not mounted.
         */
        public @Nullable String ssePath = null;
        /**
         * Where the browser client {@code squall.js} (the {@code squall.v1} ES module that ships with Squall) is served,
         * such as {@code /js/squall.js}, for a page of the app to import; null: not mounted. Only that one file: the
         * app's own static files are left as they are.
         */
        public @Nullable String clientPath = null;
        /** Where channels are described: {@code PATH/{channel}/history}; null: not mounted. */
        public @Nullable String channelsPath = null;
        /**
         * Where {@code POST {"user": "42"}} closes every connection of a user on every node, as
         * {@link Squall#disconnect} does (the standalone server's {@code /disconnect}); guarded like the publish routes
         * (the publish token, or this machine only). Null: not mounted.
         */
        public @Nullable String disconnectPath = null;
        /** On stop, how long {@link #readyPath} and {@link #publishPath} answer 503 before connections are closed (0 to 1 hour). */
        public Duration drainWindow = Duration.ofSeconds(3);
        /** On stop, how long connections get to finish their close handshake. */
        public Duration stopTimeout = Duration.ofSeconds(5);
        /**
         * Messages (text or binary, plain or {@code squall.v1}) one WebSocket client may send per second, in bursts of
         * as many: a client over it is closed with 3013 ({@code too many requests}; it may reconnect). 0: no limit. The
         * default leaves room for a {@code squall.v1} client that subscribes to {@link #maxChannelsPerConnection}
         * channels at once when it reconnects.
         */
        public int maxMessagesPerSecond = 200;
        /**
         * Connections (WebSockets and SSE streams) this node holds at once; one more is refused before its handshake
         * with 503 and {@code Retry-After}. 0: no limit.
         */
        public int maxConnections = 10_000;
        /**
         * Connections one client address (an IPv4 address, or an IPv6 /64) may hold at once; one more is refused before
         * its handshake with 429 and {@code Retry-After}. Loopback is an address like any other, and behind a proxy
         * every client has the proxy's address, so it is off unless set. 0: no limit.
         */
        public int maxConnectionsPerIp = 0;
        /**
         * Connections one user (an identity's user, such as a token's {@code sub}) may hold at once; anonymous
         * connections never count. One more is refused with 429 before its handshake, or closed with 3504
         * ({@code connection limit}) when the user is only known after it. 0: no limit.
         */
        public int maxConnectionsPerUser = 100;
        /**
         * How long a client has, from opening its TCP connection, to send the whole head of its first request (a
         * WebSocket upgrade, an event stream's {@code GET}, any request), and on a kept-alive connection, to finish the
         * head of a later one it has started: one that sends slower is disconnected. It is set on every connector of
         * the app's server, so the app's own routes have it too. {@link Duration#ZERO}: off.
         */
        public Duration handshakeTimeout = Duration.ofSeconds(10);
        /**
         * Channels with subscribers this node holds at once (the one {@code /ws} broadcast channel and the app's own
         * {@link Squall#subscribe} aside); a subscribe that would add one more is refused, while channels that exist
         * keep taking subscribers. A channel whose last subscriber leaves frees its place at once. 0: no limit.
         */
        public int maxChannels = 100_000;

        /**
         * A secret that verifies HMAC-signed tokens: HS256, and HS384 and HS512 when it is 48 or 64 bytes long; at
         * least 32 bytes, used as its UTF-8 bytes, never logged; null: none. Any token key, {@link #authenticate} hook
         * or proxy makes every connection need an identity (see {@link #authenticate}). May go with
         * {@link #tokenPublicKey} or {@link #tokenJwksUrl}.
         */
        public @Nullable String tokenHmacSecret = null;
        /**
         * A PEM file with the public key that verifies tokens, or an X.509 certificate holding one: RSA of 2048 bits or
         * more (RS256, RS384, RS512, PS256, PS384, PS512), or EC (the ES algorithm of its curve: ES256 on P-256, ES384
         * on P-384, ES512 on P-521). Read when the plugin is registered; null: none.
         */
        public @Nullable Path tokenPublicKey = null;
        /**
         * A JWKS endpoint ({@code https://…/.well-known/jwks.json}) whose RSA and EC keys verify tokens: fetched when a
         * token first needs it, cached for 5 minutes, fetched again for a new {@code kid} at most twice per 10 seconds;
         * not with {@link #tokenPublicKey}; null: none.
         */
        public @Nullable String tokenJwksUrl = null;
        /** When set, a token's {@code aud} must name it; needs a token key. */
        public @Nullable String tokenAudience = null;
        /** When set, a token's {@code iss} must be it; needs a token key. */
        public @Nullable String tokenIssuer = null;
        /**
         * The cookie a token may come in, for {@code EventSource}, which sends no headers; null: tokens come only as
         * {@code Authorization: Bearer} or {@code ?token=}. The origin check still applies, so another site's page
         * cannot use it.
         */
        public @Nullable String tokenCookie = null;
        /** How long a {@code squall.v1} connection that brought no token has to send its {@code connect} command. */
        public Duration connectTimeout = Duration.ofSeconds(10);
        /** The longest Squall waits for the app's {@link #authenticate} or {@link #authorize} hook, or a proxy, before refusing. */
        public Duration hookTimeout = Duration.ofSeconds(5);
        /**
         * An HTTP endpoint of the app that decides who a client is when it brings no token, for apps in other
         * languages: Squall POSTs the request's cookies and {@link #proxyHeaders} as JSON and reads back an identity or
         * a refusal (openapi.yaml, callback {@code connectProxy}); null: none. Set, it makes connections need an
         * identity, as {@link #authenticate} does (which it stands in for, and cannot be set with).
         */
        public @Nullable String connectProxy = null;
        /**
         * An HTTP endpoint of the app that decides subscriptions the channel's rules leave to the app (openapi.yaml,
         * callback {@code subscribeProxy}); null: none. Stands in for {@link #authorize} (which cannot be set with it).
         */
        public @Nullable String subscribeProxy = null;
        /** The request headers the proxies are sent, besides cookies, such as {@code Authorization} or {@code X-Api-Key}. */
        public List<String> proxyHeaders = List.of();
        /** Who may subscribe to channels outside any namespace; null: {@link SubscribeAccess}'s default. */
        public @Nullable SubscribeAccess subscribe = null;
        /** Who may publish to them from a {@code squall.v1} connection; null: {@link PublishAccess#NONE}. */
        public @Nullable PublishAccess publish = null;
        /** Who may read their history and presence; null: {@link ReadAccess#SUBSCRIBERS}. */
        public @Nullable ReadAccess read = null;

        @Nullable Authenticator authenticator;
        @Nullable ChannelAuthorizer authorizer;

        /**
         * Decides who each client is from its request (its cookies, headers, query, path, address), when it brings no
         * token. With this, a token key or a proxy set, every Squall route needs an identity: a request with neither a
         * valid token nor this hook's yes is refused (401), and channels are private unless their namespace says
         * otherwise ({@link Namespace#subscribe}).
         */
        public void authenticate(Authenticator authenticator) {
            this.authenticator = java.util.Objects.requireNonNull(authenticator, "authenticator");
        }

        /** Decides what a user may do with a channel where its rules leave it to the app (see {@link ChannelAuthorizer}). */
        public void authorize(ChannelAuthorizer authorizer) {
            this.authorizer = java.util.Objects.requireNonNull(authorizer, "authorizer");
        }

        final Map<String, WsRoute> routes = new LinkedHashMap<>();
        final List<String> duplicateRoutes = new ArrayList<>();
        final Map<String, Namespace> namespaces = new LinkedHashMap<>();
        final List<String> duplicateNamespaces = new ArrayList<>();

        /**
         * Options for the channels of one namespace ({@code chat} for {@code chat:room1}); what {@code options}
         * leaves unset comes from this config.
         */
        public void namespace(String name, Consumer<Namespace> options) {
            Namespace namespace = new Namespace();
            options.accept(namespace);
            if (namespaces.putIfAbsent(name, namespace) != null) duplicateNamespaces.add(name);
        }

        /**
         * Declares a Squall WebSocket route at {@code path} (Javalin path syntax, such as {@code /rooms/{room}});
         * {@code handlers} sets what happens on it. Its clients receive every broadcast.
         */
        public void ws(String path, Consumer<WsRoute> handlers) {
            WsRoute route = new WsRoute();
            handlers.accept(route);
            if (routes.putIfAbsent(path, route) != null) duplicateRoutes.add(path);
        }
    }

    /** What one namespace's channels do differently; null fields follow the plugin's {@link Config}. */
    public static final class Namespace {
        /** Publications each channel of the namespace keeps (0: none); null: {@link Config#historySize}. */
        public @Nullable Integer historySize = null;
        /** How long each stays; null: {@link Config#historyTtl}. */
        public @Nullable Duration historyTtl = null;
        /**
         * Whether {@code squall.v1} subscribers of the namespace's channels get {@code join} and {@code leave} events
         * when another subscriber (of any protocol) comes or goes, on this node or, with {@link Config#redis}, any
         * other. Each event visits the channel's subscribers (and with Redis is one more {@code PUBLISH}), so it is
         * off unless asked for.
         */
        public boolean presence = false;
        /** Who may subscribe to the namespace's channels; null: {@link Config#subscribe}. */
        public @Nullable SubscribeAccess subscribe = null;
        /** Who may publish to them from a {@code squall.v1} connection; null: {@link Config#publish}. */
        public @Nullable PublishAccess publish = null;
        /** Who may read their history and presence; null: {@link Config#read}. */
        public @Nullable ReadAccess read = null;
    }

    private final SettingNames names;
    private final Protocols protocols = new Protocols();
    private @Nullable Node node;
    private @Nullable Endpoints endpoints;

    /** A plugin configured by {@code config}, which starts from the defaults documented on {@link Config}. */
    public SquallPlugin(Consumer<Config> config) {
        this(config, SettingNames.FIELDS);
    }

    /** A plugin with every default: a push-only {@code /ws}, nothing else mounted. */
    public SquallPlugin() {
        this(config -> { });
    }

    /**
     * A plugin configured by {@code config}, whose errors name its settings as {@code names} does: for an app that
     * exposes them under names of its own (command-line flags, keys of a file), so that its users read their own terms.
     */
    public SquallPlugin(Consumer<Config> config, SettingNames names) {
        super(config, new Config());
        this.names = names;
    }

    @Override
    public void onInitialize(JavalinState state) {
        if (node != null) {
            throw new IllegalStateException("SquallPlugin: this instance is already registered in another Javalin app; "
                    + "create one SquallPlugin per app");
        }
        // The app's JSON mapper, read when a value is published: an app may set it after registering the plugin.
        node = new Node(NodeSettings.from(pluginConfig, declared(pluginConfig), names), protocols.channelFramings(),
                value -> state.jsonMapper.getValue().toJsonString(value, value.getClass()));
    }

    @Override
    public void onStart(JavalinState state) {
        endpoints = new Endpoints(node(), state, protocols);
        endpoints.mount();
        HandshakeDeadline.install(state, node());
    }

    /** What the app declared with {@code ws(...)} and {@code namespace(...)}, read off the config's own state. */
    private static Declared declared(Config config) {
        java.util.Map<String, RouteHandlers> routes = new LinkedHashMap<>();
        config.routes.forEach((path, route) -> routes.put(path, new RouteHandlers(route.channelParam, route.channelNamer,
                route.open, route.text, route.binary, route.close)));
        return new Declared(routes, List.copyOf(config.duplicateRoutes), new LinkedHashMap<>(config.namespaces),
                List.copyOf(config.duplicateNamespaces), config.authenticator, config.authorizer);
    }

    /**
     * Who may connect, in one line for a start-up log: anyone (an open server), or who decides who a client is and
     * what channels are private.
     *
     * @throws IllegalStateException before the plugin is registered
     */
    public String describeConnecting() {
        return node().settings().auth().describe(names::name);
    }

    /** Who may publish, in one line for a start-up log; empty before the plugin has started. */
    public String describePublishing() {
        return endpoints == null ? "" : endpoints.describePublishing();
    }

    /**
     * Where channels live, in one line for a start-up log: in this process, or shared through Redis (its address,
     * a password in it shown as {@code ***}).
     *
     * @throws IllegalStateException before the plugin is registered
     */
    public String describeChannels() {
        return node().describeChannels();
    }

    /**
     * Cuts short the drain window of a stop under way ({@link Config#drainWindow}): connections are closed now. For a
     * second stop request, such as a second SIGTERM. True if a drain was running.
     *
     * @throws IllegalStateException before the plugin is registered
     */
    public boolean stopNow() {
        return node().stopNow();
    }

    /**
     * The handle for server-side code to push with.
     *
     * @throws IllegalStateException before the plugin is registered ({@code config.registerPlugin(plugin)})
     */
    public Squall squall() {
        return node();
    }

    Node node() {
        if (node == null) {
            throw new IllegalStateException("SquallPlugin is not registered yet: call config.registerPlugin(plugin) "
                    + "inside Javalin.create(...) first");
        }
        return node;
    }
}
