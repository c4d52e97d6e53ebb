package dev.squall.internal.web;

import dev.squall.Identity;
import dev.squall.internal.auth.Access;
import dev.squall.internal.auth.AppHooks;
import dev.squall.internal.auth.Credentials;
import dev.squall.internal.auth.TokenRejected;
import dev.squall.internal.auth.TokenVerifier;
import dev.squall.internal.auth.VerifiedToken;
import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;

import java.util.Map;

/**
 * Who a WebSocket upgrade, a Server-Sent Events request or an HTTP read is: the first check of every request on a
 * secured server. A request brings a token ({@code Authorization: Bearer}, then {@code ?token=}, then the token
 * cookie), which decides alone: valid, it says who the client is and which channels it has; invalid, the request is
 * refused, with no second chance from the app's hook. Without one, the app's hook decides; without that, a
 * {@code squall.v1} client may still send its token in a {@code connect} command.
 *
 * <p>A bearer equal to the publish token is not a connection token: it keeps its meaning, the publish right. A token
 * is never shown: not in a refusal, not in a log line.
 */
final class ConnectGate {

    /** The query parameter a token may come in: browsers cannot set a WebSocket's headers. */
    static final String TOKEN_PARAM = "token";

    private final Access access;
    private final PublishPolicy publishPolicy;
    private final @Nullable String tokenCookie;

    ConnectGate(Access access, PublishPolicy publishPolicy, @Nullable String tokenCookie) {
        this.access = access;
        this.publishPolicy = publishPolicy;
        this.tokenCookie = tokenCookie;
    }

    boolean secured() {
        return access.secured();
    }

    /**
     * The credentials of a connection's request: on an open server anyone's (with the publish right when the publish
     * policy allows the request, as before); on a secured one its token's, the publish token's, or the app's hook's.
     *
     * @param mayConnectLater whether a missing token may still come in a {@code connect} command ({@code squall.v1})
     * @return the credentials, or null when they must come in a {@code connect} command
     * @throws Refusal 401 for a missing or bad token, 403 when the app's hook failed, 503 when the token's keys cannot be
     *                 fetched
     */
    @Nullable Credentials admit(Context ctx, boolean mayConnectLater) {
        if (!access.secured()) return publishPolicy.denial(ctx) == null ? Credentials.PUBLISHER : Credentials.ANYONE;
        if (publishPolicy.presentsToken(ctx)) return Credentials.PUBLISHER;
        String token = tokenOf(ctx);
        if (token != null) return Credentials.of(verify(token));
        AppHooks hooks = access.hooks();
        if (hooks.authenticates()) {
            Identity identity;
            try {
                identity = hooks.authenticate(HandshakeCopy.of(ctx));
            } catch (AppHooks.Failed e) {
                throw new Refusal(HttpStatus.FORBIDDEN.getCode(), "refused: the server could not decide who you are");
            }
            if (identity != null) return Credentials.of(identity);
            if (!(mayConnectLater && access.tokens() != null)) throw unauthorized("the app did not recognise this request", false);
        }
        if (mayConnectLater && access.tokens() != null) return null;
        throw unauthorized("this server needs a token: send 'Authorization: Bearer <token>' or ?" + TOKEN_PARAM + "=<token>"
                + (tokenCookie == null ? "" : ", or the cookie " + tokenCookie), false);
    }

    /**
     * The credentials of an HTTP read of a channel that the publish policy did not allow: a connection token, or
     * anyone's when none is sent.
     */
    Credentials reader(Context ctx) {
        if (!access.secured()) return Credentials.ANYONE;
        String token = tokenOf(ctx);
        return token == null ? Credentials.ANYONE : Credentials.of(verify(token));
    }

    /** The token the request brings, or null; the publish token is not one. */
    @Nullable String tokenOf(Context ctx) {
        String bearer = BearerToken.presented(ctx);
        if (bearer != null && !bearer.isEmpty() && !publishPolicy.presentsToken(ctx)) return bearer;
        String query = ctx.queryParam(TOKEN_PARAM);
        if (query != null && !query.isEmpty()) return query;
        if (tokenCookie != null) {
            String cookie = ctx.cookie(tokenCookie);
            if (cookie != null && !cookie.isEmpty()) return cookie;
        }
        return null;
    }

    /** The token, verified; a refusal that says why not (never the token itself). */
    VerifiedToken verify(String token) {
        TokenVerifier verifier = access.tokens();
        if (verifier == null) throw unauthorized("this server has no token key, so it cannot accept a token", true);
        try {
            return verifier.verify(token);
        } catch (TokenRejected e) {
            if (e.reason() == TokenRejected.Reason.KEYS_UNAVAILABLE) {
                throw new Refusal(HttpStatus.SERVICE_UNAVAILABLE.getCode(), "the keys that check tokens cannot be fetched now; "
                        + "try again in a few seconds", Map.of("Retry-After", Integer.toString(Endpoints.RETRY_AFTER_SECONDS)));
            }
            throw unauthorized("invalid token: " + e.getMessage(), true);
        }
    }

    /** 401 with the challenge RFC 6750 3 asks for: {@code invalid_token} when one was sent and refused. */
    private static Refusal unauthorized(String message, boolean invalidToken) {
        String challenge = invalidToken ? "Bearer realm=\"squall\", error=\"invalid_token\"" : "Bearer realm=\"squall\"";
        return new Refusal(HttpStatus.UNAUTHORIZED.getCode(), message, Map.of(Header.WWW_AUTHENTICATE, challenge));
    }

    /** 403: who the client is is known, and it may not do this with the channel. */
    static Refusal forbidden(String channel, String what) {
        return new Refusal(HttpStatus.FORBIDDEN.getCode(), "this connection may not " + what + " '" + channel
                + "': its token does not grant it and the channel is not public");
    }
}
