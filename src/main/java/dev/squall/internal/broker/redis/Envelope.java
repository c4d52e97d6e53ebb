package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A publication as it travels over Redis pub/sub: {@code kind:offset:epoch:payload}, written by
 * {@code publish.lua}. The kind is one byte ({@code t} text, {@code j} JSON, {@code b} binary); neither offset
 * (decimal) nor epoch (hex) holds a colon, and the payload is any bytes, so binary messages need no encoding.
 * The same pub/sub channel also carries join and leave events, {@code J:...} and {@code L:...}, which are no
 * publications: {@link RedisPresence} reads them.
 */
final class Envelope {

    private Envelope() {
    }

    /** The byte that {@code publish.lua} and stream entries store for a message's kind. */
    static byte kindOf(Message message) {
        if (message.kind() == Message.Kind.BINARY) return 'b';
        return message.isJson() ? (byte) 'j' : (byte) 't';
    }

    /** The message of that kind carrying {@code payload} (which it keeps: the caller must not change it). */
    static Message message(byte kind, byte[] payload) {
        return switch (kind) {
            case 'b' -> Message.binary(payload);
            case 'j' -> Message.json(new String(payload, StandardCharsets.UTF_8));
            case 't' -> Message.utf8(payload);          // it was valid UTF-8 when it was published
            default -> throw new IllegalArgumentException("unknown message kind '" + (char) kind + "'");
        };
    }

    /** Reads an envelope; throws {@link IllegalArgumentException} for one that no Squall wrote. */
    static Publication decode(byte[] envelope) {
        if (envelope.length < 2 || envelope[1] != ':') throw new IllegalArgumentException("not a Squall envelope");
        int offsetEnd = indexOf(envelope, 2);
        int epochEnd = indexOf(envelope, offsetEnd + 1);
        long offset = Long.parseLong(new String(envelope, 2, offsetEnd - 2, StandardCharsets.US_ASCII));
        String epoch = new String(envelope, offsetEnd + 1, epochEnd - offsetEnd - 1, StandardCharsets.US_ASCII);
        byte[] payload = Arrays.copyOfRange(envelope, epochEnd + 1, envelope.length);
        return new Publication(offset, message(envelope[0], payload), epoch);
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == ':') return i;
        }
        throw new IllegalArgumentException("not a Squall envelope");
    }
}
