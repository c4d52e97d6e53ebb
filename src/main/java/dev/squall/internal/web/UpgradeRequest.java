package dev.squall.internal.web;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a WebSocket handshake before Jetty sees it: Jetty answers a malformed upgrade with 500, which
 * blames the server for the client's mistake. RFC 6455 4.2.1 says what a valid request carries.
 */
public final class UpgradeRequest {

    private UpgradeRequest() {
    }

    /**
     * For a request on the plain HTTP route: one that says {@code Upgrade: websocket} is a handshake, only a
     * broken one (Javalin takes the WebSocket path only when {@code Sec-WebSocket-Version} is present), so it
     * gets a 400 naming what is missing rather than the 426 that asks a plain GET to upgrade.
     */
    static void refuseIncomplete(Context ctx) {
        String upgrade = ctx.header("Upgrade");
        if (upgrade == null || !upgrade.toLowerCase(Locale.ROOT).contains("websocket")) return;
        List<String> missing = new ArrayList<>();
        if (ctx.header("Sec-WebSocket-Key") == null) missing.add("Sec-WebSocket-Key");
        if (ctx.header("Sec-WebSocket-Version") == null) missing.add("Sec-WebSocket-Version: 13");
        throw new BadRequestResponse("invalid WebSocket handshake: missing " + String.join(" and ", missing));
    }

    /** Throws 400 (or 426 for a wrong protocol version) unless the handshake headers are usable. */
    static void requireValid(Context ctx) {
        String key = ctx.header("Sec-WebSocket-Key");
        if (key == null) {
            throw new BadRequestResponse("invalid WebSocket handshake: missing Sec-WebSocket-Key");
        }
        if (!isSixteenBytesOfBase64(key.trim())) {
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

    private static @Nullable String trimmed(@Nullable String value) {
        return value == null ? null : value.trim();
    }
}
