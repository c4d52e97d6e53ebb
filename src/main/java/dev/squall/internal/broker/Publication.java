package dev.squall.internal.broker;

/**
 * One message as a channel's stream holds it: its offset in the stream, the message itself, and the epoch of the
 * stream it belongs to (so a protocol that names a position in every event, such as SSE's {@code id:}, needs no
 * lookup per publication).
 *
 * @param epoch the stream's epoch ({@link StreamPosition#epoch()}); empty only where no stream exists (tests)
 */
public record Publication(long offset, Message message, String epoch) {

    /** A publication of no particular stream (an empty epoch): for tests and benchmarks of the fan-out. */
    public Publication(long offset, Message message) {
        this(offset, message, "");
    }
}
