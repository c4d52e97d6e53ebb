package dev.squall.internal.hub;

import dev.squall.internal.broker.Message;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;

/**
 * A {@link Wire} on Jetty's core WebSocket session: it accepts pre-encoded frames with a real callback, and its
 * connection counts every byte in and out without anything added to the read or write path.
 */
public final class JettyWire implements Wire {

    private final CoreSession session;
    private final WebSocketConnection connection;

    private JettyWire(WebSocketCoreSession session) {
        this.session = session;
        this.connection = session.getConnection();
    }

    /** The wire on a core session Jetty opened (all of them are {@link WebSocketCoreSession}s). */
    public static JettyWire of(CoreSession session) {
        return new JettyWire((WebSocketCoreSession) session);
    }

    @Override
    public void send(Message message, boolean more, Written written) {
        byte opcode = message.kind() == Message.Kind.TEXT ? OpCode.TEXT : OpCode.BINARY;
        session.sendFrame(new Frame(opcode, message.payload()), new Completion(written), more);
    }

    @Override
    public void flush() {
        session.flush(Callback.NOOP);
    }

    @Override
    public void ping() {
        session.sendFrame(new Frame(OpCode.PING), Callback.NOOP, false);
    }

    @Override
    public void close(int code, String reason) {
        session.close(code, reason, Callback.NOOP);
    }

    @Override
    public void abort() {
        session.abort();
    }

    @Override
    public long inboundActivity() {
        return connection.getBytesIn() + connection.getMessagesIn();
    }

    @Override
    public long outboundActivity() {
        // Jetty counts a frame when its flusher takes it and its bytes when it hands them to the socket: neither
        // moves while the socket accepts nothing.
        return connection.getBytesOut() + connection.getMessagesOut();
    }

    private static final class Completion implements Callback {
        private final Written written;

        Completion(Written written) {
            this.written = written;
        }

        @Override
        public void succeeded() {
            written.succeeded();
        }

        @Override
        public void failed(Throwable cause) {
            written.failed(cause);
        }

        // What runs here is a few atomic updates and, with drop-oldest, a non-blocking flush: Jetty may complete
        // it on its selector thread instead of dispatching it.
        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }
}
