package dev.squall.internal.broker;

import dev.squall.UnavailableException;

/**
 * The broker cannot do what was asked now, because what holds the streams (Redis) cannot be reached or did not
 * answer in time. A refused publish published nothing; one that timed out may have been published, so a retry
 * should carry an idempotency key, which makes it publish once. Squall answers it with 503 and {@code Retry-After}
 * over HTTP, and {@code unavailable} in {@code squall.v1}; an app that publishes sees the API's
 * {@link UnavailableException}, which this is.
 */
public final class Unavailable extends UnavailableException {

    public Unavailable(String message, Throwable cause) {
        super(message, cause);
    }

    public Unavailable(String message) {
        super(message);
    }
}
