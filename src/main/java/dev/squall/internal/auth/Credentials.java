package dev.squall.internal.auth;

import dev.squall.Identity;
import org.jspecify.annotations.Nullable;

import java.time.Instant;

/**
 * What a connection or request proved about itself: who it is, whether it holds the publish right (which allows
 * everything), and the token it proved it with, whose {@code channels} and {@code channel} claims grant channels and
 * whose {@code exp} ends the connection. Decided at the upgrade, or at a {@code squall.v1} {@code connect}, and
 * replaced whole by a {@code refresh}.
 *
 * @param identity  who the client is
 * @param publisher whether it presented the publish right
 * @param token     the token it connected with, or null when none decided (an open server, the app's hook)
 */
public record Credentials(Identity identity, boolean publisher, @Nullable VerifiedToken token) {

    /** Anyone, on a server where nothing decides who may connect. */
    public static final Credentials ANYONE = new Credentials(Identity.ANONYMOUS, false, null);
    /** A server-side client that presented the publish right. */
    public static final Credentials PUBLISHER = new Credentials(Identity.ANONYMOUS, true, null);

    /** Proved by a verified token. */
    public static Credentials of(VerifiedToken token) {
        return new Credentials(token.identity(), false, token);
    }

    /** Proved by the app (its hook, or its proxy). */
    public static Credentials of(Identity identity) {
        return new Credentials(identity, false, null);
    }

    /** Whether the token grants {@code channel} (its {@code channels}, or a subscription token's {@code channel}). */
    public boolean covers(String channel) {
        return token != null && token.covers(channel);
    }

    /** When the connection ends unless refreshed, or null for never. */
    public @Nullable Instant expiresAt() {
        return token == null ? null : token.expiresAt();
    }
}
