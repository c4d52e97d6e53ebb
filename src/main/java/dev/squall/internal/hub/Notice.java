package dev.squall.internal.hub;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.squall.internal.broker.Message;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What the server itself tells a plain client in-band, such as how many messages drop-oldest dropped.
 *
 * <p>Plain clients get raw frames (the tutorial's protocol), so a notice is a text frame too; what makes it
 * trustworthy is a reserved envelope: a JSON object with a top-level {@code "squall"} member. The server sends
 * such frames, and refuses any publish that {@link #isReserved looks like one}, so a page may believe every
 * frame that carries the key.
 */
public final class Notice {

    /** The reserved top-level key. */
    public static final String KEY = "squall";

    /**
     * Without Jackson's limits on nesting, numbers and names: a browser's {@code JSON.parse} has none of them, so
     * the member after a 1001-deep array is one a page reads. A publish is bounded in size anyway.
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .maxDocumentLength(-1)
                    .maxTokenCount(-1)
                    .build())
            .build();

    private Notice() {
    }

    /** {@code {"squall":"dropped","count":N}}: N messages were dropped just before the next one. */
    static Message dropped(int count) {
        return Message.text("{\"" + KEY + "\":\"dropped\",\"count\":" + count + "}");
    }

    /**
     * {@code {"squall":"subscribed","channel":C,"offset":N,"epoch":E}}, with {@code "recovered":true|false} when
     * recovery was asked for: the first frame on a channel. The client's next message has offset N + 1 (and each
     * one after it the next offset, drop notices adding their count), so it knows where to recover from.
     */
    public static Message subscribed(Subscribed started) {
        StringBuilder json = new StringBuilder("{\"" + KEY + "\":\"subscribed\",\"channel\":\"").append(started.channel())
                .append("\",\"offset\":").append(started.after())
                .append(",\"epoch\":\"").append(started.position().epoch()).append('"');
        if (started.recovered() != null) json.append(",\"recovered\":").append(started.recovered());
        return Message.text(json.append('}').toString());
    }

    /**
     * Whether a page parsing this frame as JSON would find a top-level {@code "squall"} member: what no publisher
     * may send. Only text that starts (after whitespace) with {@code {} is parsed, and only up to that member.
     * Fails closed: text that starts like an object and that this parser could not read to the end for want of
     * a limit (not for a syntax error, which a page's {@code JSON.parse} refuses as well) counts as reserved.
     */
    public static boolean isReserved(Message message) {
        if (message.kind() != Message.Kind.TEXT || !startsLikeAnObject(message.payload())) return false;
        ByteBuffer payload = message.payload();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        try (JsonParser parser = JSON.createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) return false;
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                if (KEY.equals(parser.currentName())) return true;   // escapes such as squ\u0061ll are decoded
                parser.nextToken();
                parser.skipChildren();
            }
            return false;
        } catch (StreamConstraintsException unreadable) {
            return true;                                             // cannot tell: refused rather than let through
        } catch (IOException notJson) {
            return false;                                            // a page's JSON.parse fails on it too
        }
    }

    private static boolean startsLikeAnObject(ByteBuffer payload) {
        while (payload.hasRemaining()) {
            byte b = payload.get();
            if (b == '{') return true;
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
        }
        return false;
    }
}
