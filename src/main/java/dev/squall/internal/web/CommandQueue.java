package dev.squall.internal.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One {@code squall.v1} connection's commands, run one at a time and in the order they came, on the node's
 * command threads: a command that waits on Redis (a publish, a subscribe, a presence count, up to the command
 * timeout) holds one of those, never the Jetty thread that reads the connection, so its pongs and its next frames
 * are still read, and a silent Redis cannot make a live client look dead. At most {@link #MAX_WAITING} commands
 * wait per connection; one more means the client sends faster than the server can answer, and
 * {@link #run} says so (the session closes the connection).
 */
public final class CommandQueue {

    private static final Logger log = LoggerFactory.getLogger(CommandQueue.class);

    /** Commands one connection may have waiting: far more than a client that reads its replies ever has. */
    public static final int MAX_WAITING = 256;

    private final Executor threads;
    private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();

    /** @param threads where commands run (a direct executor for a node whose broker never waits) */
    CommandQueue(Executor threads) {
        this.threads = threads;
    }

    /** Queues {@code command} behind the connection's others; false, and nothing queued, when too many wait already. */
    boolean run(Runnable command) {
        if (size.incrementAndGet() > MAX_WAITING) {
            size.decrementAndGet();
            return false;
        }
        waiting.add(command);
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
                    log.warn("A squall.v1 command failed", e);
                }
            }
            draining.set(false);
        } while (!waiting.isEmpty() && draining.compareAndSet(false, true));
    }
}
