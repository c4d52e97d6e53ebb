package dev.squall.internal.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import com.nimbusds.jwt.proc.JWTClaimsSetVerifier;
import dev.squall.Identity;
import dev.squall.internal.auth.TokenRejected.Reason;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * {@link TokenVerifier} on nimbus-jose-jwt: its {@link DefaultJWTProcessor} checks the signature with {@link Keys}
 * and then the standard claims with {@link DefaultJWTClaimsVerifier}s; this class only bounds the input, refuses
 * what no key allows before any key is looked at, tells the reasons apart, and reads Squall's own claims.
 */
final class JwtVerifier implements TokenVerifier {

    private static final Logger log = LoggerFactory.getLogger(JwtVerifier.class);

    /** {@code typ}: absent or JWT, as Centrifugo's tokens have, or at+jwt, as some providers' access tokens have. */
    private static final DefaultJOSEObjectTypeVerifier<SecurityContext> TYPES = new DefaultJOSEObjectTypeVerifier<>(
            JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null);

    private final Keys keys;
    private final @Nullable String audience;
    private final @Nullable String issuer;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    /** When a JWKS failure was last logged: an endpoint that is down fails every token, and one line in a while says it. */
    private final AtomicLong lastKeysWarning = new AtomicLong(Long.MIN_VALUE);

    private JwtVerifier(Keys keys, @Nullable String audience, @Nullable String issuer, Clock clock) {
        this.keys = keys;
        this.audience = audience;
        this.issuer = issuer;
        processor.setJWSTypeVerifier((type, context) -> {
            try {
                TYPES.verify(type, context);
            } catch (BadJOSEException e) {
                throw new Refused(Reason.MALFORMED, "the token's typ header is not JWT");
            }
        });
        processor.setJWSKeySelector(keys.selector());
        processor.setJWTClaimsSetVerifier(new ClaimChecks(audience, issuer, clock));
    }

    /** See {@link TokenVerifier#create(TokenSettings, Function, Clock)}. */
    static @Nullable TokenVerifier create(TokenSettings settings, Function<String, String> names, Clock clock) {
        String audience = settings.audience();
        String issuer = settings.issuer();
        String anyKey = names.apply("tokenHmacSecret") + ", " + names.apply("tokenPublicKey") + " or " + names.apply("tokenJwksUrl");
        if (!settings.anyKey()) {
            String without = audience != null ? "tokenAudience" : issuer != null ? "tokenIssuer" : null;
            if (without != null) {
                throw new IllegalArgumentException(names.apply(without) + " is set, but no key to check tokens with: set " + anyKey);
            }
            return null;
        }
        if (settings.publicKey() != null && settings.jwksUrl() != null) {
            throw new IllegalArgumentException("set one of " + names.apply("tokenPublicKey") + " and " + names.apply("tokenJwksUrl")
                    + ", not both (a JWKS can hold several keys)");
        }
        if (audience != null && audience.isBlank()) {
            throw new IllegalArgumentException(names.apply("tokenAudience") + " must not be empty: leave it out to accept any audience");
        }
        if (issuer != null && issuer.isBlank()) {
            throw new IllegalArgumentException(names.apply("tokenIssuer") + " must not be empty: leave it out to accept any issuer");
        }
        Keys keys = null;
        if (settings.hmacSecret() != null) keys = Keys.hmac(settings.hmacSecret(), names.apply("tokenHmacSecret"));
        Keys asymmetric = null;
        if (settings.publicKey() != null) asymmetric = Keys.publicKey(settings.publicKey(), names.apply("tokenPublicKey"));
        if (settings.jwksUrl() != null) asymmetric = Jwks.keys(settings.jwksUrl(), names.apply("tokenJwksUrl"));
        if (asymmetric != null) keys = keys == null ? asymmetric : keys.and(asymmetric);
        if (keys == null) throw new IllegalStateException("anyKey() and no key");
        return new JwtVerifier(keys, audience, issuer, clock);
    }

