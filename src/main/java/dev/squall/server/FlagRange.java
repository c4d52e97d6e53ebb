package dev.squall.server;

/**
 * The whole numbers a numeric flag accepts, and its unit: one wording for a value that is not a number, one out
 * of range, and either coming from an environment variable instead of the flag.
 *
 * @param unit empty for a plain count, else what the number counts ({@code "seconds"}, {@code "bytes"})
 */
record FlagRange(long min, long max, String unit) {

    static FlagRange of(long min, long max) {
        return new FlagRange(min, max, "");
    }

    static FlagRange seconds(long min, long max) {
        return new FlagRange(min, max, "seconds");
    }

    static FlagRange bytes(long min, long max) {
        return new FlagRange(min, max, "bytes");
    }

    boolean contains(long value) {
        return value >= min && value <= max;
    }

    /** {@code "a whole number of seconds from 0 to 86400"}; a range open to the largest long says "up". */
    String describe() {
        return "a whole number " + (unit.isEmpty() ? "" : "of " + unit + " ") + "from " + min
                + (max == Long.MAX_VALUE ? " up" : " to " + max);
    }
}
