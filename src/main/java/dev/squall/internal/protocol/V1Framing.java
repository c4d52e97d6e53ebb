package dev.squall.internal.protocol;

import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.hub.Subscribed;

/**
 * How {@code squall.v1} connections get a channel's publications: {@code {"channel","offset","data"}}, made once
 * per publication for all of them (the hub shares the frame), and the hub's notices as events.
 */
public final class V1Framing implements Framing {

    private final Codec codec;

    public V1Framing(Codec codec) {
        this.codec = codec;
    }

    /** The codec the frames come from, for the replies of the same connections. */
    public Codec codec() {
        return codec;
    }

    @Override
    public Message frame(String channel, Publication publication) {
        return codec.publication(channel, publication);
    }

    @Override
    public long frameBound(String channel, Message message) {
        return codec.publicationBound(channel, message);
    }

    @Override
    public String clients() {
        return "squall.v1 clients (JSON escapes a control character to up to 6 bytes)";
    }

    @Override
    public Message dropped(int count) {
        return codec.dropped(count);
    }

    @Override
    public Message reset(Subscribed restarted) {
        return codec.reset(restarted);
    }

    @Override
    public Message joined(String channel, Member who) {
        return codec.presenceEvent(true, channel, who);
    }

    @Override
    public Message left(String channel, Member who) {
        return codec.presenceEvent(false, channel, who);
    }

    @Override
    public String toString() {
        return "V1Framing";
    }
}
