package dev.squall.internal.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Keys from a JWKS endpoint (Keycloak's, Auth0's, any OpenID provider's {@code jwks_uri}), through nimbus's
 * {@link JWKSourceBuilder}: fetched when a token first needs them, cached for {@link #CACHE_TTL}, fetched again at
 * once for a token whose {@code kid} the cached set lacks (a key rotation), but at most twice per
 * {@link #MIN_FETCH_INTERVAL} (nimbus's rate limit), so that a stream of tokens with made-up key ids cannot make
 * Squall hammer the endpoint. While the endpoint is down, a set fetched before is used for up to ten times its
 * cache time (nimbus's outage tolerance), so that a short outage of the identity provider refuses no good token.
 *
 * <p>No thread of its own: a fetch runs on the thread of the token that needs it (the caller's, off Jetty's), and
 * others that need the set meanwhile wait for it, at most {@link #REFRESH_WAIT}.
 */
final class Jwks {

    /** How long a fetched set is used before it is fetched again: nimbus's default. */
    static final Duration CACHE_TTL = Duration.ofMinutes(5);
    /**
     * Two fetches per interval at most (nimbus's rate limit counts that way: one for the cache's expiry, one for a
     * rotation). Shorter than nimbus's 30 s default: after a flood of unknown key ids used the allowance, a real
     * rotation's first tokens are refused for at most this long, and 0.2 fetches a second is nothing to a provider.
     */
    static final Duration MIN_FETCH_INTERVAL = Duration.ofSeconds(10);
    /** Connect and read timeouts of one fetch, each: a handshake waits this long at worst for a cold cache. */
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(2);
    /** How long a token waits for a fetch another token started. */
    static final Duration REFRESH_WAIT = Duration.ofSeconds(5);
    /** Any key: what asks whether the cache holds a set at all. */
    private static final JWKSelector ANY_KEY = new JWKSelector(new JWKMatcher.Builder().build());

    private Jwks() {
    }

    /**
     * RSA and EC keys from the JWKS at {@code url}, for the algorithms {@link Keys#asymmetric()}: never an HMAC key
     * (a JWKS is public) and never {@code none}. Which key a token may use is then the set's business: its type,
     * {@code kid}, {@code use} and {@code alg} must fit the token's header (nimbus's {@code JWKMatcher}).
     *
     * @throws IllegalArgumentException naming the setting when {@code url} is not an http(s) URL; nothing is fetched
     */
    static Keys keys(String url, String setting) {
        URL parsed = parse(url, setting);
        DefaultResourceRetriever retriever = new DefaultResourceRetriever((int) FETCH_TIMEOUT.toMillis(),
                (int) FETCH_TIMEOUT.toMillis(), JWKSourceBuilder.DEFAULT_HTTP_SIZE_LIMIT);
        JWKSource<SecurityContext> fetched = JWKSourceBuilder.<SecurityContext>create(parsed, retriever)
                .cache(CACHE_TTL.toMillis(), REFRESH_WAIT.toMillis())
                .refreshAheadCache(false)                       // it would start threads of its own
                .rateLimited(MIN_FETCH_INTERVAL.toMillis())
                .outageTolerant(true)
                .build();
        Set<JWSAlgorithm> algorithms = Keys.asymmetric();
        return new Keys(algorithms, new JWSVerificationKeySelector<>(algorithms, rateLimitedIsNoKey(fetched)),
                "the keys of the JWKS at " + shown(parsed) + " (" + Keys.names(algorithms) + ")");
    }

    /**
     * When a token's {@code kid} is not in the cached set and the rate limit allows no fetch now, nimbus throws: that
     * is no key for this token (refused as a bad signature), unless there is no cached set at all, which the check
     * with {@link #ANY_KEY} finds out (it throws again, and the token is refused as keys unavailable).
     */
    private static JWKSource<SecurityContext> rateLimitedIsNoKey(JWKSource<SecurityContext> fetched) {
        return (selector, context) -> {
            try {
                return fetched.get(selector, context);
            } catch (RateLimitReachedException e) {
                List<JWK> any = fetched.get(ANY_KEY, context);
                if (any.isEmpty()) throw new KeySourceException("the key set is empty and may not be fetched again yet");
                return List.of();
            }
        };
    }

    private static URL parse(String url, String setting) {
        String rule = " must be an https:// (or http://) URL such as https://auth.example/.well-known/jwks.json";
        try {
            URI uri = new URI(url);
            if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())
                    || uri.getHost() == null || uri.getHost().isEmpty()) {
                throw new IllegalArgumentException(setting + rule);
            }
            return uri.toURL();
        } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + rule);
        }
    }

    /** The URL without what may be secret in it (user info, a query): for the start-up line. */
    private static String shown(URL url) {
        return url.getProtocol() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort()) + url.getPath();
    }
}
