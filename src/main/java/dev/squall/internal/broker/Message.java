package dev.squall.internal.broker;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One message on its way to WebSocket clients, encoded once: every connection sends a view of the same
 * read-only bytes, so a broadcast to 10,000 clients costs one encoding, not 10,000.
 */
public final class Message {

    /** How the payload goes on the wire: a text frame (UTF-8) or a binary frame. */
    public enum Kind { TEXT, BINARY }

    private final Kind kind;
    private final ByteBuffer payload;
    private final boolean json;

    private Message(Kind kind, ByteBuffer payload, boolean json) {
        this.kind = kind;
        this.payload = payload.asReadOnlyBuffer();
        this.json = json;
    }

    /** A text frame carrying {@code text}. */
    public static Message text(String text) {
        return new Message(Kind.TEXT, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), false);
    }

    /** A text frame from bytes the caller has already checked to be valid UTF-8. */
    public static Message utf8(byte[] validUtf8) {
        return new Message(Kind.TEXT, ByteBuffer.wrap(validUtf8), false);
    }

    /**
     * A text frame carrying a JSON value other than a string, already written compactly: plain clients get that
     * text, and history and the JSON protocol pass the value on as JSON rather than as a string.
     */
    public static Message json(String compactJson) {
        return new Message(Kind.TEXT, ByteBuffer.wrap(compactJson.getBytes(StandardCharsets.UTF_8)), true);
    }

    /** A binary frame; the bytes are not copied, so the caller must not change them afterwards. */
    public static Message binary(byte[] bytes) {
        return new Message(Kind.BINARY, ByteBuffer.wrap(bytes), false);
    }

    public Kind kind() {
        return kind;
    }

    /** True when the text is a JSON value (not a string) that was published as JSON. */
    public boolean isJson() {
        return json;
    }

    /** Payload size in bytes: what this message weighs in a connection's outbound queue. */
    public int size() {
        return payload.remaining();
    }

    /** A fresh view of the payload; each send needs its own position, never its own copy. */
    public ByteBuffer payload() {
        return payload.slice();
    }

    /** The payload decoded as text (for tests, logs and brokers that need a string). */
    public String textPayload() {
        return StandardCharsets.UTF_8.decode(payload()).toString();
    }

    @Override
    public String toString() {
        return "Message[" + kind + ", " + size() + " bytes]";
    }
}
