package dev.squall.internal.web;

import dev.squall.internal.hub.Wire;
import org.jspecify.annotations.Nullable;

/**
 * What one WebSocket's protocol side hears from the transport under it ({@link JettySocket} on Jetty): the seam
 * between carrying frames and speaking a client protocol over them, so that another protocol on the same routes, or
 * another transport, replaces one side only.
 *
 * <p>Contract: {@link #opened} comes first and once, with the wire to send on; then whole messages, one at a time
 * and in order (the next is not read until the last has been handled); then {@link #closed} once, however the
 * socket ended (a close handshake, a dropped peer, a stop), and nothing after it. A method that throws closes the
 * socket with 1011.
 */
interface SocketEvents {

    /** The 101 has gone out: the socket is open, and {@code wire} sends on it. */
    void opened(Wire wire);

    /** One whole text message, valid UTF-8. */
    void text(String message);

    /** One whole binary message, the caller's to keep. */
    void binary(byte[] message);

    /** The socket has ended, with this close code and reason (1006 and none when the peer vanished). */
    void closed(int code, @Nullable String reason);
}
