package dev.squall.internal.limit;

import java.util.function.LongSupplier;

/**
 * A token bucket for one connection's inbound messages: it holds up to {@code perSecond} tokens, refills at
 * {@code perSecond} tokens a second, and each message takes one. So a client may send a burst of {@code perSecond}
 * messages at once (a reconnecting client subscribing to all its channels) and keep up that rate, never more.
 *
 * <p>Threading: Jetty delivers one connection's messages one at a time, but not always on the same thread; the
 * lock is never contended and only makes each delivery see the last one's state.
 */
public final class MessageRate {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long perSecond;
    private final LongSupplier nanoTime;
    // Tokens in units of 1/perSecond of a nanosecond's worth: whole numbers, so refilling never loses a fraction.
    private long credit;
    private long refilledAt;

    /**
     * @param perSecond the rate and the burst, at least 1
     * @param nanoTime  the clock ({@code System::nanoTime}; tests pass their own)
     */
    public MessageRate(int perSecond, LongSupplier nanoTime) {
        if (perSecond < 1) throw new IllegalArgumentException("a rate of at least 1 message a second, got " + perSecond);
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
        this.refilledAt = nanoTime.getAsLong();
        this.credit = capacity();
    }

    /** Takes a token for one message: false when the bucket is empty, and the message is over the rate. */
    public synchronized boolean take() {
        long now = nanoTime.getAsLong();
        long elapsed = now - refilledAt;
        if (elapsed > 0) {
            // A full bucket is reached after one second: nothing longer needs counting (and nothing can overflow).
            credit = Math.min(capacity(), credit + Math.min(elapsed, NANOS_PER_SECOND) * perSecond);
            refilledAt = now;
        }
        if (credit < NANOS_PER_SECOND) return false;
        credit -= NANOS_PER_SECOND;
        return true;
    }

    /** {@code perSecond} tokens, each worth a second of nanoseconds. */
    private long capacity() {
        return perSecond * NANOS_PER_SECOND;
    }
}
