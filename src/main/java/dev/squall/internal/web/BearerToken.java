package dev.squall.internal.web;

import io.javalin.http.Context;
import io.javalin.http.Header;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The {@code --publish-token}, presented as {@code Authorization: Bearer <token>}. */
public final class BearerToken {

    private static final String SCHEME = "bearer";

    private final byte[] token;

    BearerToken(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The credentials of the request's {@code Authorization: Bearer} header, or null when it has none; the auth scheme
     * is case-insensitive (RFC 7235 2.1).
     */
    static @Nullable String presented(Context ctx) {
        String authorization = ctx.header(Header.AUTHORIZATION);
        if (authorization == null) return null;
        String value = authorization.trim();
        int space = value.indexOf(' ');
        if (space > 0 && value.substring(0, space).equalsIgnoreCase(SCHEME)) return value.substring(space + 1).trim();
        return null;
    }

    /** Whether the request carries this token. */
    boolean isPresentedBy(Context ctx) {
        String bearer = presented(ctx);
        byte[] presented = bearer == null ? new byte[0] : bearer.getBytes(StandardCharsets.UTF_8);
        // MessageDigest.isEqual takes a time set by the first argument's length (the caller's own), wherever
        // the first difference is: the comparison tells nothing about the token.
        return MessageDigest.isEqual(presented, token);
    }

}
