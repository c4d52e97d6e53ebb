package dev.squall.internal.node;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The first step of a stop: for a window the node keeps its connectors open and answers, but says it is not
 * ready and refuses publishes, so a load balancer takes it out of rotation before its connections are closed.
 * A second stop request (the signal again) cuts the window short.
 *
 * <p>Thread-safe: the stopping thread waits in {@link #await()} while request threads read {@link #draining()}
 * and a signal thread may call {@link #cutShort()}.
 */
public final class Drain {

    private final Duration window;
    private final CountDownLatch cutShort = new CountDownLatch(1);
    private volatile boolean draining;
    private long deadline;

    Drain(Duration window) {
        this.window = window;
    }

    /**
     * Starts the window (once) and waits until it has passed or was cut short. A second caller, such as an
     * embedding app calling Javalin's {@code stop()} while {@code App.stop()} drains, waits for the same deadline.
     */
    void await() {
        long remaining;
        synchronized (this) {
            if (!draining) {
                deadline = System.nanoTime() + window.toNanos();
                draining = true;
            }
            remaining = deadline - System.nanoTime();
        }
        if (remaining <= 0) return;
        try {
            cutShort.await(remaining, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();                 // the stop goes on at once; the caller sees the flag
        }
    }

    /** True from the start of the window on: the node is going away. */
    boolean draining() {
        return draining;
    }

    /** Ends the window now; true if one was running (false before it started or after it ended). */
    boolean cutShort() {
        boolean running;
        synchronized (this) {
            running = draining && deadline - System.nanoTime() > 0 && cutShort.getCount() > 0;
        }
        cutShort.countDown();
        return running;
    }

    Duration window() {
        return window;
    }
}
