package dev.squall.internal.broker;

/**
 * What a publish did.
 *
 * @param position  the publication's place in its channel's stream (for a duplicate: the first publish's)
 * @param delivered how many connections on this node it was handed to (0 for a duplicate), or
 *                  {@link #NOT_KNOWN} for a networked broker, whose publish returns once the publication is taken,
 *                  before any node (this one included) has delivered it
 * @param duplicate true when the idempotency key had been seen within its window: nothing was published
 */
public record PublishResult(StreamPosition position, int delivered, boolean duplicate) {

    /** {@link #delivered()} of a networked broker's publish: delivery happens after the publish has returned. */
    public static final int NOT_KNOWN = -1;
}
