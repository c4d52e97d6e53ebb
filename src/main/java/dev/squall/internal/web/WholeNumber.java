package dev.squall.internal.web;

/** A query parameter that must be a whole number from 0: digits only, no sign, within a long. */
public final class WholeNumber {

    private WholeNumber() {
    }

    /** The number, or -1 when {@code value} is not one. */
    static long parse(String value) {
        if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) return -1;
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException tooLarge) {
            return -1;
        }
    }

    /** The value as an error may quote it: at most 40 characters. */
    static String shown(String value) {
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }
}
