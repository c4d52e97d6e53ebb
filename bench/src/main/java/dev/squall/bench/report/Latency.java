package dev.squall.bench.report;

import org.HdrHistogram.Histogram;

/** Latency percentiles from an HdrHistogram recorded in microseconds. */
public final class Latency {
    /** One hour in microseconds: anything slower is clamped rather than lost. */
    public static final long HIGHEST_MICROS = 3_600_000_000L;

    private Latency() {}

    public static Histogram newHistogram() {
        return new Histogram(HIGHEST_MICROS, 3);
    }

    public static void recordNanos(Histogram histogram, long nanos) {
        histogram.recordValue(Math.min(Math.max(nanos / 1000, 0), HIGHEST_MICROS));
    }

    public static void addTo(ResultLine result, Histogram h) {
        result.put("p50_ms", h.getValueAtPercentile(50) / 1000.0, 3);
        result.put("p99_ms", h.getValueAtPercentile(99) / 1000.0, 3);
        result.put("p999_ms", h.getValueAtPercentile(99.9) / 1000.0, 3);
        result.put("max_ms", h.getMaxValue() / 1000.0, 3);
    }

    public static String describe(Histogram h) {
        return String.format("latency ms: p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%d)",
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0, h.getTotalCount());
    }
}
