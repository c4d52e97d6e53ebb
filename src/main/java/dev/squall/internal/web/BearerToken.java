package dev.squall.internal.web;

import io.javalin.http.Context;
import io.javalin.http.Header;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The {@code --publish-token}, presented as {@code Authorization: Bearer <token>}. */
public final class BearerToken {

    private static final String SCHEME = "bearer";

    private final byte[] token;

    BearerToken(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the request carries this token; the auth scheme is case-insensitive (RFC 7235 2.1). */
    boolean isPresentedBy(Context ctx) {
        String authorization = ctx.header(Header.AUTHORIZATION);
        byte[] presented = new byte[0];
        if (authorization != null) {
            String value = authorization.trim();
            int space = value.indexOf(' ');
            if (space > 0 && value.substring(0, space).equalsIgnoreCase(SCHEME)) {
                presented = value.substring(space + 1).trim().getBytes(StandardCharsets.UTF_8);
            }
        }
        // MessageDigest.isEqual takes a time set by the first argument's length (the caller's own), wherever
        // the first difference is: the comparison tells nothing about the token.
        return MessageDigest.isEqual(presented, token);
    }

}
