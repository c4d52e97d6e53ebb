package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;

import java.time.Duration;

/**
 * Bounds on one connection's outbound queue, and what happens past them ({@code policy}). With
 * {@link SlowConsumerPolicy#CLOSE} the connection is closed with {@link Connection#SLOW_CONSUMER};
 * {@code closeGrace} is how long a slow peer gets to read its close frame before the socket is dropped.
 */
public record OutboundLimits(long maxBytes, int maxMessages, SlowConsumerPolicy policy, Duration closeGrace) {

    /**
     * With {@link SlowConsumerPolicy#DROP_OLDEST}, how much may be handed to Jetty at once. What Jetty holds can
     * no longer be dropped, so the rest waits in our queue, where the oldest can be; half the bounds at most.
     */
    long windowBytes() {
        return Math.max(1, Math.min(64 * 1024, maxBytes / 2));
    }

    int windowMessages() {
        return Math.max(1, Math.min(64, maxMessages / 2));
    }

    /**
     * How full a connection's queue may get (a quarter of either bound) before publishers stop running ahead of the
     * writers: from there on a publisher writes until the writers have caught up, so a flood of publishes is paced
     * by what the sockets take instead of overflowing the queues of clients that read (see {@link Shard}).
     */
    long behindBytes() {
        return Math.max(1, maxBytes / 4);
    }

    int behindMessages() {
        return Math.max(1, maxMessages / 4);
    }
}
