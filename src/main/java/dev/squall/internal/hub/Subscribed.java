package dev.squall.internal.hub;

import dev.squall.internal.broker.StreamPosition;
import org.jspecify.annotations.Nullable;

/**
 * How a subscription started: the channel's position, the offset the client's next message comes after, and,
 * for a {@link Recovery#since} request, whether what it missed was replayed (never partly).
 *
 * @param after     the offset just before the first message that follows (a client counts on from here)
 * @param recovered null unless recovery was asked for; false: nothing was replayed, the client must resynchronise
 */
public record Subscribed(String channel, StreamPosition position, long after, @Nullable Boolean recovered) {
}
