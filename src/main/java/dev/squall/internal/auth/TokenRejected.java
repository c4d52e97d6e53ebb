package dev.squall.internal.auth;

import java.util.Objects;

/**
 * Why a token was refused. The message is a short sentence of Squall's own, safe to show the client and to log: it
 * never contains the token or any part of it (not its algorithm, key id or claims either, which a client chooses).
 *
 * <p>Thrown once per refused token, so it has no stack trace: a stream of bad tokens costs no stack walks.
 */
public final class TokenRejected extends Exception {

    private static final long serialVersionUID = 1L;

    /** What is wrong with the token. */
    public enum Reason {
        /** Not a JWS compact serialization, or its header or claims are not the JSON a JWT has. */
        MALFORMED,
        /** Longer than {@link TokenVerifier#MAX_TOKEN_LENGTH} characters; not parsed at all. */
        TOO_LARGE,
        /** The signature does not match, or no configured key has the token's key id. */
        BAD_SIGNATURE,
        /** {@code alg: none}, an encrypted token, or an algorithm the configured keys do not allow. */
        WRONG_ALGORITHM,
        /** Past its {@code exp} (more than {@link TokenVerifier#MAX_CLOCK_SKEW} ago). */
        EXPIRED,
        /** Before its {@code nbf} (by more than {@link TokenVerifier#MAX_CLOCK_SKEW}). */
        NOT_YET_VALID,
        /** An audience is configured and the token's {@code aud} does not contain it. */
        WRONG_AUDIENCE,
        /** An issuer is configured and the token's {@code iss} is not it. */
        WRONG_ISSUER,
        /** No {@code sub} claim (an empty one is fine: an anonymous user). */
        MISSING_SUBJECT,
        /** {@code sub}, {@code info}, {@code channels} or {@code channel} is not what Squall can use. */
        BAD_CLAIM,
        /**
         * The JWKS endpoint could not be reached or answered no usable key set, and no copy of it is cached: the
         * token may be good. Not the client's fault; it may try again later.
         */
        KEYS_UNAVAILABLE;

        /** Whether the same token may succeed later, through no change of the client's: {@link #KEYS_UNAVAILABLE}. */
        public boolean retryable() {
            return this == KEYS_UNAVAILABLE;
        }
    }

    private final Reason reason;

    /**
     * A refusal for {@code reason}, told as {@code message}.
     *
     * @param message a sentence of Squall's own: never the token, nor any part of it
     */
    public TokenRejected(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What is wrong with the token. */
    public Reason reason() {
        return reason;
    }

    /** A short sentence safe to show a client and to log: never contains the token or any part of it. */
    @Override
    public String getMessage() {
        return Objects.requireNonNull(super.getMessage());
    }

    @Override
    public String toString() {
        return "TokenRejected[" + reason + ": " + getMessage() + "]";
    }
}
