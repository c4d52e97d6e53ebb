package dev.squall.internal.web;

import dev.squall.PublishAccess;
import dev.squall.Published;
import dev.squall.internal.auth.Access;
import dev.squall.internal.auth.Credentials;
import dev.squall.internal.auth.TokenRejected;
import dev.squall.internal.auth.TokenVerifier;
import dev.squall.internal.auth.VerifiedToken;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.broker.TooManyIdempotencyKeys;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.hub.TooManyChannels;
import dev.squall.internal.node.InOrder;
import dev.squall.internal.node.Node;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.Command;
import dev.squall.internal.protocol.ErrorCode;
import dev.squall.internal.protocol.ProtocolError;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code squall.v1} connection's commands: subscribe, unsubscribe, publish, presence and ping, each answered
 * with a reply carrying its id, or an error reply with a code; no command closes the connection. It starts on no
 * channel. Subscriptions go through the hub, whose recovery queues the {@code subscribed} reply first, then what
 * the client missed, then the live stream.
 *
 * <p>On a secured server a connection whose upgrade brought no token starts unidentified: its first command must be
 * {@code connect} with a token, within the connect deadline. A connection token's {@code exp} closes the connection
 * (3005) unless a {@code refresh} with a fresh token for the same user comes first; a subscription token's closes it
 * (3006) unless refreshed with its channel.
 *
 * <p>Threading: each frame's command is queued to the connection's {@link InOrder} queue, which runs them one at a
 * time, in order, on the node's command threads (on the Jetty thread itself when the broker never waits), so the
 * set of channels is only touched by one thread at a time; the hub takes the connection off every channel when
 * it leaves.
 */
public final class ProtocolSession {

    private static final Logger log = LoggerFactory.getLogger(ProtocolSession.class);

    private final Connection connection;
    private final Node node;
    private final Access access;
    private final Codec codec;
    private final PublishPolicy.@Nullable Denial denial;
    private final Set<String> channels = new HashSet<>();
    private final InOrder commands;
    // Written by the command that connects or refreshes; read by the connect deadline's timer too.
    private volatile @Nullable Credentials credentials;
    private final Expiry expiry;
    // Concurrent: the commands write it, and closing cancels what it holds from Jetty's thread.
    private final Map<String, Expiry> subscriptionExpiries = new java.util.concurrent.ConcurrentHashMap<>();
    private final @Nullable ScheduledFuture<?> connectDeadline;
    /** Counts the user a {@code connect} proves against {@code --max-connections-per-user}. */
    private final Admission admission;
    private final Admission.Admitted admitted;

    /** The token was refused (Centrifugo's code: do not reconnect with the same token). */
    static final int INVALID_TOKEN = 3500;
    /** No {@code connect} came within the deadline (Centrifugo's code). */
    static final int STALE = 3502;

    /**
     * @param denial      why the upgrade request may neither publish nor read channels under the publish policy (the
     *                    policy's words for an open server's refusals), or null when it may
     * @param credentials what the upgrade proved, or null when the client must send {@code connect} first
     * @param admission   the route's connection limits, which count the user a {@code connect} proves
     * @param admitted    what this connection holds under them
     */
    ProtocolSession(Connection connection, Node node, Codec codec, PublishPolicy.@Nullable Denial denial,
                    @Nullable Credentials credentials, Admission admission, Admission.Admitted admitted) {
        this.connection = connection;
        this.admission = admission;
        this.admitted = admitted;
        this.node = node;
        this.access = node.access();
        this.codec = codec;
        this.denial = denial;
        this.credentials = credentials;
        this.commands = new InOrder(node.commandThreads(), MAX_WAITING_COMMANDS);
        this.expiry = new Expiry(node.timer(), connection, Expiry.EXPIRED, "token expired");
        if (credentials != null) {
            expiry.set(credentials.expiresAt());
            connectDeadline = null;
        } else {
            Duration deadline = node.settings().auth().connectTimeout();
            connectDeadline = schedule(() -> {
                if (this.credentials == null) connection.close(STALE, "no connect command within " + deadline.toSeconds() + " s");
            }, deadline);
        }
    }

