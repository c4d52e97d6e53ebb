package dev.squall.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polling with a deadline, for state that changes asynchronously (hub size, metrics). Never a bare sleep. */
public final class Await {

    private Await() {
    }

    /** Waits until {@code condition} holds, checking every 10 ms; fails with {@code what} at the deadline. */
    public static void until(String what, Duration deadline, BooleanSupplier condition) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out after " + deadline + " waiting for: " + what);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }

    /** Waits until {@code value} equals {@code expected}; the failure shows the last value seen. */
    public static <T> void until(String what, Duration deadline, Supplier<T> value, T expected) {
        long end = System.nanoTime() + deadline.toNanos();
        T last;
        while (!expected.equals(last = value.get())) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + deadline + " waiting for " + what + " to be " + expected + ", last " + last);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }
}
