package dev.squall.internal.web;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.squall.Published;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.TooManyIdempotencyKeys;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.node.Node;
import dev.squall.internal.node.NodeSettings;
import dev.squall.internal.policy.HostPolicy;
import dev.squall.internal.policy.OriginPolicy;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.V1Framing;
import io.javalin.config.JavalinState;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mounts what the plugin's settings ask for on the app's router: the WebSocket routes, the publish route, the
 * probes and metrics, and the node's start and stop on the server's events. Squall's routes answer their own
 * refusals ({@link Refusal}), so an app's error handling neither changes them nor is changed by them.
 */
public final class Endpoints {

    private static final Logger log = LoggerFactory.getLogger(Endpoints.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Node node;
    private final JavalinState state;
    private final NodeSettings settings;
    private final RequestGuard guard;
    private final PublishPolicy publishPolicy;
    private final ConnectGate gate;
    private final PublishDecoder decoder;
    private final V1Framing v1;

    public Endpoints(Node node, JavalinState state, Protocols protocols) {
        this.node = node;
        this.state = state;
        this.settings = node.settings();
        OriginPolicy origins = new OriginPolicy(settings.allowedOrigins());
        HostPolicy hosts = new HostPolicy(settings.allowedHosts());
        this.guard = new RequestGuard(origins, hosts, settings.checkHosts(), 600, settings.names());
        this.publishPolicy = new PublishPolicy(settings.publishToken(), origins, hosts, settings.names());
        this.gate = new ConnectGate(node.access(), publishPolicy, settings.auth().tokenCookie());
        this.decoder = new PublishDecoder(JSON, settings.maxPublishBytes(), settings.names());
        this.v1 = protocols.v1();
    }

    public void mount() {
        RoutesConfig routes = state.routes;
        routes.exception(Refusal.class, this::answer);
        settings.routes().forEach((path, handlers) -> new SocketRoute(path, handlers, node, guard, publishPolicy, gate, v1).mount(routes));
        try {
            mountHttp(routes);
        } catch (IllegalArgumentException e) {
            // Javalin's "Handler with type='GET' and path='/metrics' already exists": say whose route it is.
            throw new IllegalArgumentException("SquallPlugin: the app already has a route on one of the paths Squall was "
                    + "asked to mount (" + e.getMessage() + "); set publishPath, metricsPath, healthPath, readyPath, "
                    + "publishApiPath, channelsPath, disconnectPath, ssePath or clientPath to another path, or to null", e);
        }
        state.events.serverStarted(node::start);
        // Javalin fires serverStopping on the stopping thread before it stops Jetty, so the connectors are still
        // open while it runs: the drain window goes here.
        state.events.serverStopping(node::stopping);
        state.events.serverStopped(node::release);
        state.events.serverStopFailed(node::release);
    }

    /** {@code GET /receive?msg=X&channel=C}; a {@code POST} takes the message from its body. */
    private static final QueryParameters PUBLISH_QUERY = QueryParameters.of("msg", "channel");
    private static final QueryParameters PUBLISH_BODY_QUERY = QueryParameters.of("channel");
    private static final QueryParameters CHANNEL_LIST_QUERY = QueryParameters.of("limit");
    private static final QueryParameters HISTORY_QUERY = QueryParameters.of("since", "limit", ConnectGate.TOKEN_PARAM);
    private static final QueryParameters CHANNEL_QUERY = QueryParameters.of(ConnectGate.TOKEN_PARAM);

    /**
     * A channel's count, position and history are the server's view: the publish right reads them, and so does whoever
     * the channel's read rule allows, with a token that grants the channel on a secured server.
     */
    private void checkRead(Context ctx, String channel) {
        PublishPolicy.Denial denial = publishPolicy.denial(ctx);
        if (denial == null) return;
        boolean tokenSent = gate.secured() && gate.tokenOf(ctx) != null;
        if (node.access().mayRead(gate.reader(ctx), channel, false, false)) return;
        if (tokenSent) throw ConnectGate.forbidden(channel, "read");
        throw denial.refusal(PublishPolicy.Action.READ);
    }

    private void mountHttp(RoutesConfig routes) {
        String publish = settings.publishPath();
        if (publish != null) {
            routes.before(publish, guarded(guard::applyCors));
            routes.get(publish, guarded(ctx -> {
                publishPolicy.check(ctx, PublishPolicy.Action.PUBLISH);
                PUBLISH_QUERY.check(ctx);
                String channel = decoder.channelOf(ctx);
                publishTo(ctx, channel, decoder.fromQuery(ctx));
            }));
            routes.post(publish, guarded(ctx -> {
                publishPolicy.check(ctx, PublishPolicy.Action.PUBLISH);
                PUBLISH_BODY_QUERY.check(ctx);
                String channel = decoder.channelOf(ctx);
                publishTo(ctx, channel, decoder.fromBody(ctx));
            }));
            // A browser publishing from another listed origin asks first.
            routes.addHttpHandler(HandlerType.OPTIONS, publish, ctx -> ctx.status(HttpStatus.NO_CONTENT));
        }
        String api = settings.publishApiPath();
        if (api != null) {
            routes.before(api, guarded(guard::applyCors));
            routes.post(api, guarded(ctx -> {
                publishPolicy.check(ctx, PublishPolicy.Action.PUBLISH);
                QueryParameters.NONE.check(ctx);
                PublishDecoder.ChannelPublish request = decoder.fromApi(ctx);
                respond(ctx, published(toChannel(request.channel(), request.message(), request.idempotencyKey(), "data")));
            }));
            routes.addHttpHandler(HandlerType.OPTIONS, api, ctx -> ctx.status(HttpStatus.NO_CONTENT));
        }
        String disconnect = settings.disconnectPath();
        if (disconnect != null) {
            // Closing a user's connections is the server's to decide, as publishing is: the same guard, in its words.
            routes.before(disconnect, guarded(guard::applyCors));
            routes.post(disconnect, guarded(ctx -> {
                publishPolicy.check(ctx, PublishPolicy.Action.DISCONNECT);
                QueryParameters.NONE.check(ctx);
                String user = decoder.userOf(ctx);
                respond(ctx, Map.of("disconnected", node.disconnect(user)));
            }));
            routes.addHttpHandler(HandlerType.OPTIONS, disconnect, ctx -> ctx.status(HttpStatus.NO_CONTENT));
        }
        String sse = settings.ssePath();
        if (sse != null) new SseRoute(sse, node, guard, gate).mount(routes);
        String channels = settings.channelsPath();
        if (channels != null) {
            // Channel names, counts and history are the server's view, not a subscriber's: the publish policy guards them
            // too, and says so in terms of reading.
            routes.get(channels, guarded(ctx -> {
                publishPolicy.check(ctx, PublishPolicy.Action.READ);
                CHANNEL_LIST_QUERY.check(ctx);
                channelList(ctx);
            }));
            routes.get(channels + "/{channel}", guarded(ctx -> {
                CHANNEL_QUERY.check(ctx);
                checkRead(ctx, channelParam(ctx));
                channelInfo(ctx);
            }));
            routes.get(channels + "/{channel}/history", guarded(ctx -> {
                HISTORY_QUERY.check(ctx);
                checkRead(ctx, channelParam(ctx));
                history(ctx);
            }));
        }
        if (settings.clientPath() != null) routes.get(settings.clientPath(), new BrowserClient()::serve);
        if (settings.metricsPath() != null) {
            routes.get(settings.metricsPath(), ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(node.metrics().scrape()));
        }
        if (settings.healthPath() != null) {
            routes.get(settings.healthPath(), ctx -> respond(ctx, Map.of("status", "up")));
        }
        if (settings.readyPath() != null) {
            routes.get(settings.readyPath(), guarded(ctx -> {
                if (!node.ready()) {
                    throw new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(),
                            node.brokerConnected() ? "not ready" : "not ready: Redis is unavailable");
                }
                respond(ctx, Map.of("status", "ready"));
            }));
        }
    }

