package dev.squall.internal.web;

import dev.squall.Published;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.broker.TooManyIdempotencyKeys;
import dev.squall.internal.broker.Unavailable;
import dev.squall.internal.hub.Connection;
import dev.squall.internal.hub.Notice;
import dev.squall.internal.node.InOrder;
import dev.squall.internal.node.Node;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.Command;
import dev.squall.internal.protocol.ErrorCode;
import dev.squall.internal.protocol.ProtocolError;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * One {@code squall.v1} connection's commands: subscribe, unsubscribe, publish, presence and ping, each answered
 * with a reply carrying its id, or an error reply with a code; no command closes the connection. It starts on no
 * channel. Subscriptions go through the hub, whose recovery queues the {@code subscribed} reply first, then what
 * the client missed, then the live stream.
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
    private final Codec codec;
    private final PublishPolicy.@Nullable Denial denial;
    private final Set<String> channels = new HashSet<>();
    private final InOrder commands;

    /**
     * @param denial why the upgrade request may neither publish nor read channels (the publish policy's answer,
     *               decided once at the upgrade), or null when it may
     */
    ProtocolSession(Connection connection, Node node, Codec codec, PublishPolicy.@Nullable Denial denial) {
        this.connection = connection;
        this.node = node;
        this.codec = codec;
        this.denial = denial;
        this.commands = new InOrder(node.commandThreads(), MAX_WAITING_COMMANDS);
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
        } catch (RuntimeException e) {
            log.warn("A squall.v1 command on connection {} failed", connection.id(), e);
            connection.send(codec.error(new ProtocolError(id, ErrorCode.INTERNAL, "internal error")));
        }
    }

    private void run(Command command) {
        if (command instanceof Command.Subscribe subscribe) subscribe(subscribe);
        else if (command instanceof Command.Unsubscribe unsubscribe) unsubscribe(unsubscribe);
        else if (command instanceof Command.Publish publish) publish(publish);
        else if (command instanceof Command.Presence presence) presence(presence);
        else connection.send(codec.pong(command.id()));
    }

    private void subscribe(Command.Subscribe command) {
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
    }

    private void unsubscribe(Command.Unsubscribe command) {
        if (!channels.remove(command.channel())) {
            throw new ProtocolError(command.id(), ErrorCode.NOT_SUBSCRIBED, "not subscribed to '" + command.channel() + "'");
        }
        node.hub().unsubscribe(connection, command.channel());
        connection.send(codec.unsubscribed(command.id(), command.channel()));
    }

    /** The gates of an HTTP publish, in the same order, each with its own code. */
    private void publish(Command.Publish command) {
        if (denial != null) throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, denial.message(PublishPolicy.Action.PUBLISH));
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
     * A channel's subscribers over all nodes and its position: the server's view, so guarded as a read of channels (as
     * {@code GET /channels/{c}} is), except on channels whose namespace has presence on, where subscribers hear who
     * comes and goes anyway.
     */
    private void presence(Command.Presence command) {
        if (denial != null && !node.settings().presence(command.channel())) {
            throw new ProtocolError(command.id(), ErrorCode.FORBIDDEN, "the presence of '" + command.channel()
                    + "' is shown to connections that may read channels, or in a namespace with presence on; "
                    + denial.message(PublishPolicy.Action.READ));
        }
        StreamPosition position = node.history(command.channel(), Long.MAX_VALUE, 0).position();
        connection.send(codec.presence(command.id(), command.channel(), node.subscribers(command.channel()), position));
    }
}
