package dev.squall.bench.report;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one machine-readable line a run prints: {@code RESULT mode=... server=... key=value ...}. compare.sh
 * greps these lines, so keys never contain spaces and values are plain numbers or words.
 */
public final class ResultLine {
    private final Map<String, String> fields = new LinkedHashMap<>();

    public ResultLine(String mode, String server) {
        fields.put("mode", mode);
        fields.put("server", server);
    }

    public ResultLine put(String key, String value) {
        fields.put(key, value.replace(' ', '_'));
        return this;
    }

    public ResultLine put(String key, long value) {
        fields.put(key, Long.toString(value));
        return this;
    }

    public ResultLine put(String key, double value, int decimals) {
        fields.put(key, String.format(Locale.ROOT, "%." + decimals + "f", value));
        return this;
    }

    @Override
    public String toString() {
        StringBuilder line = new StringBuilder("RESULT");
        fields.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        return line.toString();
    }
}
