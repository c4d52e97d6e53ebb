package dev.squall.internal.hub;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One writer's share of the connections. A connection that has something new to write is put on its shard's
 * ready queue, at most once however many messages it gets meanwhile, and the writer flushes exactly the
 * connections on that queue: a publish costs the writers work for its recipients only, never a pass over every
 * connection of the node.
 *
 * <p>A hub without writer threads has one shard without a thread: whoever queues drains it at once.
 */
final class Shard {

    private static final Logger log = LoggerFactory.getLogger(Shard.class);

    private final int index;
    private final ConcurrentLinkedQueue<Connection> ready = new ConcurrentLinkedQueue<>();
    private final @Nullable Executor writer;          // null: drained at once by whoever wakes it
    private final AtomicBoolean drainWaiting = new AtomicBoolean();

    /** @param writer the single thread that drains this shard, or null to drain on the waking thread */
    Shard(int index, @Nullable Executor writer) {
        this.index = index;
        this.writer = writer;
    }

    int index() {
        return index;
    }

    /** Puts a connection with something to write on the ready queue, unless it is already there. */
    void ready(Connection connection) {
        if (connection.schedule()) ready.add(connection);
    }

    /**
     * Asks the writer to drain, unless a drain it has not started yet is already waiting: that one will see this
     * publish's connections too, so a burst of publishes costs the writer one wake-up, not one per publish.
     */
    void wake() {
        if (writer == null) {
            drain();
            return;
        }
        if (!drainWaiting.compareAndSet(false, true)) return;
        try {
            writer.execute(() -> {
                drainWaiting.set(false);
                drain();
            });
        } catch (RejectedExecutionException stopping) {
            drainWaiting.set(false);
            drain();
        }
    }

    /** Flushes every connection on the ready queue; one connection's failure does not stop the others. */
    void drain() {
        Connection connection;
        while ((connection = ready.poll()) != null) {
            // Cleared before the flush: a message queued from here on puts the connection back on the queue.
            connection.unschedule();
            try {
                connection.flush();
            } catch (RuntimeException e) {
                log.warn("Could not write to {}; the other connections carry on", connection, e);
            }
        }
    }
}
