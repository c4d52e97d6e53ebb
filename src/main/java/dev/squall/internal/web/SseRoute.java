package dev.squall.internal.web;

import dev.squall.internal.auth.Credentials;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.Recovery;
import dev.squall.internal.hub.Subscribed;
import dev.squall.internal.hub.TooManyChannels;
import dev.squall.internal.limit.ConnectionLimits;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import org.eclipse.jetty.ee10.servlet.ServletChannel;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * {@code GET /sse/{channel}}: one channel as Server-Sent Events, for pages that only listen ({@code new
 * EventSource(url)}). Each stream is a hub {@link Connection} like a WebSocket's, with the same queue bounds,
 * slow-consumer policy, heartbeat and stop; only its {@link SseWire} and {@link SseFraming} differ.
 *
 * <p>Where a stream starts: the {@code Last-Event-ID} header (an EventSource reconnecting sends the id of the
 * last event it got, {@code OFFSET:EPOCH}), else the {@code lastEventId} query parameter (a first connection,
 * which cannot set headers), else {@code since}/{@code epoch} as on {@code /ws/{channel}}, else from now. A
 * malformed header is not refused: an EventSource would send it again on every reconnect, and it gives up for
 * good on any answer but 200, so the stream starts from now with {@code recovered: false}. Query parameters are
 * the page's own, so a malformed one is a 400 that names the rule.
 *
 * <p>A plain {@code GET} without {@code Accept: text/event-stream} is served the stream too ({@code curl -N}).
 */
public final class SseRoute {

    private static final Logger log = LoggerFactory.getLogger(SseRoute.class);
    static final String LAST_EVENT_ID = "Last-Event-ID";
    private static final QueryParameters QUERY = QueryParameters.of("lastEventId", "since", "epoch", ConnectGate.TOKEN_PARAM);

    private final String path;
    private final Node node;
    private final RequestGuard guard;
    private final ConnectGate gate;
    private final AtomicLong ids = new AtomicLong();
    private final Set<String> streams = ConcurrentHashMap.newKeySet();
    /** The streams whose token expires, by id: cancelled when the stream ends first. */
    private final ConcurrentHashMap<String, Expiry> expiries = new ConcurrentHashMap<>();
    private final Admission admission;

    SseRoute(String path, Node node, RequestGuard guard, ConnectGate gate) {
        this.path = path;
        this.node = node;
        this.guard = guard;
        this.gate = gate;
        this.admission = new Admission(node);
    }

    void mount(RoutesConfig routes) {
        routes.get(path, Endpoints.guarded(this::open));
        // Each stream is a hub connection, so squall_connections counts it too; this says how many are SSE.
        node.metrics().watchSseStreams(streams::size);
    }

