package dev.squall;

/**
 * What server-side code holds to push: from the app's own HTTP handlers, scheduled jobs or message consumers.
 * Get it from {@link SquallPlugin#squall()}; it is thread-safe and never blocks on a client's socket.
 *
 * <p>A broadcast is encoded once and queued to every recipient's bounded queue (a connection whose queue is full
 * is handled by {@link SquallPlugin.Config#slowConsumerPolicy}); sockets are written by Squall's writer threads.
 */
public interface Squall {

    /**
     * Sends {@code text} as a text frame to every client of every Squall WebSocket route.
     *
     * @return how many connections it was queued to; -1 when the node runs on Redis (delivery comes later)
     * @throws IllegalArgumentException when it is larger than {@link SquallPlugin.Config#maxPublishBytes}, or is a
     *                                  JSON object with a top-level {@code "squall"} member (reserved for Squall's
     *                                  own notices, which clients must be able to trust)
     * @throws UnavailableException     while {@link SquallPlugin.Config#redis Redis} is unavailable: nothing was
     *                                  published, or after a timeout perhaps it was; try again later
     * @throws IllegalStateException    once the server has stopped
     */
    int broadcast(String text);

    /**
     * Sends {@code data} (copied) as a binary frame to every client of every Squall WebSocket route.
     *
     * @return how many connections it was queued to; -1 when the node runs on Redis (delivery comes later)
     * @throws IllegalArgumentException when it is larger than {@link SquallPlugin.Config#maxPublishBytes}
     * @throws UnavailableException     while {@link SquallPlugin.Config#redis Redis} is unavailable: nothing was
     *                                  published, or after a timeout perhaps it was; try again later
     * @throws IllegalStateException    once the server has stopped
     */
    int broadcast(byte[] data);

    /**
     * Publishes {@code text} to one channel: numbered, kept in its history, and queued to its subscribers.
     *
     * @throws IllegalArgumentException for a channel name outside the rule (1-255 of letters, digits and
     *                                  {@code -_.:@=,}), a message over {@link SquallPlugin.Config#maxPublishBytes},
     *                                  or a reserved {@code "squall"} notice
     * @throws UnavailableException     while {@link SquallPlugin.Config#redis Redis} is unavailable: nothing was
     *                                  published, or after a timeout perhaps it was; try again later
     * @throws IllegalStateException    once the server has stopped
     */
    Published publish(String channel, String text);

    /** Publishes {@code data} (copied) as a binary message to one channel; as {@link #publish(String, String)}. */
    Published publish(String channel, byte[] data);

    /**
     * Publishes {@code payload} to one channel: text, a JSON value ({@code squall.v1}, SSE clients and history get it
     * as JSON, not as a string), or bytes, with an idempotency key if it has one. Blocks for Redis's answer when the
     * node runs on Redis; {@link #publishAsync} does not.
     *
     * @throws IllegalArgumentException as {@link #publish(String, String)}, for a JSON value the app's JSON mapper
     *                                  cannot write, for JSON text that is not exactly one JSON value, and for a
     *                                  message whose frame for some client protocol would not fit twice in a client's
     *                                  queue (control characters escape to 6 bytes in JSON; each line of text is
     *                                  one SSE {@code data:} line)
     * @throws UnavailableException     as {@link #publish(String, String)}, and when the node already keeps as many
     *                                  idempotency keys as it holds
     * @throws IllegalStateException    once the server has stopped
     */
    Published publish(String channel, Payload payload);

    /**
     * As {@link #publish(String, Payload)}, without waiting: the future completes with where the publish went, or
     * exceptionally with the exception {@code publish} would have thrown. With Redis the call waits on a thread of
     * Squall's; in memory it has completed when this returns.
     */
    java.util.concurrent.CompletableFuture<Published> publishAsync(String channel, Payload payload);

    /**
     * Listens to a channel's publications from now on, on this node, as a client would: in the channel's order, each
     * once, with the same queue bounds; with Redis, publications made on any node. For bridging a channel into the
     * app's own logic.
     *
     * @throws IllegalArgumentException for a channel name outside the rule
     * @throws UnavailableException     while Redis is unavailable
     * @throws IllegalStateException    once the server has stopped
     */
    ServerSubscription subscribe(String channel, ChannelSubscriber subscriber);

    /**
     * Connections open on Squall's WebSocket routes right now, on this node, counted once their open handler has
     * run: each of them gets the next broadcast (or publish to its channel).
     */
    int connectionCount();

    /**
     * Closes every connection of {@code user} on every node, for a logout or a ban that a token still valid for
     * minutes cannot do: WebSockets of every protocol and Server-Sent Events streams whose {@link Identity#user()} it
     * is, with close code 3503, {@code force disconnect} (Centrifugo's code, which tells a client not to reconnect).
     * Nothing more reaches them, and they leave this node's channels at once (counts, presence, leave events). With
     * {@link SquallPlugin.Config#redis Redis}, the other nodes close theirs as soon as the message reaches them, just
     * after this returns.
     *
     * <p>It closes what is open, and revokes nothing: a client whose token is still valid may connect again (an
     * {@code EventSource} does by itself), so stop issuing tokens to the user, or have the
     * {@link SquallPlugin.Config#authenticate authenticate} hook refuse them, first.
     *
     * @return how many connections this node closed (0 when the user has none here: not an error)
     * @throws IllegalArgumentException for {@code ""}: anonymous connections are no one in particular; and for a user
     *                                  id longer than {@link Identity#MAX_USER_LENGTH}, which no connection has
     * @throws UnavailableException     while Redis is unavailable: this node's connections are closed, but the other
     *                                  nodes could not be told; try again (closing is idempotent)
     * @throws IllegalStateException    once the server has stopped
     */
    int disconnect(String user);
}
