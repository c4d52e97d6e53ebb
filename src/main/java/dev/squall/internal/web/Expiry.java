package dev.squall.internal.web;

import dev.squall.internal.auth.AuthSettings;
import dev.squall.internal.hub.Connection;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection when its token expires, {@link AuthSettings#EXPIRY_GRACE} after its {@code exp}, unless set
 * again first (a {@code squall.v1} refresh). The client is told to come back with a fresh token; it reconnects from
 * its position, so nothing is lost.
 */
final class Expiry {

    /** The token expired (Centrifugo's code: the client reconnects with a fresh token). */
    static final int EXPIRED = 3005;
    /** A subscription token expired (Centrifugo's code: the client reconnects). */
    static final int SUBSCRIPTION_EXPIRED = 3006;

    private final ScheduledExecutorService timer;
    private final Connection connection;
    private final int code;
    private final String reason;
    private @Nullable ScheduledFuture<?> pending;

    Expiry(ScheduledExecutorService timer, Connection connection, int code, String reason) {
        this.timer = timer;
        this.connection = connection;
        this.code = code;
        this.reason = reason;
    }

    /** Closes the connection at {@code expiresAt} plus the grace (none when null), instead of any earlier setting. */
    synchronized void set(@Nullable Instant expiresAt) {
        cancel();
        if (expiresAt == null) return;
        long delay = Duration.between(Instant.now(), expiresAt.plus(AuthSettings.EXPIRY_GRACE)).toMillis();
        try {
            pending = timer.schedule(() -> connection.close(code, reason), Math.max(0, delay), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // The node is stopping, and closes every connection itself.
        }
    }

    /** The connection went first: nothing left to close. */
    synchronized void cancel() {
        if (pending != null) pending.cancel(false);
        pending = null;
    }
}
