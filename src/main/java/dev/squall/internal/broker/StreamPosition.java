package dev.squall.internal.broker;

/**
 * Where a channel's stream stands: the offset of its latest publication (0 before the first) and the epoch of the
 * stream. Offsets only grow within one epoch; a new epoch means the stream was lost (a restart of an in-memory
 * broker, a channel forgotten after it had neither subscribers nor history, a networked store that lost its
 * data), so no offset of an older epoch says anything about the new one.
 *
 * @param epoch empty for a channel that has no stream at all
 */
public record StreamPosition(long offset, String epoch) {

    /** The position of a channel nothing is known about. */
    public static final StreamPosition NONE = new StreamPosition(0, "");
}
