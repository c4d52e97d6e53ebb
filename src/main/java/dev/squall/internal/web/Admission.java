package dev.squall.internal.web;

import dev.squall.Identity;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Metrics;
import dev.squall.internal.hub.Wire;
import dev.squall.internal.limit.ConnectionLimits.Permit;
import dev.squall.internal.limit.ConnectionLimits;
import dev.squall.internal.limit.MessageRate;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The limits on who may connect and how fast a WebSocket client may send, as the routes apply them: a connection
 * takes a {@link Permit} before its handshake is answered (429 or 503 with {@code Retry-After} when a limit is
 * reached, so no 101 and no stream), holds it while it is open, and gives it back when it ends, whichever way.
 *
 * <p>A WebSocket's permit is taken in {@code wsBeforeUpgrade} and handed to its socket, which takes it over when it
 * opens; an upgrade that never becomes a connection (the client vanished before the 101 reached it) gives its permit
 * back when the handshake deadline passes, so nothing is held for a connection that does not exist. An SSE stream holds its permit from the request on, and gives it back when its
 * wire ends.
 */
final class Admission {

    private static final Logger log = LoggerFactory.getLogger(Admission.class);
    /** The request attribute that carries a permit from the upgrade (or the stream's request) to the connection. */
    static final String PERMIT_ATTRIBUTE = "squall.permit";
    /** How long a client refused for its address or user should wait: it must first close connections of its own. */
    static final int RETRY_AFTER_CLIENT_SECONDS = 10;
    /** How long a client refused because the node is full should wait: others leave all the time. */
    static final int RETRY_AFTER_FULL_SECONDS = 5;
    /** How long a pending permit waits for its connection when there is no handshake deadline. */
    private static final Duration PENDING_WITHOUT_DEADLINE = Duration.ofSeconds(30);
    /** How long a client closed for flooding gets to take its close frame before its socket is dropped. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);
    private static final int TRY_AGAIN_LATER = 1013;

    private final Node node;
    private final ConnectionLimits limits;
    private final NodeSettings settings;

    Admission(Node node) {
        this.node = node;
        this.limits = node.connectionLimits();
        this.settings = node.settings();
    }

    /** What an open WebSocket holds, beside it rather than in a map: its permit, and its message budget (null without a rate limit). */
    static final class Admitted {
        final Permit permit;
        final @Nullable MessageRate rate;
        volatile boolean flooded;

        Admitted(Permit permit, @Nullable MessageRate rate) {
            this.permit = permit;
            this.rate = rate;
        }
    }

