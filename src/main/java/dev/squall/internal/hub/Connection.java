package dev.squall.internal.hub;

import dev.squall.Identity;
import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.Message;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One open WebSocket with a bounded outbound queue and a single writer at a time.
 *
 * <p>A message is counted against the bounds from the moment it is queued until the {@link Wire} reports it
 * written (or failed), so the bounds cover everything this server holds for the peer, including Jetty's own
 * frame queue. Frames are handed to the wire with a real callback; the payload is a view of the broadcast's
 * shared bytes.
 *
 * <p>Past the bounds, {@link SlowConsumerPolicy#CLOSE} closes the connection. {@link SlowConsumerPolicy#DROP_OLDEST}
 * instead drops from the head of the queue, which only works for messages the wire does not hold yet: in that
 * mode at most a small window is handed to the wire at a time, and each written frame's callback hands over the
 * next.
 *
 * <p>What may be dropped: only publications ({@link #enqueue}, counted in the next {@code dropped} notice) and
 * events that promise at most once ({@link #enqueueEvent}: join and leave, not counted). What the server says to
 * this client ({@link #enqueueControl}: replies, a subscription's first frame, a reset, a handler's send) is never
 * dropped: it stays in its place while publications around it go. It is bounded all the same: a client that
 * fills its queue with replies it does not read (commands sent without reading) is closed as a slow consumer.
 */
public final class Connection {

    /** Close code for a peer that does not read fast enough: 1008, policy violation (RFC 6455 7.4.1). */
    public static final int SLOW_CONSUMER = 1008;
    /** Close code when the server stops: 1001, going away. */
    public static final int GOING_AWAY = 1001;
    /** Close code for a client over {@code --max-messages-per-second}: 3013, Centrifugo's "too many requests" (it may reconnect). */
    public static final int TOO_MANY_REQUESTS = 3013;
    /** Close code for a user over {@code --max-connections-per-user}: 3504, Centrifugo's "connection limit" (do not reconnect). */
    public static final int CONNECTION_LIMIT = 3504;
    /** Close code for a connection whose user was disconnected: 3503, Centrifugo's "force disconnect" (do not reconnect). */
    public static final int FORCE_DISCONNECT = 3503;
    static final String FORCE_DISCONNECT_REASON = "force disconnect";
    static final String SLOW_CONSUMER_REASON = "slow consumer";

    private final String id;
    private final Wire wire;
    private final OutboundLimits limits;
    private final Hub hub;
    private final Shard shard;
    private final Framing framing;

    // A publication's frame as it is (the hot path allocates nothing); the rest wrapped, see Control and Event.
    private final ConcurrentLinkedQueue<Object> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicBoolean scheduled = new AtomicBoolean();
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
    private volatile boolean left;
    // Until the open handler has run and the connection is subscribed: sends queue, nothing is written yet, so a
    // publish that arrives while the first frame is written finds the connection subscribed (see Hub#opened).
    private volatile boolean opening = true;
    // Copy-on-write: a connection listens to few channels, and leaving reads them once.
    private volatile List<Subscription> subscriptions = List.of();
    // Anonymous until the transport knows better: at the upgrade, or (squall.v1) at its connect command, which
    // comes before any subscription, so every event this connection causes carries the identity it ends with.
    private volatile Identity identity = Identity.ANONYMOUS;

    // Liveness bookkeeping, read and written only by the heartbeat's thread (see Heartbeat).
    long nextPingAt;
    long pingSentAt;
    long inboundAtPing;
    long outboundAtCheck;
    long lastWriteProgressAt;

    Connection(String id, Wire wire, Framing framing, OutboundLimits limits, Hub hub, Shard shard) {
        this.id = id;
        this.framing = framing;
        this.wire = wire;
        this.limits = limits;
        this.dropsOldest = limits.policy() == SlowConsumerPolicy.DROP_OLDEST;
        this.hub = hub;
        this.shard = shard;
    }

    /** Unique per connection on this node. */
    public String id() {
        return id;
    }

    /** Who this connection is. */
    public Identity identity() {
        return identity;
    }

    /** Says who this connection is: once, before it subscribes to anything. */
    public void identify(Identity identity) {
        this.identity = identity;
    }

    /**
     * Sends one message to this connection only (Tornado: {@code write_message}); false when it was not queued
     * (closing, or refused by a full queue).
     */
    public boolean send(Message message) {
        return hub.sendTo(this, message);
    }

    /** Starts the close handshake with this code and reason; the close frame goes out after what is queued. */
    public void close(int code, String reason) {
        if (!closing.compareAndSet(false, true)) return;
        wire.close(code, reason);
    }

    /** False once a close has started (by either side) or the connection has left the hub. */
    public boolean isOpen() {
        return !closing.get() && !left;
    }

    /**
     * Adds a publication's frame to the queue; when the queue is full, marks the connection slow (close policy)
     * or drops the oldest queued publications and events (drop-oldest). Returns true when the frame is queued,
     * false when it was refused or, with drop-oldest, dropped on arrival. Never blocks or writes.
     */
    boolean enqueue(Message publication) {
        return add(publication, publication);
    }

    /** As {@link #enqueue}, for an event that drop-oldest may drop without counting it (join, leave). */
    boolean enqueueEvent(Message event) {
        return add(new Event(event), event);
    }

    /**
     * As {@link #enqueue}, for what must reach the client if anything after it does: a reply, a first frame, a
     * reset, a handler's send. Drop-oldest drops publications and events around it, never it; when they are gone
     * and it still does not fit, the queue is full of what the client has not read, and the connection closes.
     */
    boolean enqueueControl(Message message) {
        return add(new Control(message), message);
    }

    /** A frame that is never dropped. */
    private record Control(Message message) {
    }

    /** A frame drop-oldest may drop, and does not count: it carries no offset. */
    private record Event(Message message) {
    }

    private static Message messageOf(Object entry) {
        if (entry instanceof Message message) return message;
        if (entry instanceof Control control) return control.message();
        return ((Event) entry).message();
    }

    private boolean add(Object entry, Message message) {
        if (closing.get()) return false;
        int size = message.size();
        if (reserve(size)) {
            pending.add(entry);
            return true;
        }
        if (dropsOldest) {
            count(size);                // past the bounds until older messages make room
            return dropOldestToFit(entry, size);
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

    /**
     * Drops queued publications and events, oldest first, until {@code entry} (already counted) fits, and queues
     * it. When it still does not fit (what is left is control frames, or in the wire's hands), a publication or an
     * event is dropped instead, and a control frame closes the connection. Returns whether it was queued.
     */
    private boolean dropOldestToFit(Object entry, int size) {
        int dropped = 0;
        int publications = 0;
        boolean fits;
        synchronized (head) {
            Iterator<Object> oldestFirst = pending.iterator();
            while (!(fits = withinBounds()) && oldestFirst.hasNext()) {
                Object oldest = oldestFirst.next();
                if (oldest instanceof Control) continue;
                oldestFirst.remove();
                release(messageOf(oldest).size());
                dropped++;
                if (oldest instanceof Message) publications++;
            }
            if (fits) {
                pending.add(entry);
            } else {
                release(size);
                if (entry instanceof Control) {
                    slow = true;                        // full of replies it does not read: closed by the next flush
                } else {
                    dropped++;
                    if (entry instanceof Message) publications++;
                }
            }
            droppedSinceNotice += publications;
        }
        hub.dropped(dropped);
        return fits;
    }

    private boolean withinBounds() {
        return queuedMessages.get() <= limits.maxMessages() && queuedBytes.get() <= limits.maxBytes();
    }

    /** Hands queued messages to the wire in order; one thread at a time, never waiting for the socket. */
    void flush() {
        if (opening) return;
        while (mayWrite() && writing.compareAndSet(false, true)) {
            try {
                boolean flushed = true;
                while (mayWrite()) {
                    Message message = dropsOldest ? takeHeadWithNotice() : next();
                    if (message == null) break;
                    // More to come: let the wire gather them into one write; the last one flushes.
                    flushed = !mayWrite();
                    write(message, !flushed);
                }
                // Drop-oldest can leave the loop after a batched frame (the window filled, or the rest was dropped).
                if (!flushed) wire.flush();
            } finally {
                writing.set(false);
            }
            // A message queued, or a window slot freed, after the last check but before writing was cleared is
            // picked up by looping: whoever changed it either sees writing cleared or is seen here.
        }
        // Checked last, so that a queue that overflowed while this or another thread was writing is closed by
        // whichever flush comes next: the hub schedules one after every refused message.
        if (slow) closeAsSlowConsumer();
    }

    /** Nothing refused and something queued, and with drop-oldest the wire's window has room for it. */
    private boolean mayWrite() {
        if (slow || pending.isEmpty()) return false;
        return !dropsOldest
                || (inFlightBytes.get() < limits.windowBytes() && inFlightMessages.get() < limits.windowMessages());
    }

    private @Nullable Message next() {
        Object entry = pending.poll();
        return entry == null ? null : messageOf(entry);
    }

    /** Takes the next message; if publications before it were dropped, writes the notice that says how many first. */
    private @Nullable Message takeHeadWithNotice() {
        Message message;
        int dropped;
        synchronized (head) {
            message = next();
            dropped = droppedSinceNotice;
            if (message != null) droppedSinceNotice = 0;
        }
        if (message != null && dropped > 0) {
            Message notice = framing.dropped(dropped);  // a reserved envelope: no publisher can forge it
            count(notice.size());
            write(notice, true);
        }
        return message;
    }

    private void write(Message message, boolean more) {
        int size = message.size();
        if (dropsOldest) {              // only this mode has a window; the default path stays two atomics lighter
            inFlightBytes.addAndGet(size);
            inFlightMessages.incrementAndGet();
        }
        wire.send(message, more, new Written(size));
    }

    private void count(int size) {
        queuedMessages.incrementAndGet();
        queuedBytes.addAndGet(size);
    }

    private void release(int size) {
        queuedBytes.addAndGet(-size);
        queuedMessages.decrementAndGet();
    }

    /** Releases a message's share of the bounds once the wire has written it, or given up on it. */
    private final class Written implements Wire.Written {
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
                // The window has room again: hand the wire the next messages (never waits, never blocks).
                if (!pending.isEmpty()) flush();
            }
        }
    }

    private void closeAsSlowConsumer() {
        if (!closing.compareAndSet(false, true)) return;
        pending.clear();
        hub.slowConsumer(this);
        wire.close(SLOW_CONSUMER, SLOW_CONSUMER_REASON);
        // The close frame waits behind everything the peer has not read; a stalled peer never reads it.
        hub.scheduler().schedule(wire::abort, limits.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends a ping frame; control frames bypass the queue bounds (they are tiny and go out first). */
    void ping() {
        wire.ping();
    }

    /** Everything received so far (pongs included): if it has not moved, nothing arrived. */
    long inboundActivity() {
        return wire.inboundActivity();
    }

    /** How far the socket has taken what was sent: if it has not moved, nothing was written. */
    long outboundActivity() {
        return wire.outboundActivity();
    }

    /**
     * Closes a connection whose user was disconnected (a logout, a ban): nothing more reaches it, what it has not been
     * sent yet is dropped, it leaves the hub at once (counts, presence, its channels' leave events), and a peer that
     * ignores the close frame is cut after the grace. True when this call closed it, false when it was closing already.
     */
    boolean closeRevoked() {
        if (!closing.compareAndSet(false, true)) return false;
        pending.clear();
        hub.revoked(this);
        wire.close(FORCE_DISCONNECT, FORCE_DISCONNECT_REASON);
        hub.scheduler().schedule(wire::abort, limits.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
        return true;
    }

    /** Starts the close handshake because the server is stopping; the close frame goes out after what is queued. */
    void closeGoingAway() {
        if (!closing.compareAndSet(false, true)) return;
        wire.close(GOING_AWAY, "server shutting down");
    }

    /** Drops a peer that answered nothing after a ping: a close frame would never reach it. */
    void closeAsDead() {
        if (left || !closing.compareAndSet(false, true)) return;
        hub.deadPeer();
        wire.abort();
    }

    /** Drops a peer that has taken nothing of what is queued for it for too long: it is not reading. */
    void closeAsStalled() {
        if (left || !closing.compareAndSet(false, true)) return;
        hub.stalledPeer();
        wire.abort();
    }

    /** Marks this connection as waiting in its shard's ready queue; false if it already is. */
    boolean schedule() {
        return scheduled.compareAndSet(false, true);
    }

    /** Taken off the ready queue: the next message queued puts it back. */
    void unschedule() {
        scheduled.set(false);
    }

    /** How this connection's protocol frames publications. */
    Framing framing() {
        return framing;
    }

    /** Which writer writes this connection's broadcasts. */
    Shard shard() {
        return shard;
    }

    /**
     * Adds a subscription and runs {@code register} (the hub listing it under its channel) before anyone can see it
     * here; false, and nothing runs, when the connection has left or is already on that channel. Leaving takes
     * the same lock, so a subscription is either refused or listed both here and by the hub, and leaving takes it
     * off both: none is left behind on a channel when a subscribe races the close.
     */
    synchronized boolean subscribed(Subscription subscription, Runnable register) {
        if (left || subscription(subscription.channel) != null) return false;
        register.run();
        List<Subscription> more = new ArrayList<>(subscriptions);
        more.add(subscription);
        subscriptions = List.copyOf(more);
        return true;
    }

    /** Removes the subscription to {@code channel}; returns it, or null when there was none. */
    synchronized @Nullable Subscription unsubscribed(String channel) {
        Subscription gone = subscription(channel);
        if (gone == null) return null;
        List<Subscription> fewer = new ArrayList<>(subscriptions);
        fewer.remove(gone);
        subscriptions = List.copyOf(fewer);
        return gone;
    }

    /** This connection's subscription to {@code channel}, or null. */
    @Nullable Subscription subscription(String channel) {
        for (Subscription subscription : subscriptions) {
            if (subscription.channel.equals(channel)) return subscription;
        }
        return null;
    }

    /** The channels this connection listens to. */
    List<String> channels() {
        List<String> names = new ArrayList<>();
        for (Subscription subscription : subscriptions) names.add(subscription.channel);
        return names;
    }

    /** Its queue has overflowed in all but name (a recovery it cannot keep up with): the next flush closes it. */
    void markSlow() {
        slow = true;
    }

    /**
     * The hub no longer lists it (closed by the peer, or by us): no subscription can be added from now on, and the
     * ones it has are returned for the hub to take off their channels. The heartbeat does not count it again.
     */
    synchronized List<Subscription> leave() {
        left = true;
        return subscriptions;
    }

    /** Writing may start: the connection has been subscribed. */
    void opened() {
        opening = false;
    }

    /** Counted among the hub's open connections: set once when opened, cleared once when it leaves. */
    final AtomicBoolean counted = new AtomicBoolean();

    boolean hasLeft() {
        return left;
    }

    long queuedBytes() {
        return queuedBytes.get();
    }

    /**
     * A quarter of its queue is taken and the socket would take more now: its writer is far behind (see
     * {@link Shard#fellBehind}). A peer that reads slowly is not: what it has not read is in the wire's hands, or,
     * with drop-oldest, waits for the window, and no extra writing helps it.
     */
    boolean backedUp() {
        return (queuedMessages.get() >= limits.behindMessages() || queuedBytes.get() >= limits.behindBytes()) && mayWrite();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Connection other && other.id.equals(id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "Connection[" + id + "]";
    }
}
