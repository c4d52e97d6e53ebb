package dev.squall.internal.broker;

import dev.squall.UnavailableException;

/**
 * A publish with an idempotency key was refused because the broker already holds as many live keys as it keeps
 * (the in-memory broker's bound on memory): nothing was published. Keys are never forgotten before their window
 * ends, since a retry that found its key gone would be published twice. Squall answers it with 503 and
 * {@code Retry-After} over HTTP, and {@code unavailable} in {@code squall.v1}; a publish without a key still goes.
 */
public final class TooManyIdempotencyKeys extends UnavailableException {

    private final String message;

    public TooManyIdempotencyKeys(String message) {
        super(message);
        this.message = message;
    }

    /** What the client is told: never null, unlike {@link Throwable#getMessage()} in general. */
    @Override
    public String getMessage() {
        return message;
    }
}
