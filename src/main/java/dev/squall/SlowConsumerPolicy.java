package dev.squall;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What happens to a connection whose outbound queue is full ({@link SquallPlugin.Config#slowConsumerPolicy}, {@code --slow-consumer}). */
public enum SlowConsumerPolicy {

    /** Close it with 1008 {@code slow consumer}: the client reconnects and knows it missed messages. */
    CLOSE,

    /**
     * Keep it open and drop its oldest queued messages to make room; the client is told how many it missed by a
     * notice sent just before the next message it does get. For feeds where only the latest state matters.
     */
    DROP_OLDEST;

    /** The value as written on the command line: {@code close}, {@code drop-oldest}. */
    String flagValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a command-line value; the error names every accepted one. */
    public static SlowConsumerPolicy fromFlag(String value) {
        for (SlowConsumerPolicy policy : values()) {
            if (policy.flagValue().equals(value)) return policy;
        }
        String accepted = Arrays.stream(values()).map(p -> "'" + p.flagValue() + "'").collect(Collectors.joining(" or "));
        throw new IllegalArgumentException("--slow-consumer must be " + accepted + ", got '" + value + "'");
    }
}
