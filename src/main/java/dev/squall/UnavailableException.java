package dev.squall;

/**
 * Squall cannot do what was asked now, and may later: with {@link SquallPlugin.Config#redis Redis}, it cannot be
 * reached or did not answer in time, or too many calls wait for it; in memory, the node already keeps as many
 * idempotency keys as it holds. A refused publish published nothing; one that timed out on a slow Redis may have
 * been published, so a retry should carry an idempotency key ({@link Payload#idempotencyKey(String)}), which makes
 * it publish once. Over HTTP Squall answers it with 503 and {@code Retry-After}, in {@code squall.v1} with
 * {@code unavailable}.
 */
public class UnavailableException extends IllegalStateException {

    /** With the reason, in words fit for a log line or a client. */
    public UnavailableException(String message) {
        super(message);
    }

    /** With the reason and what caused it. */
    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
