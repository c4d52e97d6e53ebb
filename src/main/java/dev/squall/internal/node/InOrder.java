package dev.squall.internal.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tasks of one party run one at a time, in the order they came, on threads shared with others: one
 * {@code squall.v1} connection's commands on the node's command threads (a command that waits on Redis, up to the
 * command timeout, holds one of those, never the Jetty thread that reads the connection, so its pongs and its next
 * frames are still read, and a silent Redis cannot make a live client look dead), or one server-side subscriber's
 * callbacks. At most {@code maxWaiting} tasks wait; one more is refused ({@link #run} says so).
 */
public final class InOrder {

    private static final Logger log = LoggerFactory.getLogger(InOrder.class);

    private final Executor threads;
    private final int maxWaiting;
    private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();

    /**
     * @param threads    where the tasks run (a direct executor runs them on the caller's thread)
     * @param maxWaiting how many may wait at most
     */
    public InOrder(Executor threads, int maxWaiting) {
        this.threads = threads;
        this.maxWaiting = maxWaiting;
    }

    /** Queues {@code task} behind the others; false, and nothing queued, when too many wait already. */
    public boolean run(Runnable task) {
        if (size.incrementAndGet() > maxWaiting) {
            size.decrementAndGet();
            return false;
        }
        waiting.add(task);
        schedule();
        return true;
    }

    private void schedule() {
        if (!draining.compareAndSet(false, true)) return;
        try {
            threads.execute(this::drain);
        } catch (RejectedExecutionException stopping) {
            draining.set(false);
            waiting.clear();
            size.set(0);
        }
    }

    /** Runs what waits, one at a time; a command queued meanwhile is run by this loop or by the next drain. */
    private void drain() {
        do {
            Runnable command;
            while ((command = waiting.poll()) != null) {
                size.decrementAndGet();
                try {
                    command.run();
                } catch (RuntimeException e) {
                    log.warn("A task run in order failed; the next ones run all the same", e);
                }
            }
            draining.set(false);
        } while (!waiting.isEmpty() && draining.compareAndSet(false, true));
    }
}
