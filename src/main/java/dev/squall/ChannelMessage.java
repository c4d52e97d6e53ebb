package dev.squall;

import java.nio.charset.StandardCharsets;

/**
 * One publication of a channel, as a server-side subscriber gets it ({@link Squall#subscribe}): where it is in the
 * channel's stream, and what it carries.
 */
public final class ChannelMessage {

    private final String channel;
    private final long offset;
    private final String epoch;
    private final Payload.Kind kind;
    private final byte[] payload;

    /** For Squall, and for an app's tests of its own subscribers. */
    public ChannelMessage(String channel, long offset, String epoch, Payload.Kind kind, byte[] payload) {
        this.channel = channel;
        this.offset = offset;
        this.epoch = epoch;
        this.kind = kind;
        this.payload = payload.clone();
    }

    /** The channel it was published to. */
    public String channel() {
        return channel;
    }

    /** Its place in the channel's stream: each publication's is one more than the one before, within an epoch. */
    public long offset() {
        return offset;
    }

    /** The stream's epoch: an offset means something within it only. */
    public String epoch() {
        return epoch;
    }

    /** Text, a JSON value, or bytes. */
    public Payload.Kind kind() {
        return kind;
    }

    /** The text, or the JSON text (compact); for bytes, an {@link IllegalStateException}. */
    public String text() {
        if (kind == Payload.Kind.BYTES) throw new IllegalStateException("a binary publication has no text; use bytes()");
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** The payload as bytes: for text and JSON, their UTF-8. A copy. */
    public byte[] bytes() {
        return payload.clone();
    }

    @Override
    public String toString() {
        return "ChannelMessage[" + channel + " " + offset + ":" + epoch + ", " + kind + ", " + payload.length + " bytes]";
    }
}
