package dev.squall.internal.hub;

import dev.squall.internal.broker.Message;

/**
 * The socket under a {@link Connection}: the few operations the bounded queue needs from whatever carries the
 * WebSocket. {@link JettyWire} is the real one; tests put their own in front of a connection to complete writes
 * in an order of their choosing.
 *
 * <p>Contract: no method blocks; {@code send} calls its {@link Written} exactly once, when the frame has been
 * written or has failed (possibly on another thread, possibly before {@code send} returns); frames are written
 * in the order they were sent.
 */
public interface Wire {

    /** Told once what became of one frame. */
    interface Written {
        void succeeded();

        void failed(Throwable cause);
    }

    /** Hands one frame to the socket; {@code more}: another frame follows at once, so it may wait to be gathered. */
    void send(Message message, boolean more, Written written);

    /** Writes out frames held back by {@code more}. */
    void flush();

    /** Sends a ping frame, ahead of queued data frames. */
    void ping();

    /** Starts the close handshake with this code and reason. */
    void close(int code, String reason);

    /** Drops the socket without a close handshake: for peers that would never read one. */
    void abort();

    /** A number that grows whenever anything arrives from the peer (pongs included). */
    long inboundActivity();

    /** A number that grows whenever the socket takes more of what was sent. */
    long outboundActivity();
}
