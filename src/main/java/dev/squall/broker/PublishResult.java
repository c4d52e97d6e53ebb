package dev.squall.broker;

/**
 * What a publish did.
 *
 * @param position  the publication's place in its channel's stream (for a duplicate: the first publish's)
 * @param delivered how many connections on this node it was handed to (0 for a duplicate)
 * @param duplicate true when the idempotency key had been seen within its window: nothing was published
 */
public record PublishResult(StreamPosition position, int delivered, boolean duplicate) {
}
