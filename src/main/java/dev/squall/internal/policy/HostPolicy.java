package dev.squall.internal.policy;

import org.jspecify.annotations.Nullable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which {@code Host} headers name this server: loopback names always, and those listed in
 * {@code --allowed-hosts}. A DNS-rebinding page (evil.example re-pointed at 127.0.0.1) still sends
 * {@code Host: evil.example}, so checking the Host is what tells it apart from a page served by Squall.
 *
 * <p>Host names compare without their port and lower-cased: every port of a listed name is allowed.
 */
public final class HostPolicy {

    private static final Pattern NAME = Pattern.compile("[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-f:.]+]");
    private static final Set<String> LOOPBACK_IPV6 = Set.of("[::1]", "[0:0:0:0:0:0:0:1]");

    private final Set<String> allowed;

    /** @param allowed host names as {@link #hostname} returns them */
    public HostPolicy(List<String> allowed) {
        this.allowed = Set.copyOf(allowed);
    }

    /** Whether a request with this {@code Host} header (null if absent) addresses this machine or a listed name. */
    public boolean allows(@Nullable String hostHeader) {
        String name = hostname(hostHeader);
        return name != null && (isLoopbackName(name) || allowed.contains(name));
    }

    /** One line for the start-up log. */
    public String describe() {
        return allowed.isEmpty() ? "loopback names" : "loopback names and " + String.join(", ", allowed.stream().sorted().toList());
    }

    /**
     * The host part of a {@code Host} header or an {@code --allowed-hosts} entry, lower-cased, without port or
     * trailing dot; null when it is not a host name, an IPv4 literal or a bracketed IPv6 literal.
     */
    public static @Nullable String hostname(@Nullable String hostAndPort) {
        if (hostAndPort == null) return null;
        String value = hostAndPort.trim().toLowerCase(Locale.ROOT);
        String host;
        if (value.startsWith("[")) {
            int end = value.indexOf(']');
            if (end < 0 || !isPortOrNothing(value.substring(end + 1))) return null;
            host = value.substring(0, end + 1);
            return IPV6.matcher(host).matches() ? host : null;
        }
        int colon = value.indexOf(':');
        host = colon < 0 ? value : value.substring(0, colon);
        if (colon >= 0 && !isPortOrNothing(value.substring(colon))) return null;
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        return NAME.matcher(host).matches() ? host : null;
    }

    /** {@code localhost}, {@code *.localhost} (RFC 6761), {@code 127.0.0.0/8} literals and {@code [::1]}. */
    static boolean isLoopbackName(String hostname) {
        return hostname.equals("localhost") || hostname.endsWith(".localhost")
                || isIpv4LoopbackLiteral(hostname) || LOOPBACK_IPV6.contains(hostname);
    }

    /** Whether {@code --host} binds to loopback only, read from the string alone (no DNS lookup). */
    public static boolean isLoopbackBinding(String bindHost) {
        String host = bindHost.trim().toLowerCase(Locale.ROOT);
        if (!host.startsWith("[") && host.contains(":")) host = "[" + host + "]";
        return isLoopbackName(host);
    }

    private static boolean isIpv4LoopbackLiteral(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) return false;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit) || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPortOrNothing(String rest) {
        if (rest.isEmpty()) return true;
        return rest.startsWith(":") && rest.length() > 1 && rest.length() <= 6 && rest.substring(1).chars().allMatch(Character::isDigit);
    }

    /** Lower-cases each entry of a host list setting, ports dropped; the errors name {@code setting}. */
    public static List<String> normalizeAll(List<String> hosts, String setting) {
        List<String> normalized = new ArrayList<>();
        for (String raw : hosts) {
            if (raw.isBlank()) continue;
            String name = hostname(raw);
            require(name != null, setting + ": '" + raw.trim() + "' is not a host name; use names such as "
                    + "squall.example or 192.168.1.10, comma-separated (any port is allowed)");
            if (!normalized.contains(name)) normalized.add(name);
        }
        return List.copyOf(normalized);
    }


    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalArgumentException(message);
    }
}
