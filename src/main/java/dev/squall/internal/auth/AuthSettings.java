package dev.squall.internal.auth;

import dev.squall.Authenticator;
import dev.squall.ChannelAuthorizer;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.List;

/**
 * Who may connect and what they may do, as the plugin's config says it, checked.
 *
 * @param secured        whether every connection needs an identity: a token key, a hook or a proxy is set
 * @param rules          each channel's subscribe, publish and read rule
 * @param tokens         the keys that verify tokens, and the claims they must carry
 * @param tokenCookie    the cookie a token may come in, or null
 * @param connectTimeout how long a {@code squall.v1} connection without a token has to send {@code connect}
 * @param hookTimeout    how long the app's hooks may take
 * @param authenticator  the app's hook that says who a client is, or null
 * @param authorizer     the app's hook that says what a user may do with a channel, or null
 * @param connectProxy   the app's HTTP endpoint that stands in for {@code authenticator}, or null
 * @param subscribeProxy the app's HTTP endpoint that stands in for {@code authorizer}, or null
 * @param proxyHeaders   the request headers the connect proxy is sent
 */
public record AuthSettings(boolean secured, ChannelRules rules, TokenSettings tokens, @Nullable String tokenCookie,
                           Duration connectTimeout, Duration hookTimeout, @Nullable Authenticator authenticator,
                           @Nullable ChannelAuthorizer authorizer, @Nullable String connectProxy,
                           @Nullable String subscribeProxy, List<String> proxyHeaders) {

    /** How long after a token's {@code exp} its connection is closed: a client that refreshes on time is never cut. */
    public static final Duration EXPIRY_GRACE = Duration.ofSeconds(2);

    /**
     * The decisions these settings make, with the app's hooks on threads of their own.
     *
     * @param names how the user writes each setting, for the errors of a bad key
     * @throws IllegalArgumentException for a bad key (a short secret, an unreadable key file), naming its setting
     */
    public Access access(java.util.function.Function<String, String> names) {
        TokenVerifier verifier = TokenVerifier.create(tokens, names);
        Authenticator identifies = authenticator != null ? authenticator : connectProxy == null ? null
                : new ConnectProxy(HttpProxy.parse(connectProxy, names.apply("connectProxy")), proxyHeaders, hookTimeout);
        ChannelAuthorizer decides = authorizer != null ? authorizer : subscribeProxy == null ? null
                : new SubscribeProxy(HttpProxy.parse(subscribeProxy, names.apply("subscribeProxy")), hookTimeout);
        return new Access(secured, rules, verifier, new AppHooks(identifies, decides, hookTimeout));
    }

    /** Who may connect, in one line for the start-up log; names settings as {@code name} does. */
    public String describe(java.util.function.UnaryOperator<String> name) {
        if (!secured) {
            return "open: anyone who reaches this port connects and subscribes (set " + name.apply("tokenHmacSecret") + ", "
                    + name.apply("tokenPublicKey") + " or " + name.apply("tokenJwksUrl") + " to require tokens)";
        }
        java.util.List<String> ways = new java.util.ArrayList<>();
        if (tokens.hmacSecret() != null) ways.add("tokens signed with the HMAC secret");
        if (tokens.publicKey() != null) ways.add("tokens signed for " + tokens.publicKey());
        if (tokens.jwksUrl() != null) ways.add("tokens signed by the keys of " + shown(tokens.jwksUrl()));
        if (authenticator != null) ways.add("the app's authenticate hook");
        if (connectProxy != null) ways.add("the connect proxy " + shown(connectProxy));
        StringBuilder line = new StringBuilder("identity required: ").append(String.join(", or ", ways));
        if (tokens.audience() != null) line.append("; audience ").append(tokens.audience());
        if (tokens.issuer() != null) line.append("; issuer ").append(tokens.issuer());
        if (tokenCookie != null) line.append("; token cookie ").append(tokenCookie);
        if (subscribeProxy != null) line.append("; subscribe proxy ").append(shown(subscribeProxy));
        return line.append("; channels ").append(rules.describe()).toString();
    }

    /** A URL as a log may show it: without user info or query, which may hold credentials. */
    private static String shown(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                    + (uri.getRawPath() == null ? "" : uri.getRawPath());
        } catch (IllegalArgumentException e) {
            return "(a URL)";
        }
    }
}
