package dev.squall;

import java.util.Objects;

/**
 * What server-side code publishes to a channel (see {@link Squall#publish(String, Payload)}): text, a JSON value or
 * bytes, and optionally an idempotency key. How each arrives: a plain WebSocket client gets text and JSON as a text
 * frame (JSON compact) and bytes as a binary frame; a {@code squall.v1} client, an SSE client and a channel's
 * history get a JSON value as JSON, text as a JSON string, and bytes as base64. So {@code Payload.json(order)}
 * reaches a browser's {@code squall.js} as an object, where {@code Payload.text(json)} would be a string.
 *
 * <p>Immutable; {@link #idempotencyKey(String)} returns a copy.
 */
public final class Payload {

    /** What a payload carries. */
    public enum Kind {
        /** Text, sent as it is. */
        TEXT,
        /** A value written as JSON by the app's JSON mapper (Javalin's), or JSON text as given. */
        JSON,
        /** Bytes. */
        BYTES
    }

    private final Kind kind;
    private final Object content;           // String (text, JSON text), byte[], or the value to write as JSON
    private final boolean written;          // JSON only: content is JSON text already
    private final String idempotencyKey;    // empty: none

    private Payload(Kind kind, Object content, boolean written, String idempotencyKey) {
        this.kind = kind;
        this.content = content;
        this.written = written;
        this.idempotencyKey = idempotencyKey;
    }

    /** Text, sent as it is. */
    public static Payload text(String text) {
        return new Payload(Kind.TEXT, Objects.requireNonNull(text, "text"), false, "");
    }

    /**
     * Any value the app's JSON mapper can write (Javalin's {@code config.jsonMapper}, Jackson by default): an object,
     * a map, a list, a number. Written when published. A {@code String} becomes a JSON string; for JSON text the app
     * already has, use {@link #rawJson}.
     */
    public static Payload json(Object value) {
        return new Payload(Kind.JSON, Objects.requireNonNull(value, "value (for JSON null, use rawJson(\"null\"))"), false, "");
    }

    /** JSON text: exactly one JSON value, checked when published, and sent compact. */
    public static Payload rawJson(String json) {
        return new Payload(Kind.JSON, Objects.requireNonNull(json, "json"), true, "");
    }

    /** Bytes, copied now. */
    public static Payload bytes(byte[] data) {
        return new Payload(Kind.BYTES, Objects.requireNonNull(data, "data").clone(), false, "");
    }

    /**
     * The same payload with an idempotency key (1-256 characters): a publish with a key seen on the channel within
     * {@link SquallPlugin.Config#idempotencyWindow} publishes nothing and answers the first one's position, with
     * {@link Published#duplicate()} true. For a publish that may be retried after a failure.
     */
    public Payload idempotencyKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty() || key.length() > 256) {
            throw new IllegalArgumentException("an idempotency key is 1-256 characters, got " + key.length());
        }
        return new Payload(kind, content, written, key);
    }

    /** What it carries. */
    public Kind kind() {
        return kind;
    }

    /** The text ({@link Kind#TEXT}), or the JSON text of a {@link #rawJson} payload. */
    public String text() {
        if (kind == Kind.TEXT || written) return (String) content;
        throw new IllegalStateException("a " + kind + " payload" + (kind == Kind.JSON ? " of a value" : "") + " has no text");
    }

    /** A copy of the bytes ({@link Kind#BYTES}). */
    public byte[] bytes() {
        if (kind != Kind.BYTES) throw new IllegalStateException("a " + kind + " payload has no bytes");
        return ((byte[]) content).clone();
    }

    /** The value to write as JSON ({@link #json} payloads); a {@link #rawJson} payload's value is its {@link #text}. */
    public Object value() {
        if (kind != Kind.JSON) throw new IllegalStateException("a " + kind + " payload has no JSON value");
        return content;
    }

    /** Whether this is JSON text already ({@link #rawJson}) rather than a value to write. */
    public boolean isWritten() {
        return written;
    }

    /** The idempotency key, or the empty string for none. */
    public String idempotencyKey() {
        return idempotencyKey;
    }

    @Override
    public String toString() {
        return "Payload[" + kind + (idempotencyKey.isEmpty() ? "" : ", key " + idempotencyKey) + "]";
    }
}