    /** {@code /receive}: to the broadcast channel as the tutorial does, or to {@code ?channel=}. */
    private void publishTo(Context ctx, @Nullable String channel, Message message) {
        if (channel == null) {
            admit(message, "msg");
            respond(ctx, Map.of("delivered", node.broadcastAdmitted(message)));
        } else {
            respond(ctx, published(toChannel(channel, message, null, "the message")));
        }
    }

    /** A publish to a named channel (its name and size checked): the gates below, then 413 for a framed size. */
    private Published toChannel(String channel, Message message, @Nullable String idempotencyKey, String field) {
        admit(message, field);
        String framed = node.framedTooLarge(channel, message, field);
        if (framed != null) throw new Refusal(HttpStatus.CONTENT_TOO_LARGE.getCode(), framed);
        return node.publishAdmitted(channel, message, idempotencyKey);
    }

    /**
     * The gates of every HTTP publish: 503 while the node drains, with the window as {@code Retry-After} (by then a
     * balancer routes elsewhere), and 400 for a forged notice (named as its field).
     */
    private void admit(Message message, String field) {
        if (node.draining()) {
            throw new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), "shutting down",
                    Map.of("Retry-After", Long.toString(Math.max(1, node.drainWindow().toSeconds()))));
        }
        if (Notice.isReserved(message)) throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), Node.reservedRule(field));
    }

    private static Map<String, Object> published(Published result) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("channel", result.channel());
        body.put("offset", result.offset());
        body.put("epoch", result.epoch());
        body.put("delivered", result.delivered());
        if (result.duplicate()) body.put("duplicate", true);
        return body;
    }

    static final int MAX_HISTORY_LIMIT = 1000;

    /** {@code GET /channels/{c}/history?since=&limit=}: publications after {@code since}, oldest first, and the position. */
    private void history(Context ctx) {
        String channel = channelParam(ctx);
        long since = number(ctx.queryParam("since"), "since", 0, Long.MAX_VALUE, 0);
        int limit = (int) number(ctx.queryParam("limit"), "limit", 1, MAX_HISTORY_LIMIT, 100);
        History history = node.history(channel, since, limit);
        ObjectNode body = JSON.createObjectNode();
        body.put("channel", channel);
        body.put("offset", history.position().offset());
        body.put("epoch", history.position().epoch());
        ArrayNode publications = body.putArray("publications");
        for (Publication publication : history.publications()) publications.addPOJO(new HistoryEntry(publication));
        respond(ctx, body);
    }

    /** One publication of a history answer, {@code {"offset", "data"[, "encoding"]}}: its data as squall.v1 shows it. */
    private record HistoryEntry(Publication publication) implements JsonSerializable {
        @Override
        public void serialize(JsonGenerator g, SerializerProvider serializers) throws IOException {
            g.writeStartObject();
            g.writeNumberField("offset", publication.offset());
            Codec.writeData(g, publication.message());
            g.writeEndObject();
        }

        @Override
        public void serializeWithType(JsonGenerator g, SerializerProvider serializers, TypeSerializer typeSer) throws IOException {
            serialize(g, serializers);
        }
    }

    static final int MAX_CHANNEL_LIST = 1000;

    /**
     * {@code GET /channels?limit=}: channels with subscribers on this node, by name, with this node's counts: the
     * list needs no Redis, and a channel's count over all nodes is one {@code GET /channels/{c}} away.
     */
    private void channelList(Context ctx) {
        int limit = (int) number(ctx.queryParam("limit"), "limit", 1, MAX_CHANNEL_LIST, MAX_CHANNEL_LIST);
        ObjectNode body = JSON.createObjectNode();
        ArrayNode list = body.putArray("channels");
        java.util.SortedMap<String, Integer> counts = node.hub().channelSubscribers();
        counts.entrySet().stream().limit(limit).forEach(entry -> list.addObject()
                .put("channel", entry.getKey()).put("subscribers", entry.getValue()));
        body.put("more", counts.size() > limit);
        respond(ctx, body);
    }

    /** {@code GET /channels/{c}}: its subscribers and distinct users over all nodes, and its stream's position. */
    private void channelInfo(Context ctx) {
        String channel = channelParam(ctx);
        History position = node.history(channel, Long.MAX_VALUE, 0);
        Presence presence = node.presence(channel);
        ObjectNode body = JSON.createObjectNode();
        body.put("channel", channel);
        body.put("subscribers", presence.subscribers());
        body.put("users", presence.users());
        body.put("offset", position.position().offset());
        body.put("epoch", position.position().epoch());
        respond(ctx, body);
    }

    private static String channelParam(Context ctx) {
        String channel = ctx.pathParam("channel");
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), problem);
        return channel;
    }

    /** A whole-number query parameter within bounds, or its default when absent; 400 naming it otherwise. */
    private static long number(@Nullable String value, String name, long min, long max, long absent) {
        if (value == null) return absent;
        long parsed = WholeNumber.parse(value);
        if (parsed < min || parsed > max) {
            throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), name + " must be a whole number from " + min
                    + (max == Long.MAX_VALUE ? "" : " to " + max) + ", got '" + WholeNumber.shown(value) + "'");
        }
        return parsed;
    }

    /** One line on who may publish, for the start-up log. */
    public String describePublishing() {
        return publishPolicy.describe();
    }

    /** Squall's refusals, whichever check raised them: their status and headers, and {@code {"error": ...}}. */
    private void answer(Refusal e, Context ctx) {
        if (e.getStatus() == HttpStatus.CONTENT_TOO_LARGE.getCode()) {
            // Counted, and logged at debug only: a WARN per refusal would let any client fill the log.
            node.metrics().tooLarge();
            log.debug("Refused a request body over {} bytes: {} {} from {}", settings.maxPublishBytes(), ctx.method(),
                    ctx.path(), ctx.req().getRemoteAddr());
        }
        e.headers.forEach(ctx::header);
        ctx.status(e.getStatus());
        respond(ctx, Map.of("error", e.getMessage()));
        if (isUpgradeRequest(ctx)) writeResultNow(ctx);
    }

    /** Squall's own JSON writer, so its answers do not depend on the app's JSON mapper. */
    private static void respond(Context ctx, Object body) {
        try {
            ctx.contentType("application/json").result(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("maps of strings and numbers, and JSON trees, are always JSON", e);
        }
    }

    /**
     * A handler whose refusals are Squall's, and whose failures are a 500 with a fixed text (the details go to the
     * log, not to the client).
     */
    static Handler guarded(Handler handler) {
        return ctx -> {
            try {
                handler.handle(ctx);
            } catch (Refusal e) {
                throw e;
            } catch (HttpResponseException e) {
                throw Refusal.of(e);
            } catch (Unavailable e) {
                // The broker logged the loss once; a line per refused request would flood the log while Redis is away.
                log.debug("{} {} refused: {}", ctx.method(), ctx.path(), e.getMessage());
                throw unavailable();
            } catch (TooManyIdempotencyKeys e) {
                throw new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), e.getMessage(),
                        Map.of("Retry-After", Integer.toString(KEYS_RETRY_AFTER_SECONDS)));
            } catch (Exception e) {
                log.error("Unexpected error on {} {}", ctx.method(), ctx.path(), e);
                throw new Refusal(HttpStatus.INTERNAL_SERVER_ERROR.getCode(), "internal server error");
            }
        };
    }

    /** How long a keyed publish refused for want of room among the idempotency keys waits (keys expire one by one). */
    static final int KEYS_RETRY_AFTER_SECONDS = 5;

    /** How long a client should wait before it tries again while Redis is lost (Lettuce retries within seconds). */
    static final int RETRY_AFTER_SECONDS = 2;

    /** 503 with {@code Retry-After}: the broker cannot reach Redis now (a publish that timed out may have gone through). */
    static Refusal unavailable() {
        return new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), UNAVAILABLE,
                Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }

    /** What a client is told while Redis is lost, over HTTP and in {@code squall.v1}. */
    static final String UNAVAILABLE = "Redis is unavailable; try again in a few seconds "
            + "(a publish with an idempotency key is safe to retry)";

    /** Javalin sends a request down its WebSocket path, where nothing writes a handler's result, on this header. */
    private static boolean isUpgradeRequest(Context ctx) {
        return ctx.header("Sec-WebSocket-Version") != null;
    }

    /** A refused upgrade would otherwise reach the client as a status with an empty body. */
    public static void writeResultNow(Context ctx) {
        try (InputStream result = ctx.resultInputStream()) {
            if (result != null) result.transferTo(ctx.res().getOutputStream());
        } catch (IOException e) {
            log.debug("Could not write the refusal of a WebSocket upgrade: {}", e.toString());
        }
    }
}
