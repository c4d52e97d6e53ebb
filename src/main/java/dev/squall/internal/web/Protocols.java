package dev.squall.internal.web;

import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Framing;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.V1Framing;

import java.util.List;

/**
 * The client protocols the web layer speaks, made once per node: the plain one, {@code squall.v1} and SSE. The
 * node is told how they frame a channel's publications, so that it can refuse a publish one of them would make too
 * large for a client's queue; the routes use the same instances.
 */
public final class Protocols {

    private final V1Framing v1 = new V1Framing(new Codec(ChannelName::problem, RecoveryParams.MAX_EPOCH_LENGTH,
            PublishDecoder.MAX_IDEMPOTENCY_KEY));

    /** The framing of {@code squall.v1} connections, and its codec for their replies. */
    public V1Framing v1() {
        return v1;
    }

    /** How each protocol that can subscribe to a named channel frames its publications. */
    public List<Framing> channelFramings() {
        return List.of(Framing.PLAIN, v1, SseFraming.EVENTS);
    }
}
