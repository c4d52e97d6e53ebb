package dev.squall.hub;

import dev.squall.Message;
import io.javalin.websocket.WsContext;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One open WebSocket with a bounded outbound queue and a single writer.
 *
 * <p>A message is counted against the bounds from the moment it is queued until Jetty reports it written
 * (or failed), so the bounds cover everything this server holds for the peer, including Jetty's own frame
 * queue. Frames are handed to Jetty's non-blocking {@code sendFrame} with a real callback; the payload is a
 * view of the broadcast's shared bytes.
 */
public final class Connection {

    /** Close code for a peer that does not read fast enough: 1008, policy violation (RFC 6455 7.4.1). */
    public static final int SLOW_CONSUMER = 1008;
    static final String SLOW_CONSUMER_REASON = "slow consumer";

    private final WsContext ctx;
    private final CoreSession session;
    private final WebSocketConnection wire;
    private final OutboundLimits limits;
    private final Hub hub;
    private final int shard;

    private final ConcurrentLinkedQueue<Message> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger queuedMessages = new AtomicInteger();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean slow;

    Connection(WsContext ctx, OutboundLimits limits, Hub hub, int shard) {
        this.ctx = ctx;
        // Javalin's WsContext wraps Jetty's session; the core session accepts pre-encoded frames, and its
        // connection counts every inbound byte (pongs included), which the heartbeat relies on.
        WebSocketCoreSession core = (WebSocketCoreSession) ((WebSocketSession) ctx.session).getCoreSession();
        this.session = core;
        this.wire = core.getConnection();
        this.limits = limits;
        this.hub = hub;
        this.shard = shard;
    }

    /** Javalin's session id: unique per connection. */
    public String id() {
        return ctx.sessionId();
    }

    /** Sends one message to this connection only (Tornado: {@code write_message}). */
    public void send(Message message) {
        hub.sendTo(this, message);
    }

    /**
     * Adds a message to the queue, or marks the connection slow when the queue is full.
     * Called by the hub, for broadcasts under its fan-out lock, so it must never block or write.
     */
    boolean enqueue(Message message) {
        if (closing.get()) return false;
        int size = message.size();
        int messages = queuedMessages.incrementAndGet();
        long bytes = queuedBytes.addAndGet(size);
        if (messages > limits.maxMessages() || bytes > limits.maxBytes()) {
            queuedMessages.decrementAndGet();
            queuedBytes.addAndGet(-size);
            slow = true;
            return false;
        }
        pending.add(message);
        return true;
    }

    /** Hands queued messages to Jetty in order; one thread at a time, never waiting for the socket. */
    void flush() {
        if (slow) {
            closeAsSlowConsumer();
            return;
        }
        while (!pending.isEmpty() && writing.compareAndSet(false, true)) {
            try {
                Message message;
                while ((message = pending.poll()) != null) {
                    // More to come: let Jetty gather them into one write. The last one flushes, and only this
                    // thread polls, so a batched frame is always followed by a flushing one.
                    write(message, pending.peek() != null);
                }
            } finally {
                writing.set(false);
            }
            // A message queued after the last poll but before writing was cleared is picked up by looping.
        }
    }

    private void write(Message message, boolean batch) {
        int size = message.size();
        byte opcode = message.kind() == Message.Kind.TEXT ? OpCode.TEXT : OpCode.BINARY;
        session.sendFrame(new Frame(opcode, message.payload()), new Written(size), batch);
    }

    /** Releases a message's share of the bounds once Jetty has written it, or given up on it. */
    private final class Written implements Callback {
        private final int size;

        Written(int size) {
            this.size = size;
        }

        @Override
        public void succeeded() {
            release();
        }

        @Override
        public void failed(Throwable cause) {
            release();
        }

        private void release() {
            queuedBytes.addAndGet(-size);
            queuedMessages.decrementAndGet();
        }

        // Two atomic decrements: Jetty may complete this on its selector thread instead of dispatching it.
        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }

    private void closeAsSlowConsumer() {
        if (!closing.compareAndSet(false, true)) return;
        pending.clear();
        hub.slowConsumer(this);
        session.close(SLOW_CONSUMER, SLOW_CONSUMER_REASON, Callback.NOOP);
        // The close frame waits behind everything the peer has not read; a stalled peer never reads it.
        hub.scheduler().schedule(session::abort, limits.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends a ping frame; control frames bypass the queue bounds (they are tiny and Jetty sends them first). */
    void ping() {
        session.sendFrame(new Frame(OpCode.PING), Callback.NOOP, false);
    }

    /** Everything received so far (bytes plus frames, pongs included): if it has not moved, nothing arrived. */
    long inboundActivity() {
        return wire.getBytesIn() + wire.getMessagesIn();
    }

    /** Drops a peer that answered nothing after a ping: a close frame would never reach it. */
    void closeAsDead() {
        if (!closing.compareAndSet(false, true)) return;
        hub.deadPeer();
        session.abort();
    }

    /** Which of the hub's writer threads writes this connection's broadcasts. */
    int shard() {
        return shard;
    }

    long queuedBytes() {
        return queuedBytes.get();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Connection other && other.id().equals(id());
    }

    @Override
    public int hashCode() {
        return id().hashCode();
    }
}
