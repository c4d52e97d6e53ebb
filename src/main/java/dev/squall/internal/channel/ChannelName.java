package dev.squall.internal.channel;

import org.jspecify.annotations.Nullable;

/**
 * What a channel may be called: 1 to 255 ASCII characters from letters, digits and {@code - _ . : @ = ,}. A
 * {@code :} separates a namespace from the rest ({@code chat:room1} is in namespace {@code chat}); a name without
 * one is in the default namespace. The empty name is the tutorial's {@code /ws} channel and never a valid one, so
 * the two cannot be confused.
 */
public final class ChannelName {

    static final int MAX_LENGTH = 255;
    static final String RULE = "1-255 characters from letters, digits and - _ . : @ = , (a ':' separates a namespace, "
            + "as in chat:room1)";

    private ChannelName() {
    }

    /** Why {@code name} is not a channel name, or null when it is one. */
    public static @Nullable String problem(@Nullable String name) {
        if (name == null || name.isEmpty()) return "a channel name is needed: " + RULE;
        if (name.length() > MAX_LENGTH) return "channel names are at most " + MAX_LENGTH + " characters, this one has " + name.length();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!allowed(c)) {
                return "channel '" + printable(name) + "' has " + describe(c) + " at position " + (i + 1) + "; use " + RULE;
            }
        }
        return null;
    }

    /** The namespace of a valid name: what comes before its first {@code :}, or empty. */
    public static String namespace(String name) {
        int colon = name.indexOf(':');
        return colon < 0 ? "" : name.substring(0, colon);
    }

    private static boolean allowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == ':' || c == '@' || c == '=' || c == ',';
    }

    private static String describe(char c) {
        if (c == ' ') return "a space";
        if (c < 0x20 || c == 0x7f) return "a control character";
        if (c > 0x7e) return "a non-ASCII character";
        return "'" + c + "'";
    }

    /** The name as it can be shown in an error: at most 64 characters, control characters replaced. */
    private static String printable(String name) {
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < name.length() && i < 64; i++) {
            char c = name.charAt(i);
            shown.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return name.length() > 64 ? shown + "..." : shown.toString();
    }
}
