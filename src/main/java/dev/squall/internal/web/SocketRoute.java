package dev.squall.internal.web;

import dev.squall.SquallConnection;
import dev.squall.WsRoute;
import dev.squall.internal.auth.Credentials;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.hub.Recovery;
import dev.squall.internal.hub.TooManyChannels;
import dev.squall.internal.hub.Wire;
import dev.squall.internal.limit.ConnectionLimits.Permit;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import dev.squall.internal.node.RouteHandlers;
import dev.squall.internal.protocol.V1Framing;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import jakarta.servlet.http.HttpSession;
import org.eclipse.jetty.websocket.core.Configuration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * One Squall WebSocket route: the upgrade checks (on Javalin, as {@code wsBeforeUpgrade}), the per-connection limits,
 * and the app's {@link WsRoute} handlers around the hub's connection. Javalin routes the upgrade to the checks; the
 * socket that follows is Squall's own ({@link CoreUpgrade}, {@link JettySocket}): Javalin's WebSocket layer, and the
 * HTTP request with it, are not kept for the connection's life. Handlers see a {@link SquallConnection}.
 *
 * <p>So the app's own {@code wsBefore}/{@code wsAfter} handlers and Javalin's WebSocket settings do not reach
 * Squall's routes, and an app's {@code wsBeforeUpgrade} handler on the same path runs only where Javalin orders it
 * before Squall's.
 *
 * <p>A client that offers the subprotocol {@value #V1} gets it (Tornado: {@code select_subprotocol}) and speaks
 * JSON commands to a {@link ProtocolSession} instead: it starts on no channel, whatever the path, and the route's
 * handlers are not called for it. Any other client is a plain one, as before.
 */
public final class SocketRoute {

    private static final Logger log = LoggerFactory.getLogger(SocketRoute.class);
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
    private final Admission admission;
    private final CoreUpgrade upgrade = new CoreUpgrade();

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
        // Javalin hands an upgrade to these checks only on a path where it has a WebSocket route (below); the socket
        // itself is Squall's, opened here at the end of the checks, and Javalin's own upgrade is skipped.
        routes.wsBeforeUpgrade(path, Endpoints.guarded(ctx -> {
            guard.checkUpgrade(ctx);
            UpgradeRequest.requireValid(ctx);
            boolean offersV1 = offersV1(ctx);
            Credentials credentials = gate.admit(ctx, offersV1);                // Tornado: get_current_user
            String channel = null;
            Recovery recovery = Recovery.FROM_NOW;
            V1Upgrade v1Upgrade = null;
            if (offersV1) {                                                    // Tornado: select_subprotocol
                // Javalin has already answered with the first protocol offered; the answer is this one.
                ctx.header(SUBPROTOCOL_HEADER, V1);
                v1Upgrade = new V1Upgrade(publishPolicy.denial(ctx), credentials);
            } else if (handlers.hasChannel()) {
                channel = channelOf(ctx);
                String problem = ChannelName.problem(channel);
                if (problem != null) throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), problem);
                if (!node.access().maySubscribe(Objects.requireNonNull(credentials), channel, null)) {
                    throw ConnectGate.forbidden(channel, "subscribe to");
                }
                recovery = RecoveryParams.from(ctx.queryParam("since"), ctx.queryParam("epoch"));
                // Its first frame says where the stream stands, which only Redis knows: a client retries later. Checked
                // after the request's own mistakes, which a retry cannot mend.
                if (!node.brokerConnected(channel)) throw Endpoints.unavailable();
                if (!node.hub().hasRoomFor(channel)) throw admission.noRoomForChannel();
            }
            Permit permit = admission.admitUpgrade(ctx);                       // last: 429 or 503, or a place held
            if (credentials != null) admission.identify(ctx, credentials.identity());   // 429 past the user's limit
            forgetNewSession(ctx.req().getSession(false));
            String id = UUID.randomUUID().toString();
            SocketEvents events = v1Upgrade != null
                    ? new V1Socket(id, ctx.path(), permit, v1Upgrade)
                    : new PlainSocket(id, ctx.path(), permit, Objects.requireNonNull(credentials), channel, recovery,
                            ctx.pathParamMap(), ctx.queryParamMap());
            ctx.skipRemainingHandlers();                                       // Javalin's upgrade: this one answers
            try {
                upgrade.upgrade(ctx, new JettySocket(events), this::applyLimits);
            } catch (IOException e) {
                // The client went before its 101 was written: its socket never opens, and its place is given back
                // at the handshake deadline. No error of the server's.
                log.debug("WebSocket upgrade on {} from {} not completed: {}", ctx.path(), ctx.req().getRemoteAddr(), e.toString());
            }
        }));
        routes.ws(path, ws -> {
        });
    }

    /**
     * The channel the route puts this client on: a path parameter, or what the app's function makes of the
     * handshake. Null (the function has no channel for this request) is refused like a bad name, as 400.
     */
    private String channelOf(Context ctx) {
        if (handlers.channelParam() != null) return ctx.pathParam(handlers.channelParam());
        Function<dev.squall.Handshake, @Nullable String> namer = Objects.requireNonNull(handlers.channelNamer());
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

    /**
     * A plain client of this route: the app's handlers around its hub connection, on the route's channel or on the
     * broadcast one.
     */
    private final class PlainSocket implements SocketEvents {
        private final String id;
        private final String requestedPath;
        private final Permit permit;
        private final Credentials credentials;
        private final @Nullable String channel;
        private final Recovery recovery;
        private final Map<String, String> pathParams;
        private final Map<String, List<String>> queryParams;
        // Set by opened; read by the later events, which Jetty delivers after it, one at a time.
        private @Nullable Wire wire;
        private Admission.@Nullable Admitted admitted;
        private @Nullable Client client;

        PlainSocket(String id, String requestedPath, Permit permit, Credentials credentials, @Nullable String channel,
                    Recovery recovery, Map<String, String> pathParams, Map<String, List<String>> queryParams) {
            this.id = id;
            this.requestedPath = requestedPath;
            this.permit = permit;
            this.credentials = credentials;
            this.channel = channel;
            this.recovery = recovery;
            this.pathParams = Map.copyOf(pathParams);
            this.queryParams = Collections.unmodifiableMap(new LinkedHashMap<>(queryParams));
        }

        @Override
        public void opened(Wire wire) {                                        // Tornado: open()
            this.wire = wire;
            admitted = admission.opened(id, permit, wire);
            if (admitted == null) return;
            Connection connection = node.hub().connect(wire, id);
            connection.identify(credentials.identity());
            Client client = new Client(connection, requestedPath, pathParams, queryParams);
            if (credentials.expiresAt() != null) client.expiry.set(credentials.expiresAt());
            if (channel != null) {
                // A channel client's first frame says where its stream stands, then comes its replay: subscribed before
                // the open handler runs, so what that sends comes after them (interleaved with live publications, as
                // every app frame is). A client that cannot be subscribed never reaches the handlers.
                try {
                    node.hub().subscribe(connection, channel, recovery, Notice::subscribed);
                } catch (Unavailable e) {
                    closeUnavailable(wire, e);
                    return;
                } catch (TooManyChannels e) {
                    // The last place went to another client between the upgrade's check and now: try again later, as above.
                    wire.close(TRY_AGAIN_LATER, "too many channels on this server; reconnect later");
                    return;
                }
            }
            this.client = client;
            log.debug("WebSocket {} opened on {}", id, requestedPath);
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
                    closeUnavailable(wire, e);
                    return;
                }
            }
            node.hub().opened(connection);
        }

        @Override
        public void text(String message) {                                    // Tornado: on_message(message)
            node.metrics().received();
            Client client = this.client;
            if (client == null || !mayReceive(client)) return;                 // over --max-messages-per-second
            if (handlers.text() != null) {
                WsRoute.TextHandler handler = handlers.text();
                client.run("onMessage", () -> handler.handle(client, message));
            }
        }

        @Override
        public void binary(byte[] message) {
            node.metrics().received();
            Client client = this.client;
            if (client == null || !mayReceive(client)) return;
            if (handlers.binary() != null) {
                WsRoute.BinaryHandler handler = handlers.binary();
                client.run("onBinaryMessage", () -> handler.handle(client, message));
            }
        }

        private boolean mayReceive(Client client) {
            Admission.Admitted admitted = this.admitted;
            return admitted != null && admission.mayReceive(admitted, client.connection, Objects.requireNonNull(wire));
        }

        @Override
        public void closed(int code, @Nullable String reason) {                // Tornado: on_close()
            permit.release();
            node.hub().leave(id, code);
            Client client = this.client;
            log.debug("WebSocket {} closed: {} {}", id, code, reason);
            if (client == null) return;
            client.expiry.cancel();
            if (handlers.close() != null) {
                WsRoute.CloseHandler handler = handlers.close();
                try {
                    handler.handle(client, code, reason);
                } catch (Exception e) {
                    log.warn("The onClose handler of Squall's WebSocket route {} failed", path, e);
                }
            }
        }
    }

    /** A {@value #V1} client: on no channel, its commands for its {@link ProtocolSession}; the route's handlers are for plain ones. */
    private final class V1Socket implements SocketEvents {
        private final String id;
        private final String requestedPath;
        private final Permit permit;
        private final V1Upgrade upgrade;
        // Set by opened; read by the later events, which Jetty delivers after it, one at a time.
        private @Nullable Wire wire;
        private Admission.@Nullable Admitted admitted;
        private @Nullable ProtocolSession session;
        private @Nullable Connection connection;

        V1Socket(String id, String requestedPath, Permit permit, V1Upgrade upgrade) {
            this.id = id;
            this.requestedPath = requestedPath;
            this.permit = permit;
            this.upgrade = upgrade;
        }

        @Override
        public void opened(Wire wire) {
            this.wire = wire;
            Admission.Admitted admitted = admission.opened(id, permit, wire);
            if (admitted == null) return;
            Connection connection = node.hub().connect(wire, id, v1);
            if (upgrade.credentials() != null) connection.identify(upgrade.credentials().identity());
            this.session = new ProtocolSession(connection, node, v1.codec(), upgrade.denial(), upgrade.credentials(), admission, admitted);
            this.connection = connection;
            this.admitted = admitted;
            log.debug("WebSocket {} opened on {} with {}", id, requestedPath, V1);
            node.hub().opened(connection);
        }

        @Override
        public void text(String message) {
            node.metrics().received();
            ProtocolSession session = this.session;
            if (session != null && mayReceive()) session.onText(message);
        }

        @Override
        public void binary(byte[] message) {
            node.metrics().received();
            ProtocolSession session = this.session;
            if (session != null && mayReceive()) session.onBinary();
        }

        private boolean mayReceive() {
            Admission.Admitted admitted = this.admitted;
            Connection connection = this.connection;
            return admitted != null && connection != null && admission.mayReceive(admitted, connection, Objects.requireNonNull(wire));
        }

        @Override
        public void closed(int code, @Nullable String reason) {
            permit.release();
            node.hub().leave(id, code);
            ProtocolSession session = this.session;
            if (session != null) session.closed();
            log.debug("WebSocket {} ({}) closed: {} {}", id, V1, code, reason);
        }
    }

    /** Redis was lost between the upgrade's check and the subscribe: 1013 is "try again later" (RFC 6455 7.4.1). */
    private static void closeUnavailable(Wire wire, Unavailable e) {
        log.debug("WebSocket closed: {}", e.getMessage());
        wire.close(TRY_AGAIN_LATER, "Redis is unavailable; reconnect in a few seconds");
    }

    /**
     * Squall's limits, on this route's sockets only: the app's own WebSocket routes keep Javalin's settings.
     */
    private void applyLimits(Configuration session) {
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
            this.pathParams = pathParams;
            this.queryParams = queryParams;
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
