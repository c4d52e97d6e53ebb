package dev.squall.internal.policy;

import org.jspecify.annotations.Nullable;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which browser origins may talk to Squall (Tornado: {@code check_origin}).
 *
 * <p>Same-origin requests are always allowed: the {@code Origin}'s host[:port] equals the {@code Host} header,
 * as Tornado compares them. Requests without an {@code Origin} come from non-browser clients, which could
 * forge one anyway, and are allowed. Anything else needs to be listed, or the list to be {@code *}.
 * Origins compare lower-cased and without their scheme's default port, as browsers send them.
 */
public final class OriginPolicy {

    private final List<String> allowed;
    private final boolean any;

    /** @param allowed normalized origins ({@code scheme://host[:port]}), or {@code ["*"]} */
    public OriginPolicy(List<String> allowed) {
        this.allowed = List.copyOf(allowed);
        this.any = allowed.equals(List.of("*"));
    }

    /** Whether a request with this {@code Origin} (null if absent) and {@code Host} header may proceed. */
    public boolean allows(@Nullable String origin, @Nullable String host) {
        if (origin == null || any) return true;
        return isSameOrigin(origin, host) || isListed(origin);
    }

    /** Whether the request is cross-origin and allowed, so that CORS headers must be added. */
    public boolean needsCorsHeaders(@Nullable String origin, @Nullable String host) {
        return origin != null && !isSameOrigin(origin, host) && allows(origin, host);
    }

    /** Whether this origin appears by name in {@code --allowed-origins} ({@code *} names none). */
    public boolean isListed(@Nullable String origin) {
        return origin != null && allowed.contains(normalize(origin));
    }

    public boolean allowsAny() {
        return any;
    }

    /** One line for the start-up log. */
    public String describe() {
        if (any) return "any origin (--allowed-origins '*')";
        if (allowed.isEmpty()) return "same origin only";
        return "same origin and " + String.join(", ", allowed);
    }

    /** Whether {@code origin}'s host[:port] is the {@code Host} header's, default ports aside. */
    public static boolean isSameOrigin(@Nullable String origin, @Nullable String host) {
        if (origin == null || host == null) return false;
        String normalized = normalize(origin);
        int schemeEnd = normalized.indexOf("://");
        if (schemeEnd <= 0) return false;
        String scheme = normalized.substring(0, schemeEnd);
        return normalized.substring(schemeEnd + 3).equals(withoutDefaultPort(scheme, host.trim().toLowerCase(Locale.ROOT)));
    }

    /** Lower-cased, trimmed, without {@code :80} after {@code http} or {@code :443} after {@code https}. */
    static String normalize(String origin) {
        String value = origin.trim().toLowerCase(Locale.ROOT);
        int schemeEnd = value.indexOf("://");
        if (schemeEnd <= 0) return value;
        return value.substring(0, schemeEnd + 3) + withoutDefaultPort(value.substring(0, schemeEnd), value.substring(schemeEnd + 3));
    }

    private static String withoutDefaultPort(String scheme, String hostAndPort) {
        String port = scheme.equals("http") ? ":80" : scheme.equals("https") ? ":443" : null;
        return port != null && hostAndPort.endsWith(port) ? hostAndPort.substring(0, hostAndPort.length() - port.length()) : hostAndPort;
    }

    /** Lower-cases and checks each entry of an origin list setting; the errors name {@code setting}. */
    public static List<String> normalizeAll(List<String> origins, String setting) {
        List<String> normalized = new ArrayList<>();
        for (String raw : origins) {
            String origin = raw.trim();
            if (origin.isEmpty()) continue;
            if (origin.equals("*")) {
                require(origins.stream().map(String::trim).filter(o -> !o.isEmpty()).count() == 1,
                        setting + ": '*' allows every origin and cannot be combined with others");
                return List.of("*");
            }
            normalized.add(normalizeOrigin(origin, setting));
        }
        return List.copyOf(normalized);
    }

    /** Lower-cases scheme and host and checks the shape {@code scheme://host[:port]}, as browsers send it. */
    private static String normalizeOrigin(String origin, String setting) {
        String hint = setting + ": '" + origin + "' is not an origin; use scheme://host[:port], "
                + "for example https://example.com or http://localhost:3000, or '*' alone";
        URI uri;
        try {
            uri = new URI(origin);
        } catch (Exception e) {
            throw new IllegalArgumentException(hint);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean hasOnlyOrigin = uri.getHost() != null && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
                && uri.getRawQuery() == null && uri.getRawFragment() == null && uri.getRawUserInfo() == null;
        require((scheme.equals("http") || scheme.equals("https")) && hasOnlyOrigin, hint);
        // Browsers leave a default port out of the Origin they send: https://a.example:443 must match https://a.example.
        return normalize(scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (uri.getPort() == -1 ? "" : ":" + uri.getPort()));
    }


    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalArgumentException(message);
    }
}
