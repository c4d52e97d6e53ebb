package dev.squall;

import org.jspecify.annotations.Nullable;

/**
 * The handlers of one Squall WebSocket route, declared with {@link SquallPlugin.Config#ws(String, java.util.function.Consumer)}.
 * Every handler is optional: a route with none is push-only, its clients get every broadcast and what they
 * send is dropped. Squall keeps the bounded queue, the heartbeat, the message limits and the origin check around
 * them.
 *
 * <p>Handlers of one connection run one at a time, in the order of events. One that throws is logged (not shown to
 * the client) and its connection is closed with 1011 (internal error).
 */
public final class WsRoute {

    /**
     * Runs when a client has connected (Tornado: {@code open}). On a plain route what it sends arrives before any
     * broadcast. On a {@link #channelFrom} route it runs once the client is subscribed: what it sends comes after the
     * {@code subscribed} notice and any replay, interleaved with live publications; a client that cannot be
     * subscribed (with Redis lost: closed with 1013) never reaches it, nor the close handler.
     */
    @FunctionalInterface
    public interface OpenHandler {
        void handle(SquallConnection connection) throws Exception;
    }

    /** Runs for each text message (Tornado: {@code on_message}). */
    @FunctionalInterface
    public interface TextHandler {
        void handle(SquallConnection connection, String message) throws Exception;
    }

    /** Runs for each binary message; the array is the handler's own. */
    @FunctionalInterface
    public interface BinaryHandler {
        void handle(SquallConnection connection, byte[] message) throws Exception;
    }

    /** Runs once when the connection has closed, whoever closed it (Tornado: {@code on_close}). */
    @FunctionalInterface
    public interface CloseHandler {
        void handle(SquallConnection connection, int code, @Nullable String reason) throws Exception;
    }

    @Nullable String channelParam;
    java.util.function.@Nullable Function<Handshake, @Nullable String> channelNamer;
    @Nullable OpenHandler open;
    @Nullable TextHandler text;
    @Nullable BinaryHandler binary;
    @Nullable CloseHandler close;

    WsRoute() {
    }

    /**
     * Puts each client on the channel its path names, instead of the broadcast channel: with the route
     * {@code /ws/{channel}} and {@code channelFrom("channel")}, {@code /ws/chat:room1} subscribes to
     * {@code chat:room1}. A name outside the rule gets 400 before the upgrade. The client's first frame is then
     * {@code {"squall":"subscribed","channel":C,"offset":N,"epoch":E}}: its next message has offset N + 1. With
     * {@code ?since=OFFSET} (and, to be sure, {@code &epoch=E}) it gets exactly what it missed after that offset and
     * {@code "recovered":true}, or nothing of it and {@code "recovered":false} (never a part); {@code ?since=latest}
     * starts with the newest message still in history. A parameter the route's path does not have fails
     * {@code Javalin.create()} with an {@link IllegalArgumentException}.
     *
     * <p>Only publications have offsets. Frames the app sends to a client (from {@link #onOpen}, {@link #onMessage} or
     * anywhere with {@link SquallConnection#send}) come after the first frame, interleaved with publications, and
     * count for nothing: a client that counts frames to know its offset must be able to tell them apart (give them
     * a shape of their own), or speak {@code squall.v1}, whose publications carry their offset.
     */
    public void channelFrom(String pathParam) {
        channelParam = pathParam;
        channelNamer = null;
    }

    /**
     * As {@link #channelFrom(String)}, with the channel named by {@code namer} from the client's upgrade request:
     * any part of its path, its query, its headers. For a channel that is not a path parameter as it stands, such as
     * {@code /rooms/{room}} -> {@code room:lobby} (in the namespace {@code room}, with its options). A name outside
     * the rule gets 400 before the upgrade, and so does null (no channel for this request); a namer that throws
     * gets 500, and is logged.
     */
    public void channelFrom(java.util.function.Function<Handshake, @Nullable String> namer) {
        channelNamer = java.util.Objects.requireNonNull(namer, "namer");
        channelParam = null;
    }

    /** Sets the handler for new connections; a second call replaces the first. */
    public void onOpen(OpenHandler handler) {
        open = handler;
    }

    /** Sets the handler for text messages; a second call replaces the first. */
    public void onMessage(TextHandler handler) {
        text = handler;
    }

    /** Sets the handler for binary messages; a second call replaces the first. */
    public void onBinaryMessage(BinaryHandler handler) {
        binary = handler;
    }

    /** Sets the handler for closed connections; a second call replaces the first. */
    public void onClose(CloseHandler handler) {
        close = handler;
    }
}
