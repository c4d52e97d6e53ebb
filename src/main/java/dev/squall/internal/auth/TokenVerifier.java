package dev.squall.internal.auth;

import org.jspecify.annotations.Nullable;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;

/**
 * Checks a signed token (a JWT, as Centrifugo's connection and subscription tokens are) and says what it grants.
 *
 * <p>The claims, with Centrifugo's names where they overlap: {@code sub} (required; {@code ""} is an anonymous user),
 * {@code exp} (enforced; a token without it never expires, as in Centrifugo), {@code nbf}, {@code iat} (read, not
 * checked), {@code aud} (must contain the configured audience, if one is), {@code iss} (must equal the configured
 * issuer, if one is), {@code info} (a JSON object, at most {@value dev.squall.Identity#MAX_INFO_LENGTH} characters
 * compact), {@code channels} (an array of channel names and {@code prefix*} patterns; {@code *} alone covers every
 * channel) and {@code channel} (a subscription token's one channel). {@code exp} and {@code nbf} get
 * {@link #MAX_CLOCK_SKEW} of leeway, no more.
 *
 * <p>Refused without looking further: a token over {@link #MAX_TOKEN_LENGTH} characters, {@code alg: none}, an
 * encrypted token, and any algorithm the configured keys do not allow (an HMAC secret: HS256, and HS384/HS512 when
 * it is long enough for them; an RSA key: RS256/384/512 and PS256/384/512; an EC key: the ES algorithm of its curve;
 * a JWKS: the RSA and EC algorithms its keys allow, never HS* or none).
 */
public interface TokenVerifier {

    /** The longest token, in characters, checked before parsing: Centrifugo's tokens are a few hundred. */
    int MAX_TOKEN_LENGTH = 8192;

    /** Leeway on {@code exp} and {@code nbf} for clocks that disagree a little. */
    Duration MAX_CLOCK_SKEW = Duration.ofSeconds(1);

    /**
     * The verifier for {@code settings}, errors naming the settings as {@link TokenSettings}'s fields do with a
     * {@code token} prefix ({@code tokenHmacSecret}); see {@link #create(TokenSettings, Function)}.
     */
    static @Nullable TokenVerifier create(TokenSettings settings) {
        return create(settings, field -> field);
    }

    /**
     * The verifier for {@code settings}, or null when it has no key. Reads a public key file now; a JWKS is fetched
     * only when a token first needs it.
     *
     * @param names how the user writes each setting, by the field name of {@code SquallPlugin.Config}
     *              ({@code tokenHmacSecret}, {@code tokenPublicKey}, {@code tokenJwksUrl}, {@code tokenAudience},
     *              {@code tokenIssuer}), such as {@code SettingNames::name}
     * @throws IllegalArgumentException naming the setting: a secret under 32 bytes (never quoted), an unreadable or
     *                                  non-PEM key file, a key too weak or of another kind, a URL that is not http(s),
     *                                  both a key file and a JWKS, an empty audience or issuer, an audience or issuer
     *                                  with no key
     */
    static @Nullable TokenVerifier create(TokenSettings settings, Function<String, String> names) {
        return create(settings, names, Clock.systemUTC());
    }

    /** As {@link #create(TokenSettings, Function)}, with {@code clock} telling the time {@code exp} and {@code nbf} are checked at. */
    static @Nullable TokenVerifier create(TokenSettings settings, Function<String, String> names, Clock clock) {
        return JwtVerifier.create(settings, names, clock);
    }

    /**
     * What {@code token} grants, or why it grants nothing. May block, on a JWKS fetch for a key id not seen yet:
     * callers run it off Jetty's threads. Thread-safe.
     *
     * @throws TokenRejected for any token that is not good, with its reason and a message that never quotes it
     */
    VerifiedToken verify(String token) throws TokenRejected;

    /**
     * What checks tokens, in a few words for a start-up line: "an HMAC secret (HS256)", "the 2048-bit RSA public key
     * in FILE (...)", "the keys of the JWKS at URL (...)", with the audience and issuer required. Never the secret.
     */
    String describe();
}
