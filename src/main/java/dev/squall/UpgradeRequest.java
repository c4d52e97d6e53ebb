package dev.squall;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;

import java.util.Base64;
import java.util.Map;

/**
 * Checks a WebSocket handshake before Jetty sees it: Jetty answers a malformed upgrade with 500, which
 * blames the server for the client's mistake. RFC 6455 4.2.1 says what a valid request carries.
 */
final class UpgradeRequest {

    private UpgradeRequest() {
    }

    /** Throws 400 (or 426 for a wrong protocol version) unless the handshake headers are usable. */
    static void requireValid(Context ctx) {
        String key = ctx.header("Sec-WebSocket-Key");
        if (key == null || !isSixteenBytesOfBase64(key.trim())) {
            throw new BadRequestResponse("invalid WebSocket handshake: Sec-WebSocket-Key must be 16 random bytes in base64");
        }
        if (!"13".equals(trimmed(ctx.header("Sec-WebSocket-Version")))) {
            // RFC 6455 4.4: the refusal must name the versions the server does speak, so a client can retry.
            ctx.header("Sec-WebSocket-Version", "13");
            throw new HttpResponseException(HttpStatus.UPGRADE_REQUIRED.getCode(),
                    "invalid WebSocket handshake: only Sec-WebSocket-Version 13 is supported",
                    Map.of());
        }
    }

    private static boolean isSixteenBytesOfBase64(String key) {
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String trimmed(String value) {
        return value == null ? null : value.trim();
    }
}
