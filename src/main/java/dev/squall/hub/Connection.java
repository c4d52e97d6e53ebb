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
 *
 * <p>Past the bounds, {@link SlowConsumerPolicy#CLOSE} closes the connection. {@link SlowConsumerPolicy#DROP_OLDEST}
 * instead drops from the head of the queue, which only works for messages Jetty does not hold yet: in that mode
 * at most a small window is handed to Jetty at a time, and each written frame's callback hands over the next.
 */
public final class Connection {

    /** Close code for a peer that does not read fast enough: 1008, policy violation (RFC 6455 7.4.1). */
    public static final int SLOW_CONSUMER = 1008;
    static final String SLOW_CONSUMER_REASON = "slow consumer";

    /** Sent just before the next message a drop-oldest connection gets, telling it how many it missed. */
    static Message droppedNotice(int count) {
        return Message.text("{\"type\":\"dropped\",\"count\":" + count + "}");
    }

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
    private final AtomicLong inFlightBytes = new AtomicLong();
    private final AtomicInteger inFlightMessages = new AtomicInteger();
    private final boolean dropsOldest;
    // Drop-oldest: a drop and the notice that reports it must pair with the same gap in the stream, so taking
    // the head (to drop it, or to write it along with the count so far) happens under this lock.
    private final Object head = new Object();
    private int droppedSinceNotice;
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
        this.dropsOldest = limits.policy() == SlowConsumerPolicy.DROP_OLDEST;
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
     * Adds a message to the queue; when the queue is full, marks the connection slow (close policy) or drops
     * the oldest queued messages (drop-oldest). Returns false when the message was refused.
     * Called by the hub, for broadcasts under its fan-out lock, so it must never block or write.
     */
    boolean enqueue(Message message) {
        if (closing.get()) return false;
        int size = message.size();
        if (reserve(size)) {
            pending.add(message);
            return true;
        }
        if (dropsOldest) {
            count(size);                // past the bounds until older messages make room
            dropOldestToFit(message);
            return true;
        }
        slow = true;
        return false;
    }

    /**
     * Counts a message against the bounds only if it fits, so the counters (and the queued-bytes gauge) never
     * pass the bounds, not even for the moment between counting a message and refusing it.
     */
    private boolean reserve(int size) {
        long bytes;
        do {
            bytes = queuedBytes.get();
            if (bytes + size > limits.maxBytes()) return false;
        } while (!queuedBytes.compareAndSet(bytes, bytes + size));
        int messages;
        do {
            messages = queuedMessages.get();
            if (messages >= limits.maxMessages()) {
                queuedBytes.addAndGet(-size);
                return false;
            }
        } while (!queuedMessages.compareAndSet(messages, messages + 1));
        return true;
    }

    /** Drops queued messages, oldest first, until {@code message} (already counted) fits; or drops it instead. */
    private void dropOldestToFit(Message message) {
        int dropped = 0;
        synchronized (head) {
            boolean fits;
            while (!(fits = withinBounds())) {
                Message oldest = pending.poll();
                if (oldest == null) break;              // the rest is in Jetty's hands: it cannot be dropped
                release(oldest.size());
                dropped++;
            }
            if (fits) {
                pending.add(message);
            } else {
                release(message.size());
                dropped++;
            }
            droppedSinceNotice += dropped;
        }
        hub.dropped(dropped);
    }

    private boolean withinBounds() {
        return queuedMessages.get() <= limits.maxMessages() && queuedBytes.get() <= limits.maxBytes();
    }

    /** Hands queued messages to Jetty in order; one thread at a time, never waiting for the socket. */
    void flush() {
        if (slow) {
            closeAsSlowConsumer();
            return;
        }
        while (mayWrite() && writing.compareAndSet(false, true)) {
            try {
                boolean flushed = true;
                while (mayWrite()) {
                    Message message = dropsOldest ? takeHeadWithNotice() : pending.poll();
                    if (message == null) break;
                    // More to come: let Jetty gather them into one write; the last one flushes.
                    flushed = !mayWrite();
                    write(message, !flushed);
                }
                // Drop-oldest can leave the loop after a batched frame (the window filled, or the rest was dropped).
                if (!flushed) session.flush(Callback.NOOP);
            } finally {
                writing.set(false);
            }
            // A message queued, or a window slot freed, after the last check but before writing was cleared is
            // picked up by looping: whoever changed it either sees writing cleared or is seen here.
        }
    }

    /** Something is queued and, with drop-oldest, Jetty's window has room for it. */
    private boolean mayWrite() {
        if (pending.isEmpty()) return false;
        return !dropsOldest
                || (inFlightBytes.get() < limits.windowBytes() && inFlightMessages.get() < limits.windowMessages());
    }

    /** Takes the next message; if messages before it were dropped, writes the notice that says how many first. */
    private Message takeHeadWithNotice() {
        Message message;
        int dropped;
        synchronized (head) {
            message = pending.poll();
            dropped = droppedSinceNotice;
            if (message != null) droppedSinceNotice = 0;
        }
        if (message != null && dropped > 0) {
            Message notice = droppedNotice(dropped);
            count(notice.size());
            write(notice, true);
        }
        return message;
    }

    private void write(Message message, boolean batch) {
        int size = message.size();
        if (dropsOldest) {              // only this mode has a window; the default path stays two atomics lighter
            inFlightBytes.addAndGet(size);
            inFlightMessages.incrementAndGet();
        }
        byte opcode = message.kind() == Message.Kind.TEXT ? OpCode.TEXT : OpCode.BINARY;
        session.sendFrame(new Frame(opcode, message.payload()), new Written(size), batch);
    }

    private void count(int size) {
        queuedMessages.incrementAndGet();
        queuedBytes.addAndGet(size);
    }

    private void release(int size) {
        queuedBytes.addAndGet(-size);
        queuedMessages.decrementAndGet();
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
            Connection.this.release(size);
            if (dropsOldest) {
                inFlightBytes.addAndGet(-size);
                inFlightMessages.decrementAndGet();
                // The window has room again: hand Jetty the next messages (never waits, never blocks).
                if (!pending.isEmpty()) flush();
            }
        }

        // Atomic decrements, and with drop-oldest a non-blocking flush: Jetty may complete this on its selector
        // thread instead of dispatching it.
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
