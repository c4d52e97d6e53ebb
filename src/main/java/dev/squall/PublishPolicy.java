package dev.squall;

import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.Header;
import io.javalin.http.UnauthorizedResponse;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Who may publish through {@code /receive}, in the spirit of Redis's protected mode: without a token only
 * loopback clients may; with {@code --publish-token} everyone must present it as a bearer token.
 */
final class PublishPolicy {

    private static final String BEARER = "Bearer ";

    private final Optional<byte[]> token;

    PublishPolicy(Optional<String> token) {
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    /** Throws 401/403 unless the request may publish. */
    void check(Context ctx) {
        if (token.isEmpty()) {
            if (!isLoopback(ctx.req().getRemoteAddr())) {
                throw new ForbiddenResponse("publishing is only allowed from this machine; start Squall with "
                        + "--publish-token <secret> (or SQUALL_PUBLISH_TOKEN) and send 'Authorization: Bearer <secret>'");
            }
            return;
        }
        String authorization = ctx.header(Header.AUTHORIZATION);
        byte[] presented = authorization != null && authorization.startsWith(BEARER)
                ? authorization.substring(BEARER.length()).trim().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        // MessageDigest.isEqual takes the same time wherever the first difference is.
        if (!MessageDigest.isEqual(presented, token.get())) {
            ctx.header(Header.WWW_AUTHENTICATE, "Bearer realm=\"squall\"");
            throw new UnauthorizedResponse("publishing requires 'Authorization: Bearer <publish token>'");
        }
    }

    /** One line for the start-up log. */
    String describe() {
        return token.isPresent() ? "bearer token required" : "loopback clients only (no --publish-token)";
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (Exception e) {
            return false;
        }
    }
}
