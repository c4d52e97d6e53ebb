package dev.squall.internal.web;

import dev.squall.internal.hub.JettyWire;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Utf8StringBuilder;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.exception.BadPayloadException;
import org.eclipse.jetty.websocket.core.exception.MessageTooLargeException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * One WebSocket on Jetty's core API, below everything Squall says over it: frames in, whole messages out to its
 * {@link SocketEvents}. Jetty's own API (what Javalin hands out) would do the same, but keeps a live view of the
 * upgrade's response headers for the life of the socket, and with it the whole HTTP connection the upgrade came on
 * (parser, generator, request, servlet state, HTTP session): about 9 kB per idle WebSocket, measured. A core frame
 * handler keeps the socket and nothing of its upgrade.
 *
 * <p>What Jetty's API did and this keeps doing: text is whole, valid UTF-8 (1007 otherwise), a message over the
 * route's size is refused with 1009 (fragments counted as they arrive, so none is held past the limit), a ping is
 * answered with a pong before the next frame is read, and a peer's frames are read one at a time: the next only once
 * the last has been handled, so a client that sends faster than its messages are handled waits in its socket.
 */
final class JettySocket implements FrameHandler {

    private static final Logger log = LoggerFactory.getLogger(JettySocket.class);

    private final SocketEvents events;
    private @Nullable CoreSession session;
    /** The opcode of the message whose fragments are arriving, or {@link OpCode#UNDEFINED} between messages. */
    private byte partial = OpCode.UNDEFINED;
    private @Nullable Utf8StringBuilder text;
    private @Nullable ByteArrayOutputStream binary;
    /** Bytes of the message being assembled so far. */
    private long held;

    JettySocket(SocketEvents events) {
        this.events = events;
    }

    @Override
    public void onOpen(CoreSession session, Callback callback) {
        this.session = session;
        callback.succeeded();
        try {
            events.opened(JettyWire.of(session));                              // Tornado: open()
        } catch (RuntimeException e) {
            log.warn("Opening a WebSocket failed; closing it with 1011", e);
            session.close(CloseStatus.SERVER_ERROR, "internal error", Callback.NOOP);
            return;
        }
        session.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        CoreSession session = java.util.Objects.requireNonNull(this.session);
        switch (frame.getOpCode()) {
            case OpCode.PING -> {
                // Answered before the next frame is read: a ping flood waits in the peer's socket, not in our queue.
                Frame pong = new Frame(OpCode.PONG, true, copy(frame.getPayload()));
                callback.succeeded();
                session.sendFrame(pong, Callback.from(session::demand, failure -> session.demand()), false);
            }
            case OpCode.PONG -> {                                              // counted by the wire's activity
                callback.succeeded();
                session.demand();
            }
            case OpCode.CLOSE -> callback.succeeded();                          // Jetty answers it; nothing follows
            case OpCode.TEXT, OpCode.BINARY -> {
                partial = frame.getOpCode();
                data(session, frame, callback);
            }
            case OpCode.CONTINUATION -> data(session, frame, callback);       // Jetty's parser checks the sequence
            default -> callback.failed(new BadPayloadException("unknown opcode " + frame.getOpCode()));
        }
    }

    private void data(CoreSession session, Frame frame, Callback callback) {
        boolean isText = partial == OpCode.TEXT;
        String whole = null;
        byte[] bytes = null;
        try {
            if (isText) {
                Utf8StringBuilder buffer = text != null ? text : (text = new Utf8StringBuilder());
                held = checkSize(held, frame, session.getMaxTextMessageSize(), "text");
                if (frame.hasPayload()) buffer.append(frame.getPayload());
                if (buffer.hasCodingErrors()) throw new BadPayloadException("invalid UTF-8 in a text message");
                if (frame.isFin()) {
                    whole = buffer.takeCompleteString(() -> new BadPayloadException("invalid UTF-8 in a text message"));
                    text = null;
                }
            } else {
                ByteArrayOutputStream buffer = binary != null ? binary : (binary = new ByteArrayOutputStream());
                held = checkSize(held, frame, session.getMaxBinaryMessageSize(), "binary");
                if (frame.hasPayload()) {
                    ByteBuffer payload = frame.getPayload();
                    byte[] chunk = new byte[payload.remaining()];
                    payload.get(chunk);
                    buffer.write(chunk, 0, chunk.length);
                }
                if (frame.isFin()) {
                    bytes = buffer.toByteArray();
                    binary = null;
                }
            }
        } catch (RuntimeException e) {
            forget();
            callback.failed(e);                                                 // Jetty closes: 1007, 1009
            return;
        }
        if (frame.isFin()) {
            partial = OpCode.UNDEFINED;
            held = 0;
        }
        callback.succeeded();
        try {
            if (whole != null) events.text(whole);                              // Tornado: on_message(message)
            else if (bytes != null) events.binary(bytes);
        } catch (RuntimeException e) {
            log.warn("Handling a WebSocket message failed; closing it with 1011", e);
            session.close(CloseStatus.SERVER_ERROR, "internal error", Callback.NOOP);
            return;
        }
        session.demand();
    }

    /** The message's size with this frame: over the route's most, the message is refused (Jetty closes 1009). */
    private static long checkSize(long held, Frame frame, long max, String kind) {
        long size = held + frame.getPayloadLength();
        if (max > 0 && size > max) {
            throw new MessageTooLargeException(kind + " message too large: " + size + " bytes, the most is " + max);
        }
        return size;
    }

    private void forget() {
        text = null;
        binary = null;
        held = 0;
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        log.debug("WebSocket error: {}", String.valueOf(cause));
        callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus status, Callback callback) {
        forget();
        try {
            events.closed(status.getCode(), status.getReason());                // Tornado: on_close()
        } finally {
            callback.succeeded();
        }
    }

    private static ByteBuffer copy(@Nullable ByteBuffer payload) {
        if (payload == null) return ByteBuffer.allocate(0);
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining());
        copy.put(payload.slice()).flip();
        return copy;
    }
}
