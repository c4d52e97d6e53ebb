package dev.squall.internal.protocol;

import dev.squall.internal.broker.Message;
import dev.squall.internal.hub.Recovery;
import org.jspecify.annotations.Nullable;

/** One command from a {@code squall.v1} client, checked by the {@link Codec}; its reply carries the same {@link #id}. */
public sealed interface Command {

    /** From 1 to 2^53 - 1, so that JavaScript holds it exactly. */
    long id();

    /** {@code {"type":"connect","token"}}: who the connection is, when its upgrade did not say. */
    record Connect(long id, String token) implements Command {
    }

    /**
     * {@code {"type":"refresh","token","channel"?}}: a fresh connection token (same user) before the old one expires,
     * or with {@code channel} a fresh subscription token for that subscription.
     */
    record Refresh(long id, String token, @Nullable String channel) implements Command {
    }

    /**
     * {@code {"type":"subscribe","channel","since"?,"epoch"?,"token"?}}: start on a channel where {@code recovery} says;
     * {@code token}, a subscription token, grants a channel the connection's own token does not.
     */
    record Subscribe(long id, String channel, Recovery recovery, @Nullable String token) implements Command {
    }

    /** {@code {"type":"unsubscribe","channel"}}. */
    record Unsubscribe(long id, String channel) implements Command {
    }

    /** {@code {"type":"publish","channel","data","idempotency_key"?}}; {@code message} is the data as plain clients get it. */
    record Publish(long id, String channel, Message message, @Nullable String idempotencyKey) implements Command {
    }

    /** {@code {"type":"presence","channel"}}: how many are subscribed here, and where the channel's stream stands. */
    record Presence(long id, String channel) implements Command {
    }

    /** {@code {"type":"ping"}}: browsers cannot send ping frames, so the protocol has its own. */
    record Ping(long id) implements Command {
    }
}
