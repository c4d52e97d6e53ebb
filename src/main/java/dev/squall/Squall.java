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
     * @throws IllegalStateException    once the server has stopped, or while {@link SquallPlugin.Config#redis Redis}
     *                                  is unavailable ({@code dev.squall.internal.broker.Unavailable}: nothing was published,
     *                                  or after a timeout perhaps it was; try again later)
     */
    int broadcast(String text);

    /**
     * Sends {@code data} (copied) as a binary frame to every client of every Squall WebSocket route.
     *
     * @return how many connections it was queued to; -1 when the node runs on Redis (delivery comes later)
     * @throws IllegalArgumentException when it is larger than {@link SquallPlugin.Config#maxPublishBytes}
     * @throws IllegalStateException    once the server has stopped, or while {@link SquallPlugin.Config#redis Redis}
     *                                  is unavailable ({@code dev.squall.internal.broker.Unavailable}: nothing was published,
     *                                  or after a timeout perhaps it was; try again later)
     */
    int broadcast(byte[] data);

    /**
     * Publishes {@code text} to one channel: numbered, kept in its history, and queued to its subscribers.
     *
     * @throws IllegalArgumentException for a channel name outside the rule (1-255 of letters, digits and
     *                                  {@code -_.:@=,}), a message over {@link SquallPlugin.Config#maxPublishBytes},
     *                                  or a reserved {@code "squall"} notice
     * @throws IllegalStateException    once the server has stopped, or while {@link SquallPlugin.Config#redis Redis}
     *                                  is unavailable ({@code dev.squall.internal.broker.Unavailable}: nothing was published,
     *                                  or after a timeout perhaps it was; try again later)
     */
    Published publish(String channel, String text);

    /** Publishes {@code data} (copied) as a binary message to one channel; as {@link #publish(String, String)}. */
    Published publish(String channel, byte[] data);

    /**
     * Connections open on Squall's WebSocket routes right now, on this node, counted once their open handler has
     * run: each of them gets the next broadcast (or publish to its channel).
     */
    int connectionCount();
}