    @Override
    public VerifiedToken verify(String token) throws TokenRejected {
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw new TokenRejected(Reason.TOO_LARGE, "the token is longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        SignedJWT signed = signed(token);
        if (!keys.algorithms().contains(signed.getHeader().getAlgorithm())) {
            throw new TokenRejected(Reason.WRONG_ALGORITHM, "the token's algorithm is not one this server accepts ("
                    + Keys.names(keys.algorithms()) + ")");
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(signed, null);
        } catch (Refused e) {
            throw e.rejection;
        } catch (BadJWSException e) {
            throw new TokenRejected(Reason.BAD_SIGNATURE, "the token's signature does not match");
        } catch (BadJWTException e) {
            throw new TokenRejected(Reason.MALFORMED, "the token's payload is not a JSON object of JWT claims");
        } catch (BadJOSEException e) {
            throw new TokenRejected(Reason.BAD_SIGNATURE, "no key this server has matches the token's key id");
        } catch (KeySourceException e) {
            warnKeysUnavailable(e);
            throw new TokenRejected(Reason.KEYS_UNAVAILABLE, "the keys to check the token with are unavailable; try again later");
        } catch (JOSEException e) {
            throw new TokenRejected(Reason.BAD_SIGNATURE, "the token's signature could not be checked");
        } catch (RuntimeException e) {
            throw malformed(e);
        }
        return granted(claims);
    }

    @Override
    public String describe() {
        return keys.description() + (audience == null ? "" : ", audience " + audience)
                + (issuer == null ? "" : ", issuer " + issuer);
    }

    /** The token as a JWS, or why not: not a JWT at all, unsecured ({@code alg: none}), or encrypted. */
    private static SignedJWT signed(String token) throws TokenRejected {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException | RuntimeException e) {
            throw malformed(e);
        }
        if (jwt instanceof SignedJWT signed) return signed;
        if (jwt instanceof PlainJWT) throw new TokenRejected(Reason.WRONG_ALGORITHM, "unsecured tokens (alg none) are refused");
        throw new TokenRejected(Reason.WRONG_ALGORITHM, "encrypted tokens (JWE) are not accepted: sign the token (JWS)");
    }

    /** A parser's exception says what it found, which is the token's: only its type is logged, at debug. */
    private static TokenRejected malformed(Exception e) {
        log.debug("A malformed token: {}", e.getClass().getName());
        return new TokenRejected(Reason.MALFORMED, "the token is not a signed JWT (header.payload.signature, base64url)");
    }

    private void warnKeysUnavailable(KeySourceException e) {
        if (e instanceof RateLimitReachedException) return;          // the fetch that failed was logged
        long now = System.nanoTime();
        long last = lastKeysWarning.get();
        if (last != Long.MIN_VALUE && now - last < Jwks.MIN_FETCH_INTERVAL.toNanos()) return;
        if (!lastKeysWarning.compareAndSet(last, now)) return;
        Throwable root = e;
        while (root.getCause() != null) root = root.getCause();
        log.warn("Tokens cannot be checked against {}: {}; they are refused as keys unavailable until the key set is fetched",
                keys.description(),
                root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName());
    }

    /** What the claims grant: the identity, the channels, the subscription token's channel, the expiry. */
    private static VerifiedToken granted(JWTClaimsSet claims) throws TokenRejected {
        String user = claims.getSubject();
        if (user == null) {
            throw new TokenRejected(Reason.MISSING_SUBJECT, "the token has no sub claim (the user id; \"\" for an anonymous user)");
        }
        String info;
        try {
            Map<String, Object> object = claims.getJSONObjectClaim("info");
            info = object == null ? null : JSONObjectUtils.toJSONString(object);
        } catch (ParseException e) {
            throw badClaim("the token's info claim must be a JSON object");
        }
        Identity identity;
        try {
            identity = Identity.of(user, info);
        } catch (IllegalArgumentException e) {
            // Identity's own sentence: a limit and a length, nothing of the token's
            throw badClaim("the token's " + (user.length() > Identity.MAX_USER_LENGTH ? "sub claim" : "info claim")
                    + " is too large: " + e.getMessage());
        }
        Date expires = claims.getExpirationTime();
        return new VerifiedToken(identity, channels(claims), channel(claims), expires == null ? null : expires.toInstant());
    }