    /**
     * Before a WebSocket upgrade is answered (the last of its checks): a permit for it, given to its socket, which
     * takes it over in {@link #opened}; refused with 429 or 503 and {@code Retry-After} when a limit is reached.
     */
    Permit admitUpgrade(Context ctx) {
        Permit permit = acquire(ctx);
        ctx.attribute(PERMIT_ATTRIBUTE, permit);
        Duration pending = settings.handshakeTimeout().isZero() ? PENDING_WITHOUT_DEADLINE : settings.handshakeTimeout();
        String from = ctx.req().getRemoteAddr();               // not the request itself: it is recycled by then
        try {
            node.scheduler().schedule(() -> {
                if (permit.expire()) log.debug("An upgrade from {} did not become a connection; its place is given back", from);
            }, pending.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            permit.release();                                   // the node has stopped: no connection will open
        }
        return permit;
    }

    /**
     * Before an SSE stream starts: a permit it holds from now on, given back by {@link Permit#release} when the
     * stream ends; refused with 429 or 503 and {@code Retry-After} when a limit is reached.
     */
    Permit admitStream(Context ctx) {
        Permit permit = acquire(ctx);
        permit.open();
        ctx.attribute(PERMIT_ATTRIBUTE, permit);
        return permit;
    }

    /**
     * A WebSocket has opened: it takes over the permit its upgrade took. Null when there is none to take (its upgrade
     * outlived the handshake deadline, or the node has stopped): the connection has then been closed with 1013, try
     * again later, and must not go on.
     */
    @Nullable Admitted opened(String id, Permit permit, Wire wire) {
        if (!permit.open()) {
            log.debug("WebSocket {} opened after its upgrade's place was given back; closed", id);
            wire.close(TRY_AGAIN_LATER, "the handshake took too long; reconnect");
            return null;
        }
        int perSecond = settings.maxMessagesPerSecond();
        return new Admitted(permit, perSecond > 0 ? new MessageRate(perSecond, System::nanoTime) : null);
    }

    /**
     * Whether a WebSocket client's message may be handled: within {@code --max-messages-per-second}. The first one
     * over it closes the connection with 3013 (too many requests; it may reconnect, and should send less), and it and
     * every message after it are dropped. A peer that ignores the close frame is dropped a moment later.
     */
    boolean mayReceive(Admitted admitted, Connection connection, Wire wire) {
        if (admitted.flooded) return false;                               // closing
        if (admitted.rate == null || admitted.rate.take()) return true;
        admitted.flooded = true;
        node.metrics().limited(Metrics.Limit.MESSAGES_PER_SECOND);
        log.debug("WebSocket {} sent more than {} messages a second; closed with {}", connection.id(),
                settings.maxMessagesPerSecond(), Connection.TOO_MANY_REQUESTS);
        // Through the hub's connection, so that a squall.v1 client's commands still waiting are not run.
        connection.close(Connection.TOO_MANY_REQUESTS, "too many requests");
        try {
            // Dropping a socket that has already closed does nothing.
            node.scheduler().schedule(wire::abort, CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // The node is stopping: Jetty closes every session.
        }
        return false;
    }

    /**
     * Says who holds the connection of this upgrade (or SSE request), once that is known before the handshake is
     * answered (a token): it counts against {@code --max-connections-per-user} from now on, or the request is
     * refused with 429 and {@code Retry-After}. Call after {@link #admitUpgrade} or {@link #admitStream}.
     */
    void identify(Context ctx, Identity identity) {
        Permit permit = ctx.attribute(PERMIT_ATTRIBUTE);
        if (permit == null) throw new IllegalStateException("identify comes after the request's admission");
        if (!permit.identify(identity)) {
            permit.release();
            throw refusal(ConnectionLimits.Kind.USER, settings.maxConnectionsPerUser());
        }
    }

    /**
     * Says who holds an open WebSocket, once that is known only after its handshake (a {@code squall.v1}
     * {@code connect}): it counts against {@code --max-connections-per-user} from now on. False when the user already
     * holds as many as they may: the connection has then been closed with 3504 (connection limit), and the caller
     * must take it no further.
     */
    boolean identify(Admitted admitted, Connection connection, Identity identity) {
        if (admitted.permit.identify(identity)) return true;
        node.metrics().limited(Metrics.Limit.CONNECTIONS_PER_USER);
        log.debug("Connection {} closed: its user holds {} connections", connection.id(), settings.maxConnectionsPerUser());
        connection.close(Connection.CONNECTION_LIMIT, "connection limit");
        return false;
    }

    private Permit acquire(Context ctx) {
        try {
            return limits.acquire(ctx.req().getRemoteAddr());
        } catch (ConnectionLimits.Refused refused) {
            throw refusal(refused.kind(), refused.limit());
        }
    }

    /** 429 for a client over its own limit, 503 for a full node, each with {@code Retry-After}; counted. */
    private Refusal refusal(ConnectionLimits.Kind kind, int limit) {
        return switch (kind) {
            case ADDRESS -> {
                node.metrics().limited(Metrics.Limit.CONNECTIONS_PER_IP);
                yield new Refusal(HttpStatus.TOO_MANY_REQUESTS.getCode(), "too many connections from this address: it holds "
                        + limit + ", the most " + settings.names().name("maxConnectionsPerIp") + " allows; close one, or "
                        + "try again later", retryAfter(RETRY_AFTER_CLIENT_SECONDS));
            }
            case USER -> {
                node.metrics().limited(Metrics.Limit.CONNECTIONS_PER_USER);
                yield new Refusal(HttpStatus.TOO_MANY_REQUESTS.getCode(), "too many connections for this user: they hold "
                        + limit + ", the most " + settings.names().name("maxConnectionsPerUser") + " allows; close one, or "
                        + "try again later", retryAfter(RETRY_AFTER_CLIENT_SECONDS));
            }
            case TOTAL -> {
                node.metrics().limited(Metrics.Limit.CONNECTIONS);
                yield new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), "this server holds as many connections as it "
                        + "may (" + limit + ", " + settings.names().name("maxConnections") + "); try again later",
                        retryAfter(RETRY_AFTER_FULL_SECONDS));
            }
        };
    }

    /**
     * A plain channel route's upgrade (or SSE request) for a channel that has no subscriber while the node holds
     * {@code --max-channels}: 503 with {@code Retry-After}, since a channel frees its place when it empties.
     */
    Refusal noRoomForChannel() {
        node.metrics().limited(Metrics.Limit.CHANNELS);
        return new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), channelLimit(settings),
                retryAfter(RETRY_AFTER_FULL_SECONDS));
    }

    /** What a client is told when a new channel does not fit {@code --max-channels}, in every protocol. */
    static String channelLimit(NodeSettings settings) {
        return "this server holds as many channels as it may (" + settings.maxChannels() + ", "
                + settings.names().name("maxChannels") + "): a channel without subscribers cannot be started until "
                + "another one empties; try again later";
    }

    private static Map<String, String> retryAfter(int seconds) {
        return Map.of("Retry-After", Integer.toString(seconds));
    }
}
