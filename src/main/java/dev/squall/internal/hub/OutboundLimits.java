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
}
