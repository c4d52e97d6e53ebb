package dev.squall.bench.ws;

import java.nio.ByteBuffer;

/**
 * What a benchmark mode does with its connections. Every callback runs on the connection's event-loop thread,
 * so a mode can keep per-loop state without locks.
 */
public interface WsHandler {

    /** The server answered the upgrade with 101. */
    default void onOpen(WsConnection connection) {}

    /**
     * A complete text message. The bytes at {@code [offset, offset + length)} of {@code frame} are valid only
     * during this call: they live in the loop's shared read buffer, which is why no String is made per message.
     */
    void onText(WsConnection connection, ByteBuffer frame, int offset, int length);

    /** The connection is gone: close frame, EOF, or an I/O or protocol error ({@code reason} says which). */
    default void onClose(WsConnection connection, int code, String reason) {}
}