    private static List<String> channels(JWTClaimsSet claims) throws TokenRejected {
        List<String> channels;
        try {
            channels = claims.getStringListClaim("channels");
        } catch (ParseException e) {
            throw badClaim("the token's channels claim must be an array of strings");
        }
        if (channels == null) return List.of();
        for (String channel : channels) {
            if (channel == null || channel.isEmpty()) throw badClaim("the token's channels claim has an empty or null entry");
            int star = channel.indexOf('*');
            if (star >= 0 && star != channel.length() - 1) {
                throw badClaim("the token's channels claim has a '*' that does not end its entry (prefix* is a pattern)");
            }
        }
        return channels;
    }

    private static @Nullable String channel(JWTClaimsSet claims) throws TokenRejected {
        Object channel = claims.getClaim("channel");
        if (channel == null) return null;
        if (!(channel instanceof String name) || name.isEmpty()) throw badClaim("the token's channel claim must be a channel name");
        return name;
    }

    private static TokenRejected badClaim(String message) {
        return new TokenRejected(Reason.BAD_CLAIM, message);
    }

    /**
     * A refusal with its reason, through nimbus's processor: nimbus throws {@link BadJWTException} from a claims
     * check and passes it on unchanged, so the reason survives without reading nimbus's messages.
     */
    private static final class Refused extends BadJWTException {
        private static final long serialVersionUID = 1L;
        private final TokenRejected rejection;

        Refused(Reason reason, String message) {
            super(message);
            this.rejection = new TokenRejected(reason, message);
        }

        /** No stack: one is made for every refused token, and its reason is all that is read. */
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /**
     * The standard claims, each checked by nimbus's {@link DefaultJWTClaimsVerifier} configured for it alone, so that
     * a failure tells which: first the time ({@code exp}, {@code nbf}, {@link #MAX_CLOCK_SKEW} of leeway), then the
     * audience and the issuer when configured.
     */
    private static final class ClaimChecks implements JWTClaimsSetVerifier<SecurityContext> {
        private final DefaultJWTClaimsVerifier<SecurityContext> time;
        private final @Nullable DefaultJWTClaimsVerifier<SecurityContext> audience;
        private final @Nullable DefaultJWTClaimsVerifier<SecurityContext> issuer;

        ClaimChecks(@Nullable String audience, @Nullable String issuer, Clock clock) {
            this.time = new DefaultJWTClaimsVerifier<>(null, null) {
                @Override
                protected Date currentTime() {
                    return new Date(clock.millis());
                }
            };
            time.setMaxClockSkew((int) MAX_CLOCK_SKEW.toSeconds());
            this.audience = audience == null ? null : untimed(new DefaultJWTClaimsVerifier<>(audience, null, null));
            this.issuer = issuer == null ? null
                    : untimed(new DefaultJWTClaimsVerifier<>(new JWTClaimsSet.Builder().issuer(issuer).build(), null));
        }

        @Override
        public void verify(JWTClaimsSet claims, @Nullable SecurityContext context) throws BadJWTException {
            try {
                time.verify(claims, context);
            } catch (ExpiredJWTException e) {
                throw new Refused(Reason.EXPIRED, "the token has expired");
            } catch (BadJWTException e) {
                throw new Refused(Reason.NOT_YET_VALID, "the token is not valid yet (nbf)");
            }
            check(audience, claims, context, Reason.WRONG_AUDIENCE, "the token's aud does not name this server's audience");
            check(issuer, claims, context, Reason.WRONG_ISSUER, "the token's iss is not this server's issuer");
        }

        private static void check(@Nullable DefaultJWTClaimsVerifier<SecurityContext> verifier, JWTClaimsSet claims,
                                  @Nullable SecurityContext context, Reason reason, String message) throws Refused {
            if (verifier == null) return;
            try {
                verifier.verify(claims, context);
            } catch (BadJWTException e) {
                throw new Refused(reason, message);
            }
        }

        /** Checks what {@code configured} was made for, and not the time, which {@link #time} has checked. */
        private static DefaultJWTClaimsVerifier<SecurityContext> untimed(DefaultJWTClaimsVerifier<SecurityContext> configured) {
            return new DefaultJWTClaimsVerifier<>(configured.getAcceptedAudienceValues(), configured.getExactMatchClaims(),
                    configured.getRequiredClaims(), configured.getProhibitedClaims()) {
                @Override
                protected @Nullable Date currentTime() {
                    return null;
                }
            };
        }
    }
}
