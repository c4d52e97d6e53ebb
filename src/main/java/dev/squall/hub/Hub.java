package dev.squall.hub;

import dev.squall.Message;
import dev.squall.Metrics;
import io.javalin.websocket.WsContext;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The connections open on this node, and the fan-out to them.
 *
 * <p>Threading: {@link #broadcast} may be called from any number of threads. Each broadcast is queued to
 * every connection under one short lock (so every connection sees concurrent broadcasts in the same
 * order), then written outside it, a share of the connections on each writer thread; no lock is held
 * while a socket write is in progress, and no thread ever waits for a client's socket.
 * A connection whose queue overflows is closed as a slow consumer, or loses its oldest messages, as
 * {@link OutboundLimits#policy()} says.
 */
public final class Hub {

    private final ConcurrentHashMap<String, Connection> connections = new ConcurrentHashMap<>();
    private final Object fanOutOrder = new Object();
    private final OutboundLimits limits;
    private final Metrics metrics;
    private final ScheduledExecutorService scheduler;
    private final List<Executor> writers;
    private final List<AtomicBoolean> flushWaiting;

    /**
     * @param scheduler runs delayed work such as dropping a slow consumer that ignores its close frame
     * @param writers   single-threaded executors that each write one share of every broadcast while the
     *                  publishing thread writes the first share, so one broadcast uses more than one core;
     *                  empty: the publishing thread writes to every connection
     */
    public Hub(OutboundLimits limits, Metrics metrics, ScheduledExecutorService scheduler, List<Executor> writers) {
        this.limits = limits;
        this.metrics = metrics;
        this.scheduler = scheduler;
        this.writers = List.copyOf(writers);
        this.flushWaiting = writers.stream().map(writer -> new AtomicBoolean()).toList();
        metrics.watch(connections::size, this::queuedBytes);
    }

    /**
     * Adds a newly opened connection (Tornado: {@code open}) with {@code greeting} queued first, so no
     * broadcast can overtake it.
     */
    public Connection join(WsContext ctx, Message greeting) {
        Connection connection = new Connection(ctx, limits, this, shardOf(ctx.sessionId()));
        connection.enqueue(greeting);
        connections.put(connection.id(), connection);
        metrics.connected();
        connection.flush();
        metrics.sent(1, greeting.size());
        return connection;
    }

    /** The connection for a Javalin session id, or null once it has left. */
    public Connection find(String sessionId) {
        return connections.get(sessionId);
    }

    /** Removes a connection (Tornado: {@code on_close}); counted once, however many paths report the close. */
    public void leave(String sessionId, int closeCode) {
        if (connections.remove(sessionId) != null) {
            metrics.disconnected(closeCode);
        }
    }

    /**
     * Queues {@code message} to every open connection (Tornado: {@code write_message} in a loop, without the
     * loop's stalls) and returns how many connections accepted it.
     */
    public int broadcast(Message message) {
        Collection<Connection> all = connections.values();
        int delivered = 0;
        synchronized (fanOutOrder) {
            for (Connection connection : all) {
                if (connection.enqueue(message)) delivered++;
            }
        }
        for (int shard = 1; shard <= writers.size(); shard++) {
            scheduleFlush(shard);
        }
        flush(0);
        metrics.sent(delivered, message.size());
        return delivered;
    }

    /**
     * Sends to one connection through its bounded queue. No fan-out lock: a reply has no order to keep with
     * broadcasts other than the order in which it is queued.
     */
    void sendTo(Connection connection, Message message) {
        boolean queued = connection.enqueue(message);
        connection.flush();
        if (queued) metrics.sent(1, message.size());
    }

    /**
     * Asks a share's writer to flush, unless a flush it has not started yet is already waiting: that one will
     * write this broadcast too, so a burst of publishes costs the writer one pass, not one per publish.
     */
    private void scheduleFlush(int shard) {
        AtomicBoolean waiting = flushWaiting.get(shard - 1);
        if (!waiting.compareAndSet(false, true)) return;
        try {
            writers.get(shard - 1).execute(() -> {
                waiting.set(false);
                flush(shard);
            });
        } catch (RejectedExecutionException stopping) {
            waiting.set(false);
            flush(shard);
        }
    }

    /** Writes what is queued for the connections of one share; each connection belongs to one share for life. */
    private void flush(int shard) {
        for (Connection connection : connections.values()) {
            if (connection.shard() == shard) connection.flush();
        }
    }

    private int shardOf(String sessionId) {
        return Math.floorMod(sessionId.hashCode(), writers.size() + 1);
    }

    /** Open connections right now. */
    public int size() {
        return connections.size();
    }

    /** A snapshot of the open connections, for periodic work such as heartbeats. */
    public Collection<Connection> connections() {
        return connections.values();
    }

    /** Bytes queued but not yet written, over all connections; read when metrics are scraped. */
    public long queuedBytes() {
        long total = 0;
        for (Connection connection : connections.values()) total += connection.queuedBytes();
        return total;
    }

    void slowConsumer(Connection connection) {
        // Leave at once so broadcasts stop counting it, even before the peer sees the close frame.
        if (connections.remove(connection.id()) != null) {
            metrics.slowConsumer();
            metrics.disconnected(Connection.SLOW_CONSUMER);
        }
    }

    void dropped(int messages) {
        if (messages > 0) metrics.dropped(messages);
    }

    void deadPeer() {
        metrics.deadPeer();
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }
}
