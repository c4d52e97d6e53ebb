package dev.squall;

import java.util.List;
import java.util.Locale;

/**
 * Which browser origins may talk to Squall (Tornado: {@code check_origin}).
 *
 * <p>Same-origin requests are always allowed: the {@code Origin}'s host[:port] equals the {@code Host} header,
 * as Tornado compares them. Requests without an {@code Origin} come from non-browser clients, which could
 * forge one anyway, and are allowed. Anything else needs to be listed, or the list to be {@code *}.
 */
final class OriginPolicy {

    private final List<String> allowed;
    private final boolean any;

    /** @param allowed normalized origins ({@code scheme://host[:port]}), or {@code ["*"]} */
    OriginPolicy(List<String> allowed) {
        this.allowed = List.copyOf(allowed);
        this.any = allowed.equals(List.of("*"));
    }

    /** Whether a request with this {@code Origin} (null if absent) and {@code Host} header may proceed. */
    boolean allows(String origin, String host) {
        if (origin == null || any) return true;
        String normalized = origin.trim().toLowerCase(Locale.ROOT);
        return isSameOrigin(normalized, host) || allowed.contains(normalized);
    }

    /** Whether the request is cross-origin and allowed, so that CORS headers must be added. */
    boolean needsCorsHeaders(String origin, String host) {
        return origin != null && !isSameOrigin(origin.trim().toLowerCase(Locale.ROOT), host) && allows(origin, host);
    }

    boolean allowsAny() {
        return any;
    }

    /** One line for the start-up log. */
    String describe() {
        if (any) return "any origin (--allowed-origins '*')";
        if (allowed.isEmpty()) return "same origin only";
        return "same origin and " + String.join(", ", allowed);
    }

    private static boolean isSameOrigin(String origin, String host) {
        if (host == null) return false;
        int schemeEnd = origin.indexOf("://");
        return schemeEnd > 0 && origin.substring(schemeEnd + 3).equals(host.trim().toLowerCase(Locale.ROOT));
    }
}
