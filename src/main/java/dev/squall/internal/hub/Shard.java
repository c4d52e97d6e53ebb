package dev.squall.internal.hub;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One writer's share of the connections. A connection that has something new to write is put on its shard's
 * ready queue, at most once however many messages it gets meanwhile, and the writer flushes exactly the
 * connections on that queue: a publish costs the writers work for its recipients only, never a pass over every
 * connection of the node.
 *
 * <p>The writer is idle, woken (asked to drain, not yet running) or draining. A publish that finds it draining
 * adds to what it drains and wakes nothing. A writer done with its own queue takes from the others' (one of them
 * may be waiting for a core). A publisher may help only while the writer is woken and not yet up, or once the
 * writers have fallen far behind ({@link #help}). So while the writers are a few publishes behind, publishers only
 * queue, and the frames a connection gets meanwhile go out gathered into one write.
 *
 * <p>A hub without writer threads has one shard without a thread: whoever queues drains it at once.
 */
final class Shard {

    private static final Logger log = LoggerFactory.getLogger(Shard.class);

    private static final int IDLE = 0;
    private static final int WOKEN = 1;
    private static final int DRAINING = 2;
    /** Connections a writer takes from another shard before it looks at its own again. */
    private static final int STEAL = 64;

    private final int index;
    private final ConcurrentLinkedQueue<Connection> ready = new ConcurrentLinkedQueue<>();
    private final @Nullable Executor writer;          // null: drained at once by whoever wakes it
    private final Shard[] all;                        // every shard of the hub, this one included
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private volatile boolean behind;

    /**
     * @param writer the single thread that drains this shard, or null to drain on the waking thread
     * @param all    the hub's shards (filled before anything is queued): a writer done with its own takes theirs
     */
    Shard(int index, @Nullable Executor writer, Shard[] all) {
        this.index = index;
        this.writer = writer;
        this.all = all;
    }

    int index() {
        return index;
    }

    /** Puts a connection with something to write on the ready queue, unless it is already there. */
    void ready(Connection connection) {
        if (connection.schedule()) ready.add(connection);
    }

    /**
     * Asks the writer to drain, unless it is woken or draining already: a draining writer takes what was queued
     * before this call (it looks at the queue again after it has said it is idle), so a burst of publishes costs
     * it one wake-up, not one per publish.
     */
    void wake() {
        if (writer == null) {
            drain();
            return;
        }
        if (state.get() != IDLE || !state.compareAndSet(IDLE, WOKEN)) return;
        try {
            writer.execute(this::write);
        } catch (RejectedExecutionException stopping) {
            state.set(IDLE);
            drain();
        }
    }

    /** The writer's task: drains until the queue stays empty after it has said it is idle. */
    private void write() {
        state.set(DRAINING);
        while (true) {
            drain();
            // Done with its own: takes some of what the other writers have not reached yet (one may be waiting for a
            // core), a few at a time, so that its own connections never wait behind another shard's backlog.
            boolean took = false;
            for (Shard other : all) {
                if (other != this) took |= other.drain(STEAL);
            }
            if (took) continue;
            state.set(IDLE);
            // A connection queued after the last poll but before IDLE was set saw the writer draining and woke
            // nobody: looked for here. One queued after this check sees IDLE and wakes the writer itself.
            if (ready.isEmpty() || !state.compareAndSet(IDLE, DRAINING)) return;
        }
    }

    /**
     * A connection of this shard has a quarter of its queue waiting for a writer: the writers are far behind (a
     * flood of publishes). The next publisher to {@link #help} writes until the queue is empty.
     */
    void fellBehind() {
        if (!behind) behind = true;
    }

    /**
     * Lets the calling thread (a publisher, once the broker has returned) write. While the writer has been woken
     * but is not running yet, it flushes connections until the writer is up: on a busy machine a woken thread may
     * wait milliseconds for a core, and the publisher is running already. It never helps a writer that is running,
     * so a burst of publishes only queues, and what each connection gets meanwhile goes out gathered into one
     * write. Only when the writers have {@link #fellBehind fallen far behind} does it write until the queue is
     * empty: that paces publishers to what the sockets take, before any reading client's queue can overflow.
     */
    void help() {
        if (behind) {
            behind = false;
            drain();
            return;
        }
        Connection connection;
        while (state.get() == WOKEN && (connection = ready.poll()) != null) flushOne(connection);
    }

    /** Flushes every connection on the ready queue; one connection's failure does not stop the others. */
    void drain() {
        drain(Integer.MAX_VALUE);
    }

    /** Flushes at most {@code most} connections of the ready queue; true if there was any. */
    private boolean drain(int most) {
        Connection connection;
        int flushed = 0;
        while (flushed < most && (connection = ready.poll()) != null) {
            flushOne(connection);
            flushed++;
        }
        return flushed > 0;
    }

    private static void flushOne(Connection connection) {
        // Cleared before the flush: a message queued from here on puts the connection back on the queue.
        connection.unschedule();
        try {
            connection.flush();
        } catch (RuntimeException e) {
            log.warn("Could not write to {}; the other connections carry on", connection, e);
        }
    }
}
