package dev.squall.internal.web;

import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.hub.Subscribed;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A channel's publications as Server-Sent Events ({@code text/event-stream}): each one an event whose {@code id:}
 * is {@code OFFSET:EPOCH} and whose {@code data:} is the message as a plain WebSocket client gets it (text as it
 * is, one {@code data:} line per line; binary as base64 in an {@code event: binary}).
 *
 * <p>Why the epoch is in the id: an EventSource sends its last id back as {@code Last-Event-ID} when it
 * reconnects, on its own. With the offset alone, a client that reconnects after a restart (a new stream, offsets
 * from 1 again) would be given "what came after 41" of a stream it has never seen; with the epoch it is told
 * {@code recovered: false} instead.
 */
public final class SseFraming implements Framing {

    /** The one instance: the hub shares a publication's frame among the connections whose framing is the same. */
    public static final SseFraming EVENTS = new SseFraming();

    /** How long an EventSource waits before it reconnects, in milliseconds: the {@code retry:} hint. */
    static final int RETRY_MILLIS = 3000;

    /** A comment line: keeps proxies and the browser from timing the stream out, and shows the peer still reads. */
    static final Message PING = Message.text(": ping\n\n");

    private SseFraming() {
    }

    @Override
    public Message frame(String channel, Publication publication) {
        Message message = publication.message();
        StringBuilder event = new StringBuilder(message.size() + 48);
        if (message.kind() == Message.Kind.BINARY) event.append("event: binary\n");
        event.append("id: ").append(publication.offset()).append(':').append(publication.epoch()).append('\n');
        if (message.kind() == Message.Kind.BINARY) {
            byte[] bytes = new byte[message.size()];
            message.payload().get(bytes);
            event.append("data: ").append(Base64.getEncoder().encodeToString(bytes)).append('\n');
        } else {
            appendData(event, message.textPayload());
        }
        return utf8(event.append('\n'));
    }

    /** {@code event: binary}, {@code id: OFFSET:EPOCH} at its longest, and the blank line that ends an event. */
    private static final int EVENT_OVERHEAD = 120;

    /**
     * At least the size of {@link #frame}'s event for {@code message}: {@code data: } and a line feed for every line
     * (a message of line feeds is seven times its size), bytes as base64 on one line.
     */
    @Override
    public long frameBound(String channel, Message message) {
        if (message.kind() == Message.Kind.BINARY) return EVENT_OVERHEAD + 7 + 4L * ((message.size() + 2) / 3);
        long breaks = 0;
        ByteBuffer payload = message.payload();
        while (payload.hasRemaining()) {
            byte b = payload.get();
            if (b == '\n' || b == '\r') breaks++;             // a CR LF is one line break, so this is an upper bound
        }
        // Each line is "data: " + its text + "\n"; the breaks themselves are not sent.
        return EVENT_OVERHEAD + message.size() - breaks + 7 * (breaks + 1);
    }

    @Override
    public String clients() {
        return "SSE clients (each line of text takes a 'data: ' line)";
    }

    /** {@code event: dropped}, {@code data: {"count":N}}: drop-oldest dropped N events just before the next one. */
    @Override
    public Message dropped(int count) {
        return utf8(new StringBuilder("event: dropped\ndata: {\"count\":").append(count).append("}\n\n"));
    }

    /**
     * The first event of every stream: the {@code retry:} hint, then {@code event: subscribed} whose id is the
     * position the client starts after (so a reconnect before any publication still recovers from there) and
     * whose data is the plain client's notice without its {@code "squall"} key.
     */
    static Message subscribed(Subscribed started) {
        String epoch = started.position().epoch();
        StringBuilder event = new StringBuilder(160).append("retry: ").append(RETRY_MILLIS).append('\n')
                .append("event: subscribed\n")
                .append("id: ").append(started.after()).append(':').append(epoch).append('\n')
                .append("data: {\"channel\":\"").append(started.channel()).append("\",\"offset\":").append(started.after())
                .append(",\"epoch\":\"").append(epoch).append('"');
        if (started.recovered() != null) event.append(",\"recovered\":").append(started.recovered());
        return utf8(event.append("}\n\n"));
    }

    /** An {@code event: subscribed} with {@code "recovered":false}: a broker lost publications (Broker.Handler#reset). */
    @Override
    public Message reset(Subscribed restarted) {
        return subscribed(restarted);
    }

    /**
     * One {@code data:} line per line of the text: an EventSource joins them with a line feed, so the page gets the
     * text back, except that a carriage return (alone or before a line feed) comes back as a line feed, since SSE
     * cannot carry one.
     */
    private static void appendData(StringBuilder event, String text) {
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r') {
                event.append("data: ").append(text, start, i).append('\n');
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                start = i + 1;
            }
        }
        event.append("data: ").append(text, start, text.length()).append('\n');
    }

    private static Message utf8(CharSequence event) {
        return Message.utf8(event.toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "SseFraming.EVENTS";
    }
}
