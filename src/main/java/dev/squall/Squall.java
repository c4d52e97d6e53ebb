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
     * @return how many connections it was queued to
     * @throws IllegalArgumentException when it is larger than {@link SquallPlugin.Config#maxPublishBytes}, or is a
     *                                  JSON object with a top-level {@code "squall"} member (reserved for Squall's
     *                                  own notices, which clients must be able to trust)
     * @throws IllegalStateException    once the server has stopped
     */
    int broadcast(String text);

    /**
     * Sends {@code data} (copied) as a binary frame to every client of every Squall WebSocket route.
     *
     * @return how many connections it was queued to
     * @throws IllegalArgumentException when it is larger than {@link SquallPlugin.Config#maxPublishBytes}
     * @throws IllegalStateException    once the server has stopped
     */
    int broadcast(byte[] data);

    /** Connections open on Squall's WebSocket routes right now, on this node. */
    int connectionCount();
}
