package dev.squall.internal.web;

import dev.squall.SquallConnection;
import dev.squall.WsRoute;
import dev.squall.internal.auth.Credentials;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.JettyWire;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.hub.Recovery;
import dev.squall.internal.hub.TooManyChannels;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import dev.squall.internal.node.RouteHandlers;
import dev.squall.internal.protocol.V1Framing;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConnectContext;
import jakarta.servlet.http.HttpSession;
import org.eclipse.jetty.websocket.api.Session;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One Squall WebSocket route on Javalin: the upgrade checks, the per-connection limits, and the app's
 * {@link WsRoute} handlers around the hub's connection. Everything Jetty or Javalin stays in here; handlers see a
 * {@link SquallConnection}.
 *
 * <p>A client that offers the subprotocol {@value #V1} gets it (Tornado: {@code select_subprotocol}) and speaks
 * JSON commands to a {@link ProtocolSession} instead: it starts on no channel, whatever the path, and the route's
 * handlers are not called for it. Any other client is a plain one, as before.
 */
public final class SocketRoute {

    private static final Logger log = LoggerFactory.getLogger(SocketRoute.class);
    private static final String PATH_ATTRIBUTE = "squall.path";
    private static final String CHANNEL_ATTRIBUTE = "squall.channel";
    private static final String RECOVERY_ATTRIBUTE = "squall.recovery";
    private static final String V1_ATTRIBUTE = "squall.v1";
    private static final String CREDENTIALS_ATTRIBUTE = "squall.credentials";
    /** The subprotocol of Squall's JSON protocol. */
    static final String V1 = "squall.v1";
    private static final String SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol";
    private static final int INTERNAL_ERROR = 1011;
    private static final int TRY_AGAIN_LATER = 1013;

    private final String path;
    private final RouteHandlers handlers;
    private final Node node;
    private final RequestGuard guard;
    private final PublishPolicy publishPolicy;
    private final ConnectGate gate;
    private final V1Framing v1;
    private final ConcurrentHashMap<String, Client> clients = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ProtocolSession> sessions = new ConcurrentHashMap<>();
    private final Admission admission;

    SocketRoute(String path, RouteHandlers handlers, Node node, RequestGuard guard, PublishPolicy publishPolicy,
                ConnectGate gate, V1Framing v1) {
        this.path = path;
        this.handlers = handlers;
        this.node = node;
        this.guard = guard;
        this.publishPolicy = publishPolicy;
        this.gate = gate;
        this.v1 = v1;
        this.admission = new Admission(node);
    }

    /**
     * How a {@code squall.v1} upgrade went, decided once, here: the publish policy's answer (its words for an open
     * server's refusals), and what the request proved (null: the client must send {@code connect}).
     */
    private record V1Upgrade(PublishPolicy.@Nullable Denial denial, @Nullable Credentials credentials) {
    }

    void mount(RoutesConfig routes) {
        try {
            mountOn(routes);
        } catch (IllegalArgumentException e) {
            // Javalin's "Handler with type='WEBSOCKET' and path='/ws' already exists": say whose route it is.
            throw new IllegalArgumentException("SquallPlugin: the app already has a route on " + path + " (" + e.getMessage()
                    + "); give Squall's WebSocket route another path with ws(path, handlers), or remove the app's", e);
        }
    }

    private void mountOn(RoutesConfig routes) {
        routes.get(path, Endpoints.guarded(ctx -> {
            UpgradeRequest.refuseIncomplete(ctx);
            ctx.header("Upgrade", "websocket");
            throw new Refusal(HttpStatus.UPGRADE_REQUIRED.getCode(),
                    ctx.path() + " is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)");
        }));
        routes.wsBeforeUpgrade(path, Endpoints.guarded(ctx -> {
            guard.checkUpgrade(ctx);
            UpgradeRequest.requireValid(ctx);
            ctx.attribute(PATH_ATTRIBUTE, ctx.path());
            boolean offersV1 = offersV1(ctx);
            Credentials credentials = gate.admit(ctx, offersV1);                // Tornado: get_current_user
            if (offersV1) {                                                    // Tornado: select_subprotocol
                // Javalin has already answered with the first protocol offered; the answer is this one.
                ctx.header(SUBPROTOCOL_HEADER, V1);
                ctx.attribute(V1_ATTRIBUTE, new V1Upgrade(publishPolicy.denial(ctx), credentials));
            } else {
                ctx.attribute(CREDENTIALS_ATTRIBUTE, java.util.Objects.requireNonNull(credentials));
            }
            if (!offersV1 && handlers.hasChannel()) {
                String channel = channelOf(ctx);
                String problem = ChannelName.problem(channel);
                if (problem != null) throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), problem);
                if (!node.access().maySubscribe(java.util.Objects.requireNonNull(credentials), channel, null)) {
                    throw ConnectGate.forbidden(channel, "subscribe to");
                }
                Recovery recovery = RecoveryParams.from(ctx.queryParam("since"), ctx.queryParam("epoch"));
                // Its first frame says where the stream stands, which only Redis knows: a client retries later. Checked
                // after the request's own mistakes, which a retry cannot mend.
                if (!node.brokerConnected(channel)) throw Endpoints.unavailable();
                if (!node.hub().hasRoomFor(channel)) throw admission.noRoomForChannel();
                ctx.attribute(CHANNEL_ATTRIBUTE, channel);
                ctx.attribute(RECOVERY_ATTRIBUTE, recovery);
            }
            admission.admitUpgrade(ctx);                                      // last: 429 or 503, or a place held
            if (credentials != null) admission.identify(ctx, credentials.identity());   // 429 past the user's limit
            forgetNewSession(ctx.req().getSession(false));
        }));
        routes.ws(path, ws -> {
            ws.onConnect(this::open);                                          // Tornado: open()
            ws.onMessage(ctx -> {                                              // Tornado: on_message(message)
                node.metrics().received();
                if (!admission.mayReceive(ctx)) return;                        // over --max-messages-per-second
                ProtocolSession protocol = sessions.get(ctx.sessionId());
                if (protocol != null) {
                    protocol.onText(ctx.message());
                    return;
                }
                Client client = clients.get(ctx.sessionId());
                if (client != null && handlers.text() != null) {
                    WsRoute.TextHandler handler = handlers.text();
                    client.run("onMessage", () -> handler.handle(client, ctx.message()));
                }
            });
            ws.onBinaryMessage(ctx -> {
                node.metrics().received();
                if (!admission.mayReceive(ctx)) return;
                ProtocolSession protocol = sessions.get(ctx.sessionId());
                if (protocol != null) {
                    protocol.onBinary();
                    return;
                }
                Client client = clients.get(ctx.sessionId());
                if (client != null && handlers.binary() != null) {
                    WsRoute.BinaryHandler handler = handlers.binary();
                    byte[] data = copy(ctx.data());
                    client.run("onBinaryMessage", () -> handler.handle(client, data));
                }
            });
            ws.onClose(this::closed);                                          // Tornado: on_close()
            ws.onError(ctx -> log.debug("WebSocket error on {}: {}", ctx.sessionId(), String.valueOf(ctx.error())));
        });
    }

    /**
     * The channel the route puts this client on: a path parameter, or what the app's function makes of the
     * handshake. Null (the function has no channel for this request) is refused like a bad name, as 400.
     */
    private String channelOf(Context ctx) {
        if (handlers.channelParam() != null) return ctx.pathParam(handlers.channelParam());
        java.util.function.Function<dev.squall.Handshake, @Nullable String> namer = java.util.Objects.requireNonNull(handlers.channelNamer());
        String channel = namer.apply(new RequestHandshake(ctx));      // one that throws is a 500, logged by guarded()
        if (channel == null) {
            throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), "no channel for " + ctx.path() + ": the route's channelFrom "
                    + "gave none for this request");
        }
        return channel;
    }

    /** Whether the handshake lists {@value #V1} among its subprotocols (tokens are case-sensitive, RFC 6455 4.1). */
    private static boolean offersV1(Context ctx) {
        for (String header : Collections.list(ctx.req().getHeaders(SUBPROTOCOL_HEADER))) {
            for (String offered : header.split(",")) {
                if (offered.trim().equals(V1)) return true;
            }
        }
        return false;
    }

    private void open(WsConnectContext ctx) {
        if (!admission.opened(ctx)) return;
        Session session = ctx.session;
        applyLimits(session);
        V1Upgrade upgrade = ctx.attribute(V1_ATTRIBUTE);
        if (upgrade != null) {
            openV1(ctx, upgrade);
            return;
        }
        Connection connection = node.hub().connect(JettyWire.of(session), ctx.sessionId());
        Credentials credentials = ctx.attribute(CREDENTIALS_ATTRIBUTE);
        if (credentials != null) connection.identify(credentials.identity());
        String requested = ctx.attribute(PATH_ATTRIBUTE);
        Client client = new Client(connection, requested != null ? requested : path, ctx.pathParamMap(), ctx.queryParamMap());
        if (credentials != null && credentials.expiresAt() != null) client.expiry.set(credentials.expiresAt());
        String channel = ctx.attribute(CHANNEL_ATTRIBUTE);
        if (channel != null) {
            // A channel client's first frame says where its stream stands, then comes its replay: subscribed before
            // the open handler runs, so what that sends comes after them (interleaved with live publications, as
            // every app frame is). A client that cannot be subscribed never reaches the handlers.
            Recovery recovery = ctx.attribute(RECOVERY_ATTRIBUTE);
            try {
                node.hub().subscribe(connection, channel, recovery != null ? recovery : Recovery.FROM_NOW, Notice::subscribed);
            } catch (Unavailable e) {
                closeUnavailable(ctx, e);
                return;
            } catch (TooManyChannels e) {
                // The last place went to another client between the upgrade's check and now: try again later, as above.
                ctx.closeSession(TRY_AGAIN_LATER, "too many channels on this server; reconnect later");
                return;
            }
        }
        clients.put(ctx.sessionId(), client);
        if (log.isDebugEnabled()) log.debug("WebSocket {} opened on {} from {}", ctx.sessionId(), client.path, session.getRemoteSocketAddress());
        if (handlers.open() != null) {
            WsRoute.OpenHandler handler = handlers.open();
            client.run("onOpen", () -> handler.handle(client));
        }
        if (channel == null) {
            // The broadcast channel only now: what the open handler sent (the tutorial's Welcome) goes out before
            // any broadcast.
            try {
                node.hub().subscribe(connection, Hub.DEFAULT_CHANNEL);
            } catch (Unavailable e) {
                closeUnavailable(ctx, e);
                return;
            }
        }
        node.hub().opened(connection);
    }

    /** Redis was lost between the upgrade's check and the subscribe: 1013 is "try again later" (RFC 6455 7.4.1). */
    private static void closeUnavailable(WsConnectContext ctx, Unavailable e) {
        log.debug("WebSocket {} closed: {}", ctx.sessionId(), e.getMessage());
        ctx.closeSession(TRY_AGAIN_LATER, "Redis is unavailable; reconnect in a few seconds");
    }

    /** A {@value #V1} connection: on no channel, its commands for its session; the route's handlers are for plain ones. */
    private void openV1(WsConnectContext ctx, V1Upgrade upgrade) {
        Connection connection = node.hub().connect(JettyWire.of(ctx.session), ctx.sessionId(), v1);
        if (upgrade.credentials() != null) connection.identify(upgrade.credentials().identity());
        sessions.put(ctx.sessionId(), new ProtocolSession(connection, node, v1.codec(), upgrade.denial(), upgrade.credentials(), admission));
        if (log.isDebugEnabled()) log.debug("WebSocket {} opened on {} with {} from {}", ctx.sessionId(), ctx.attribute(PATH_ATTRIBUTE), V1, ctx.session.getRemoteSocketAddress());
        node.hub().opened(connection);
    }

    private void closed(WsCloseContext ctx) {
        admission.closed(ctx.sessionId());
        node.hub().leave(ctx.sessionId(), ctx.status());
        ProtocolSession session = sessions.remove(ctx.sessionId());
        if (session != null) {
            session.closed();
            log.debug("WebSocket {} ({}) closed: {} {}", ctx.sessionId(), V1, ctx.status(), ctx.reason());
            return;
        }
        Client client = clients.remove(ctx.sessionId());
        if (client != null) client.expiry.cancel();
        log.debug("WebSocket {} closed: {} {}", ctx.sessionId(), ctx.status(), ctx.reason());
        if (client != null && handlers.close() != null) {
            WsRoute.CloseHandler handler = handlers.close();
            try {
                handler.handle(client, ctx.status(), ctx.reason());
            } catch (Exception e) {
                log.warn("The onClose handler of Squall's WebSocket route {} failed", path, e);
            }
        }
    }

    /**
     * Squall's limits, on this connection only: Javalin's factory settings are global to the app, whose own
     * WebSocket routes keep theirs.
     */
    private void applyLimits(Session session) {
        NodeSettings settings = node.settings();
        session.setMaxTextMessageSize(settings.maxMessageBytes());
        session.setMaxBinaryMessageSize(settings.maxMessageBytes());
        session.setMaxFrameSize(settings.maxMessageBytes());
        // With a heartbeat the heartbeat decides who is dead; pings are writes, and writes reset this. Without
        // one nothing closes a quiet connection (a listener may hear nothing for hours); a peer that stops
        // reading is dropped by the heartbeat's write timeout instead, which runs with pings off too.
        session.setIdleTimeout(settings.heartbeatEnabled()
                ? settings.pingInterval().plus(settings.pingTimeout()).plusSeconds(30)
                : Duration.ZERO);
    }

    /**
     * Javalin reads the HTTP session of every upgrade, which creates one, and Jetty's default cache keeps it until
     * it expires: one per connection, reconnections included. One this upgrade created and nothing uses goes now.
     */
    private static void forgetNewSession(@Nullable HttpSession session) {
        try {
            if (session != null && session.isNew() && !session.getAttributeNames().hasMoreElements()) session.invalidate();
        } catch (IllegalStateException alreadyInvalid) {
            // Nothing to forget.
        }
    }

    private static byte[] copy(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return bytes;
    }

    /** What a handler holds: the hub's connection, and what the upgrade request said. */
    private final class Client implements SquallConnection {
        private final Connection connection;
        private final String path;
        private final Map<String, String> pathParams;
        private final Map<String, List<String>> queryParams;
        final Expiry expiry;

        Client(Connection connection, String path, Map<String, String> pathParams, Map<String, List<String>> queryParams) {
            this.connection = connection;
            this.expiry = new Expiry(node.timer(), connection, Expiry.EXPIRED, "token expired");
            this.path = path;
            this.pathParams = Map.copyOf(pathParams);
            this.queryParams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(queryParams));
        }

        @Override
        public String id() {
            return connection.id();
        }

        @Override
        public dev.squall.Identity identity() {
            return connection.identity();
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public @Nullable String pathParam(String name) {
            return pathParams.get(name);
        }

        @Override
        public @Nullable String queryParam(String name) {
            List<String> values = queryParams.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        @Override
        public Map<String, List<String>> queryParams() {
            return queryParams;
        }

        @Override
        public boolean send(String text) {                                     // Tornado: write_message(text)
            Message message = Message.text(text);
            checkFits(message);
            if (Notice.isReserved(message)) throw new IllegalArgumentException(Node.reservedRule("send"));
            return connection.send(message);
        }

        @Override
        public boolean send(byte[] data) {                                     // Tornado: write_message(data, binary=True)
            Message message = Message.binary(data.clone());
            checkFits(message);
            return connection.send(message);
        }

        private void checkFits(Message message) {
            long max = node.settings().maxQueueBytes();
            if (message.size() > max) {
                throw new IllegalArgumentException("a message of " + message.size() + " bytes can never fit a connection's queue ("
                        + node.settings().names().name("maxQueueBytes") + " = " + max + ")");
            }
        }

        @Override
        public void close() {
            connection.close(1000, "");
        }

        @Override
        public void close(int code, String reason) {
            if (!(code == 1000 || (code >= 3000 && code <= 4999))) {
                throw new IllegalArgumentException("close code " + code + " is not one an application may send: use 1000, or 3000-4999");
            }
            if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
                throw new IllegalArgumentException("a close reason must be at most 123 bytes in UTF-8");
            }
            connection.close(code, reason);
        }

        @Override
        public boolean isOpen() {
            return connection.isOpen();
        }

        @Override
        public dev.squall.Squall squall() {
            return node;
        }

        /** Runs one of the app's handlers; one that throws is logged here, and the client only sees a 1011 close. */
        void run(String which, Handler handler) {
            try {
                handler.run();
            } catch (Exception e) {
                log.warn("The {} handler of Squall's WebSocket route {} failed; closing connection {} with 1011", which, SocketRoute.this.path, id(), e);
                connection.close(INTERNAL_ERROR, "internal error");
            }
        }

        @Override
        public String toString() {
            return "SquallConnection[" + id() + " on " + path + "]";
        }
    }

    @FunctionalInterface
    private interface Handler {
        void run() throws Exception;
    }

}
