package dev.squall.internal.auth;

import dev.squall.Identity;
import org.jspecify.annotations.Nullable;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a good token says: who its holder is, and which channels it lets them subscribe to.
 *
 * @param identity  the {@code sub} claim (empty: an anonymous user) and the {@code info} claim, as compact JSON
 * @param channels  the {@code channels} claim: channel names, and patterns {@code prefix*} that cover every channel
 *                  starting with the prefix ({@code chat:*} covers {@code chat:room1}); {@code *} alone covers every
 *                  channel (a service's token, say). Empty when the claim is absent.
 * @param channel   the {@code channel} claim of a subscription token (Centrifugo's name for a token that grants one
 *                  channel), or null
 * @param expiresAt the {@code exp} claim, or null: a token without one never expires (as Centrifugo's)
 */
public record VerifiedToken(Identity identity, List<String> channels, @Nullable String channel,
                            @Nullable Instant expiresAt) {

    public VerifiedToken {
        Objects.requireNonNull(identity, "identity");
        channels = List.copyOf(channels);
    }

    /**
     * Whether this token lets its holder subscribe to {@code channel}: it is an exact name in {@link #channels}, or
     * starts with the prefix of a {@code prefix*} pattern there ({@code *} alone covers every channel), or, for a
     * subscription token, it is the token's {@link #channel}.
     */
    public boolean covers(String channel) {
        if (channel.equals(this.channel)) return true;
        for (String granted : channels) {
            boolean pattern = granted.endsWith("*");
            if (pattern ? channel.startsWith(granted.substring(0, granted.length() - 1)) : granted.equals(channel)) return true;
        }
        return false;
    }

    /** A subscription token: it has a {@code channel} claim. */
    public boolean isSubscriptionToken() {
        return channel != null;
    }
}
