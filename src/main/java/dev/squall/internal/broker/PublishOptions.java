package dev.squall.internal.broker;

import org.jspecify.annotations.Nullable;

import java.time.Duration;

/**
 * How one publish is kept: how many of the channel's publications its history holds and for how long, and an
 * optional idempotency key that makes a retried publish a no-op within {@code idempotencyWindow}.
 *
 * @param historySize 0: no history, offsets are still assigned
 * @param historyTtl  how long each publication stays in history after it was published
 */
public record PublishOptions(int historySize, java.time.Duration historyTtl, @Nullable String idempotencyKey,
                             Duration idempotencyWindow) {

    public PublishOptions {
        if (historySize < 0) throw new IllegalArgumentException("historySize must not be negative");
        if (historyTtl.isNegative()) throw new IllegalArgumentException("historyTtl must not be negative");
        if (idempotencyWindow.isNegative()) throw new IllegalArgumentException("idempotencyWindow must not be negative");
    }

    /** No history, no idempotency: what a tutorial broadcast needs. */
    public static final PublishOptions NO_HISTORY = new PublishOptions(0, Duration.ZERO, null, Duration.ZERO);

    /** The same options with this idempotency key (null: none). */
    public PublishOptions withIdempotencyKey(@Nullable String key, Duration window) {
        return new PublishOptions(historySize, historyTtl, key, window);
    }
}
