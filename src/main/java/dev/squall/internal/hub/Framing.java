package dev.squall.internal.hub;

import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import org.jspecify.annotations.Nullable;

/**
 * How one protocol puts a channel's publications, and the hub's own notices, into frames: plain WebSocket
 * clients get the message itself (the tutorial's protocol); {@code squall.v1} and SSE clients get it wrapped with
 * its channel and offset.
 *
 * <p>Contract: {@link #frame} is a pure function of its arguments (the hub makes each publication's frame once
 * per framing and gives every subscriber speaking it the same bytes, so it may be called once for many
 * connections); it never returns null, and never throws for a publication that passed the publish checks.
 */
public interface Framing {

    /** The tutorial's protocol: the published text or bytes as they are. */
    Framing PLAIN = new Framing() {
        @Override
        public Message frame(String channel, Publication publication) {
            return publication.message();
        }

        @Override
        public Message dropped(int count) {
            return Notice.dropped(count);
        }

        @Override
        public Message reset(Subscribed restarted) {
            return Notice.subscribed(restarted);
        }

        @Override
        public long frameBound(String channel, Message message) {
            return message.size();
        }

        @Override
        public String clients() {
            return "plain WebSocket clients";
        }

        @Override
        public String toString() {
            return "Framing.PLAIN";
        }
    };

    /** The frame that carries {@code publication} of {@code channel}. */
    Message frame(String channel, Publication publication);

    /**
     * At least the size of {@link #frame}'s frame for a publication of {@code message} on {@code channel}, whatever
     * its offset and epoch: framing can multiply a message (JSON escapes a control character to six bytes, SSE adds a
     * {@code data: } to every line), and a publish is refused when its largest frame would not fit twice in a
     * client's queue. Cheap: one pass over the message at most. Never more than {@link #MAX_GROWTH} times the
     * message's size plus {@link #MAX_OVERHEAD} and the channel's name, so a message small enough for that is not
     * scanned at all.
     */
    long frameBound(String channel, Message message);

    /** How many times larger than the message a frame may be at most (SSE: a line feed becomes {@code \ndata: }). */
    int MAX_GROWTH = 7;

    /** What a frame may add to a message at most, besides its growth and the channel's name. */
    int MAX_OVERHEAD = 512;

    /** Who gets these frames, for an error that says which framing made a message too large. */
    String clients();

    /** The frame that tells the client that {@code count} messages were dropped just before the next one. */
    Message dropped(int count);

    /**
     * The event that tells a subscriber of {@code channel} that {@code who} has joined it (channels whose namespace
     * has presence on), or null for a protocol that has no such event (plain clients: none).
     */
    default @Nullable Message joined(String channel, Member who) {
        return null;
    }

    /**
     * The notice that tells a live subscriber it is not recovered: the broker lost publications it could not read
     * back (see {@link dev.squall.internal.broker.Broker.Handler#reset}); {@code restarted.recovered()} is false, and what
     * follows comes after {@code restarted.after()}. Null: the protocol has no such notice (nothing is sent).
     */
    default @Nullable Message reset(Subscribed restarted) {
        return null;
    }

    /** As {@link #joined}, for a subscriber that has left (unsubscribed or disconnected). */
    default @Nullable Message left(String channel, Member who) {
        return null;
    }
}
