package dev.squall.hub;

import java.time.Duration;

/**
 * Bounds on one connection's outbound queue. Past either bound the connection is closed with
 * {@link Connection#SLOW_CONSUMER}; {@code closeGrace} is how long a slow peer gets to read its close frame
 * before the socket is dropped.
 */
public record OutboundLimits(long maxBytes, int maxMessages, Duration closeGrace) {
}