    /** Tornado's closest: a {@code RequestHandler} that keeps its response open and {@code flush()}es events. */
    private void open(Context ctx) throws IOException {
        guard.applyCors(ctx);                        // an EventSource from another page is a CORS request
        String channel = ctx.pathParam("channel");
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), problem);
        Start start = start(ctx);
        // Refused, an EventSource gives up for good, which is right for a client that is not allowed.
        Credentials credentials = java.util.Objects.requireNonNull(gate.admit(ctx, false));
        if (!node.access().maySubscribe(credentials, channel, null)) throw ConnectGate.forbidden(channel, "subscribe to");

        streamHeaders(ctx);
        if (!node.brokerConnected(channel)) {
            // Not a 503: an EventSource gives up for good on one. A stream that ends is retried after the hint.
            ctx.result(unavailable());
            return;
        }
        if (!node.hub().hasRoomFor(channel)) {
            // The same for --max-channels: places come free as channels empty, and the EventSource comes back.
            node.metrics().limited(dev.squall.internal.hub.Metrics.Limit.CHANNELS);
            ctx.result(endedStream(Admission.channelLimit(node.settings())));
            return;
        }

        // 429 or 503 before the stream starts; from here on, the stream's end gives the place back.
        ConnectionLimits.Permit permit = admission.admitStream(ctx);
        admission.identify(ctx, credentials.identity());                 // 429 past the user's limit
        AsyncContext async;
        CompletableFuture<Void> finished = new CompletableFuture<>();
        ServletChannel servletChannel;
        boolean ownConnection;
        ServletOutputStream out;
        try {
            // Started here with no timeout, so Javalin's asyncTimeout (an app's setting for its own futures) does not
            // cut streams; Javalin completes the request when the future below does.
            async = ctx.req().startAsync();
            async.setTimeout(0);
            ctx.future(() -> finished);

            servletChannel = ServletContextRequest.getServletContextRequest(ctx.req()).getServletChannel();
            // Over HTTP/2 the end point is the whole connection, shared with other requests: left as it is.
            ownConnection = ctx.req().getProtocol().startsWith("HTTP/1");
            if (ownConnection) servletChannel.getEndPoint().setIdleTimeout(idleTimeoutMillis());
            out = ctx.res().getOutputStream();
        } catch (RuntimeException | IOException e) {
            permit.release();
            throw e;
        }

        String id = "sse-" + ids.incrementAndGet();
        Hub hub = node.hub();
        SseWire wire = new SseWire(out, servletChannel, (code, cleanly) -> {
            // In this order, and the other way round on opening: an SSE stream is always also a connection, so
            // squall_sse_streams is never above squall_connections, and is already down once the hub has let go.
            streams.remove(id);
            Expiry expiry = expiries.remove(id);
            if (expiry != null) expiry.cancel();
            hub.leave(id, code);
            permit.release();
            log.debug("SSE stream {} on {} ended ({}{})", id, channel, code, cleanly ? "" : ", cut");
            // The async cycle is ended here, and Javalin's future is left alone (nothing else holds it): completing it
            // would have Javalin finish the request (after-handlers, request log) on a container thread, and when the
            // client went at the same moment Jetty had recycled the request by then; Javalin's error handling of that
            // looped on the thread for good, writing gigabytes of log (seen with a stop right after streams ended).
            completeQuietly(async);
        });
        async.addListener(new ResponseOver(wire));
        Connection connection = hub.connect(wire, id, SseFraming.EVENTS);
        connection.identify(credentials.identity());
        streams.add(id);
        if (credentials.expiresAt() != null) {
            // The stream ends at expiry; the EventSource comes back, and its token decides again.
            Expiry expiry = new Expiry(node.timer(), connection, Expiry.EXPIRED, "token expired");
            expiries.put(id, expiry);
            expiry.set(credentials.expiresAt());
            if (!connection.isOpen()) expiries.remove(id, expiry);
        }
        out.setWriteListener(wire);
        try {
            hub.subscribe(connection, channel, start.recovery(), start.firstEvent());
        } catch (Unavailable e) {
            // Redis was lost since the check above: the stream ends, and the EventSource comes back later.
            connection.close(1013, "Redis is unavailable");
            return;
        } catch (TooManyChannels e) {
            connection.close(1013, "too many channels");                 // the last place went since the check
            return;
        }
        hub.opened(connection);
        // Last: a client that has already gone is then told about at once, with the stream fully set up.
        if (ownConnection) wire.watchForHangup();
        if (log.isDebugEnabled()) log.debug("SSE stream {} opened on {} from {}", id, channel, ctx.req().getRemoteAddr());
    }

    /** A whole stream while Redis is lost: the retry hint and a comment (an EventSource shows neither), then its end. */
    private static String unavailable() {
        return endedStream(Endpoints.UNAVAILABLE);
    }

    /** A stream that ends at once, saying why in a comment, and when to come back. */
    private static String endedStream(String why) {
        return "retry: " + SseFraming.RETRY_MILLIS + "\n: " + why + "\n\n";
    }

    private static void streamHeaders(Context ctx) {
        ctx.status(HttpStatus.OK);
        ctx.contentType("text/event-stream;charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");        // nginx would otherwise hold events back
        // The connection ends with the stream: its idle timeout is the stream's, not one for a reused connection.
        ctx.header("Connection", "close");
    }

    /**
     * Jetty applies the idle timeout to a stream only while a write is pending (checked: a quiet stream outlives the
     * connector's 30 s), so it is a backstop for a stuck write. As for WebSockets, the heartbeat and the write timeout
     * decide first: with a heartbeat, ping interval + timeout + 30 s; without one, none (the write timeout and the
     * queue bounds still hold, and {@code writeTimeout = 0} means off).
     */
    private long idleTimeoutMillis() {
        NodeSettings settings = node.settings();
        return settings.heartbeatEnabled() ? settings.pingInterval().plus(settings.pingTimeout()).plusSeconds(30).toMillis() : 0;
    }

    private static void completeQuietly(AsyncContext async) {
        try {
            async.complete();
        } catch (IllegalStateException alreadyOver) {
            // Jetty has completed it already.
        }
    }

    /** Where the stream starts, and how its first event says so. */
    private record Start(Recovery recovery, Function<Subscribed, @Nullable Message> firstEvent) {
    }

    private static Start start(Context ctx) {
        QUERY.check(ctx);
        String lastEventId = ctx.queryParam("lastEventId");
        String since = ctx.queryParam("since");
        String epoch = ctx.queryParam("epoch");
        if (lastEventId != null && (since != null || epoch != null)) {
            throw new Refusal(HttpStatus.BAD_REQUEST.getCode(),
                    "lastEventId and since/epoch both say where to start: send one of them");
        }
        // Checked even when the header decides: the page's own URL should be right on every connection.
        Recovery fromQuery = lastEventId != null ? fromQueryId(lastEventId) : RecoveryParams.from(since, epoch);
        String header = ctx.header(LAST_EVENT_ID);
        if (header == null || header.isEmpty()) return new Start(fromQuery, SseFraming::subscribed);
        Recovery fromHeader = lastEventId(header);
        if (fromHeader != null) return new Start(fromHeader, SseFraming::subscribed);
        log.debug("Unusable Last-Event-ID '{}': the stream starts from now, not recovered", WholeNumber.shown(header));
        return new Start(Recovery.FROM_NOW, started -> SseFraming.subscribed(
                new Subscribed(started.channel(), started.position(), started.after(), false)));
    }

    private static Recovery fromQueryId(String lastEventId) {
        Recovery recovery = lastEventId(lastEventId);
        if (recovery == null) {
            throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), "lastEventId must be an event id as the server sent it, "
                    + "OFFSET:EPOCH or OFFSET (an offset is a whole number from 0), got '" + WholeNumber.shown(lastEventId) + "'");
        }
        return recovery;
    }

    /**
     * {@code OFFSET:EPOCH} as this server writes ids, or a bare {@code OFFSET} (no epoch check): the recovery it
     * asks for, or null when it is neither.
     */
    static @Nullable Recovery lastEventId(String id) {
        int colon = id.indexOf(':');
        String offset = colon < 0 ? id : id.substring(0, colon);
        String epoch = colon < 0 ? "" : id.substring(colon + 1);
        long after = WholeNumber.parse(offset);
        if (after < 0 || epoch.length() > RecoveryParams.MAX_EPOCH_LENGTH || epoch.indexOf(':') >= 0) return null;
        return Recovery.since(after, epoch.isEmpty() ? null : epoch);
    }

    /** The container's word that the response is over, whichever way: the wire ends (once) if it has not yet. */
    private static final class ResponseOver implements AsyncListener {
        private final SseWire wire;

        ResponseOver(SseWire wire) {
            this.wire = wire;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            wire.onError(new IOException("the response completed"));
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            wire.onError(new IOException("the response timed out"));
        }

        @Override
        public void onError(AsyncEvent event) {
            wire.onError(event.getThrowable() != null ? event.getThrowable() : new IOException("the response failed"));
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // Not started again: nothing to do.
        }
    }
}