    private @Nullable ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        try {
            return node.timer().schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            return null;
        }
    }

    /** The connection is gone: its deadlines go too. */
    void closed() {
        if (connectDeadline != null) connectDeadline.cancel(false);
        expiry.cancel();
        subscriptionExpiries.values().forEach(Expiry::cancel);
    }

    /** A text frame (Tornado: {@code on_message}): one command, and its reply or error, in turn. */
    void onText(String text) {
        queue(() -> handle(text));
    }

    /** A binary frame: the protocol is JSON text only. */
    void onBinary() {
        queue(() -> connection.send(codec.error(new ProtocolError(null, ErrorCode.BAD_JSON,
                "squall.v1 frames are JSON text; binary frames are not commands (publish bytes as base64 in data)"))));
    }

    private void queue(Runnable command) {
        if (commands.run(() -> {
            if (connection.isOpen()) command.run();
        })) {
            return;
        }
        // It sends faster than the server answers (Redis slow, or a flood): 1013, try again later (RFC 6455 7.4.1).
        log.debug("squall.v1 connection {} has {} commands waiting; closed", connection.id(), MAX_WAITING_COMMANDS);
        connection.close(TRY_AGAIN_LATER, "too many commands waiting; reconnect and send fewer at a time");
    }

    private static final int TRY_AGAIN_LATER = 1013;
    /** Commands one connection may have waiting: far more than a client that reads its replies ever has. */
    public static final int MAX_WAITING_COMMANDS = 256;

    private void handle(String text) {
        Long id = null;
        try {
            Command command = codec.decode(text);
            id = command.id();
            run(command);
        } catch (ProtocolError e) {
            connection.send(codec.error(e));
        } catch (Unavailable e) {
            // Redis is lost: this command failed, the connection and its other subscriptions go on.
            connection.send(codec.error(new ProtocolError(id, ErrorCode.UNAVAILABLE, Endpoints.UNAVAILABLE)));
        } catch (TooManyIdempotencyKeys e) {
            connection.send(codec.error(new ProtocolError(id, ErrorCode.UNAVAILABLE, e.getMessage())));
        } catch (TooManyChannels e) {
            connection.send(codec.error(new ProtocolError(id, ErrorCode.CHANNEL_LIMIT, Admission.channelLimit(node.settings()))));
        } catch (RuntimeException e) {
            log.warn("A squall.v1 command on connection {} failed", connection.id(), e);
            connection.send(codec.error(new ProtocolError(id, ErrorCode.INTERNAL, "internal error")));
        }
    }

    private void run(Command command) {
        if (command instanceof Command.Connect connect) {
            connect(connect);
            return;
        }
        if (credentials == null) {
            connection.send(codec.error(new ProtocolError(command.id(), ErrorCode.UNAUTHORIZED,
                    "this server needs a token: send {\"id\":1,\"type\":\"connect\",\"token\":\"...\"} first")));
            connection.close(INVALID_TOKEN, "no token");
            return;
        }
        if (command instanceof Command.Refresh refresh) refresh(refresh);
        else if (command instanceof Command.Subscribe subscribe) subscribe(subscribe);
        else if (command instanceof Command.Unsubscribe unsubscribe) unsubscribe(unsubscribe);
        else if (command instanceof Command.Publish publish) publish(publish);
        else if (command instanceof Command.Presence presence) presence(presence);
        else connection.send(codec.pong(command.id()));
    }

    private void connect(Command.Connect command) {
        if (credentials != null) {
            throw new ProtocolError(command.id(), ErrorCode.BAD_COMMAND, "already connected: connect is the first command "
                    + "of a connection whose upgrade brought no token; to change tokens, send refresh");
        }
        VerifiedToken token = connectionToken(command.id(), command.token());
        if (token == null) return;
        Credentials proved = Credentials.of(token);
        if (!admission.identify(admitted, connection, proved.identity())) return;      // closed with 3504: the user is full
        connection.identify(proved.identity());
        credentials = proved;
        if (connectDeadline != null) connectDeadline.cancel(false);
        expiry.set(proved.expiresAt());
        connection.send(codec.connected(command.id(), proved.identity().user(), proved.expiresAt()));
    }

    private void refresh(Command.Refresh command) {
        Credentials now = java.util.Objects.requireNonNull(credentials);
        if (now.publisher()) {
            throw new ProtocolError(command.id(), ErrorCode.BAD_COMMAND, "this connection holds the publish token, which does not expire");
        }
        String channel = command.channel();
        if (channel != null) {
            refreshSubscription(command, channel, now);
            return;
        }
        VerifiedToken token = connectionToken(command.id(), command.token());
        if (token == null) return;
        if (!token.identity().user().equals(now.identity().user())) {
            refuse(command.id(), ErrorCode.UNAUTHORIZED, "the token is for another user than this connection's");
            return;
        }
        Credentials proved = Credentials.of(token);
        credentials = proved;
        expiry.set(proved.expiresAt());
        connection.send(codec.refreshed(command.id(), null, proved.expiresAt()));
    }

    private void refreshSubscription(Command.Refresh command, String channel, Credentials now) {
        if (!channels.contains(channel)) {
            throw new ProtocolError(command.id(), ErrorCode.NOT_SUBSCRIBED, "not subscribed to '" + channel + "'");
        }
        VerifiedToken token = subscriptionToken(command.id(), command.token(), channel, now);
        subscriptionExpiry(channel).set(token.expiresAt());
        connection.send(codec.refreshed(command.id(), channel, token.expiresAt()));
    }

    /**
     * A connection token (connect, refresh), verified; null when it was refused, which closes the connection: 3005 for
     * an expired one (the client comes back with a fresh one), 3500 for any other.
     */
    private @Nullable VerifiedToken connectionToken(long id, String text) {
        VerifiedToken token;
        try {
            token = verifier(id).verify(text);
        } catch (TokenRejected e) {
            switch (e.reason()) {
                case KEYS_UNAVAILABLE -> throw new ProtocolError(id, ErrorCode.UNAVAILABLE, "the keys that check tokens "
                        + "cannot be fetched now; send it again in a few seconds");
                case EXPIRED -> {
                    connection.send(codec.error(new ProtocolError(id, ErrorCode.TOKEN_EXPIRED, e.getMessage())));
                    connection.close(Expiry.EXPIRED, "token expired");
                }
                default -> refuse(id, ErrorCode.UNAUTHORIZED, "invalid token: " + e.getMessage());
            }
            return null;
        }
        if (token.isSubscriptionToken()) {
            refuse(id, ErrorCode.UNAUTHORIZED, "a subscription token (it has a channel claim) cannot identify a connection");
            return null;
        }
        return token;
    }

    /** A subscription token for {@code channel} and this connection's user, verified; refused with an error reply. */
    private VerifiedToken subscriptionToken(long id, String text, String channel, Credentials who) {
        VerifiedToken token;
        try {
            token = verifier(id).verify(text);
        } catch (TokenRejected e) {
            throw switch (e.reason()) {
                case KEYS_UNAVAILABLE -> new ProtocolError(id, ErrorCode.UNAVAILABLE, "the keys that check tokens cannot "
                        + "be fetched now; send it again in a few seconds");
                case EXPIRED -> new ProtocolError(id, ErrorCode.TOKEN_EXPIRED, e.getMessage());
                default -> new ProtocolError(id, ErrorCode.UNAUTHORIZED, "invalid subscription token: " + e.getMessage());
            };
        }
        if (!channel.equals(token.channel())) {
            throw new ProtocolError(id, ErrorCode.FORBIDDEN, "the token is not a subscription token for '" + channel + "'");
        }
        if (!token.identity().user().equals(who.identity().user())) {
            throw new ProtocolError(id, ErrorCode.FORBIDDEN, "the subscription token is for another user than this connection's");
        }
        return token;
    }

    private TokenVerifier verifier(long id) {
        TokenVerifier verifier = access.tokens();
        if (verifier == null) {
            throw new ProtocolError(id, ErrorCode.BAD_COMMAND, "this server has no token key, so it takes no tokens");
        }
        return verifier;
    }

    /** The error reply, then the close that tells the client not to come back with the same token. */
    private void refuse(long id, ErrorCode code, String message) {
        connection.send(codec.error(new ProtocolError(id, code, message)));
        connection.close(INVALID_TOKEN, "invalid token");
    }

    private Expiry subscriptionExpiry(String channel) {
        return subscriptionExpiries.computeIfAbsent(channel,
                c -> new Expiry(node.timer(), connection, Expiry.SUBSCRIPTION_EXPIRED, "subscription to " + c + " expired"));
    }

    private void subscribe(Command.Subscribe command) {
        Credentials who = java.util.Objects.requireNonNull(credentials);
        String tokenText = command.token();
        VerifiedToken token = tokenText == null ? null : subscriptionToken(command.id(), tokenText, command.channel(), who);
        if (!access.maySubscribe(who, command.channel(), token)) {
            throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, "this connection may not subscribe to '"
                    + command.channel() + "': its token does not grant it" + (access.hooks().authorizes() ? ", nor does the app" : "")
                    + ", and the channel is not public (send a subscription token in \"token\")");
        }
        if (channels.contains(command.channel())) {
            throw new ProtocolError(command.id(), ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to '" + command.channel()
                    + "'; to start again from another position, unsubscribe first");
        }
        int max = node.settings().maxChannelsPerConnection();
        if (channels.size() >= max) {
            throw new ProtocolError(command.id(), ErrorCode.TOO_MANY_CHANNELS, "this connection is on " + channels.size()
                    + " channels, the most one may be on (" + node.settings().names().name("maxChannelsPerConnection")
                    + "); unsubscribe from one first, or open another connection");
        }
        channels.add(command.channel());
        try {
            // The reply is the subscription's first frame, so it precedes the replay and the live stream.
            node.hub().subscribe(connection, command.channel(), command.recovery(), started -> codec.subscribed(command.id(), started));
        } catch (RuntimeException e) {
            channels.remove(command.channel());                // the hub has taken the subscription back too
            throw e;
        }
        if (token != null && token.expiresAt() != null) subscriptionExpiry(command.channel()).set(token.expiresAt());
    }

    private void unsubscribe(Command.Unsubscribe command) {
        if (!channels.remove(command.channel())) {
            throw new ProtocolError(command.id(), ErrorCode.NOT_SUBSCRIBED, "not subscribed to '" + command.channel() + "'");
        }
        node.hub().unsubscribe(connection, command.channel());
        Expiry subscription = subscriptionExpiries.remove(command.channel());
        if (subscription != null) subscription.cancel();
        connection.send(codec.unsubscribed(command.id(), command.channel()));
    }

    /** The gates of an HTTP publish, in the same order, each with its own code. */
    private void publish(Command.Publish command) {
        Credentials who = java.util.Objects.requireNonNull(credentials);
        if (!access.mayPublish(who, command.channel(), channels.contains(command.channel()))) {
            throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, publishRefusal(command.channel()));
        }
        if (node.draining()) {
            throw new ProtocolError(command.id(), ErrorCode.UNAVAILABLE, "shutting down: this server takes no more publishes");
        }
        Message message = command.message();
        long max = node.settings().maxPublishBytes();
        if (message.size() > max) {
            throw new ProtocolError(command.id(), ErrorCode.TOO_LARGE, "data of " + message.size() + " bytes is larger than "
                    + node.settings().names().name("maxPublishBytes") + " (" + max + " bytes)");
        }
        String framed = node.framedTooLarge(command.channel(), message, "data");
        if (framed != null) throw new ProtocolError(command.id(), ErrorCode.TOO_LARGE, framed);
        if (Notice.isReserved(message)) throw new ProtocolError(command.id(), ErrorCode.RESERVED, Node.reservedRule("data"));
        Published published;
        try {
            published = node.publishAdmitted(command.channel(), message, command.idempotencyKey());
        } catch (Unavailable e) {
            throw e;
        } catch (IllegalStateException stopped) {
            throw new ProtocolError(command.id(), ErrorCode.UNAVAILABLE, "shutting down: this server takes no more publishes");
        }
        connection.send(codec.published(command.id(), published.channel(),
                new StreamPosition(published.offset(), published.epoch()), published.delivered(), published.duplicate()));
    }

    /**
     * A channel's subscribers and distinct users over all nodes, and its position: the server's view, so guarded as a read of channels (as
     * {@code GET /channels/{c}} is), except on channels whose namespace has presence on, where subscribers hear who
     * comes and goes anyway.
     */
    private void presence(Command.Presence command) {
        Credentials who = java.util.Objects.requireNonNull(credentials);
        String channel = command.channel();
        if (!access.mayRead(who, channel, channels.contains(channel), node.settings().presence(channel))) {
            if (access.rule(channel).read() == null && denial != null) {
                throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, "the presence of '" + channel
                        + "' is shown to connections that may read channels, or in a namespace with presence on; "
                        + denial.message(PublishPolicy.Action.READ));
            }
            throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, "this connection may not read '" + channel
                    + "': subscribe to it first, or connect with a token that grants it");
        }
        StreamPosition position = node.history(command.channel(), Long.MAX_VALUE, 0).position();
        connection.send(codec.presence(command.id(), command.channel(), node.presence(command.channel()), position));
    }

    /** Why this connection may not publish to {@code channel}, in terms of what would allow it. */
    private String publishRefusal(String channel) {
        PublishAccess rule = access.rule(channel).publish();
        if (rule == PublishAccess.NONE) {
            if (denial != null && !access.secured()) return denial.message(PublishPolicy.Action.PUBLISH);
            return "publishing to '" + channel + "' needs the publish token: its namespace lets no connection publish "
                    + "(publish: none)";
        }
        if (!channels.contains(channel)) return "subscribe to '" + channel + "' first: its subscribers may publish to it";
        return "the app does not let this connection publish to '" + channel + "'";
    }
}
