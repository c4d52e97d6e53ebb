package dev.squall;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Map;

/**
 * One client connected to a Squall WebSocket route, as the route's handlers see it (see {@link WsRoute}).
 * Sends go through the connection's bounded queue like broadcasts do, so a handler never blocks on a slow
 * client and a client that reads nothing cannot make the server hold more than the queue's bounds.
 *
 * <p>Thread-safe. A handle may be kept after its handler returns (to reply later, from another thread); once the
 * connection has closed, sends return false and closing does nothing.
 */
public interface SquallConnection {

    /** Unique among this node's connections; stable for the connection's life. */
    String id();

    /**
     * Who the client is; {@link Identity#ANONYMOUS} when nothing decides who may connect.
     */
    Identity identity();

    /** The path the client upgraded on, such as {@code /ws} or {@code /rooms/lobby}. */
    String path();

    /** A parameter of the route's path, such as {@code room} in {@code /rooms/{room}}, or null when it has none. */
    @Nullable String pathParam(String name);

    /** The first value of a query parameter of the upgrade request, decoded, or null when absent. */
    @Nullable String queryParam(String name);

    /** Every query parameter of the upgrade request, decoded, in order; unmodifiable. */
    Map<String, List<String>> queryParams();

    /**
     * Queues a text frame to this client only (Tornado: {@code write_message}).
     *
     * @return true when queued; false when the connection has closed, or its queue was full (then the slow-consumer
     *         policy applies, as for a broadcast)
     * @throws IllegalArgumentException when {@code text} can never fit the queue ({@link SquallPlugin.Config#maxQueueBytes}),
     *                                  or is a JSON object with a top-level {@code "squall"} member (reserved)
     */
    boolean send(String text);

    /** Queues a binary frame (the bytes are copied) to this client only; as {@link #send(String)}. */
    boolean send(byte[] data);

    /** Starts the close handshake with 1000 (normal closure). */
    void close();

    /**
     * Starts the close handshake with this code and reason, after what is already queued.
     *
     * @param code   1000, or 3000-4999 (registered and private codes)
     * @param reason at most 123 bytes in UTF-8
     * @throws IllegalArgumentException for any other code, or a longer reason
     */
    void close(int code, String reason);

    /** False once the close handshake has started or the connection has gone. */
    boolean isOpen();

    /** The push handle of the plugin this connection belongs to: to publish or broadcast from a handler. */
    Squall squall();
}
