package dev.squall.internal.node;

import dev.squall.internal.hub.Metrics;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.IntSupplier;

/**
 * One info line about every minute, and only when something happened: "connections: 12 open, +30 opened, -18
 * closed, 1 slow consumer, 0 dead peers in the last 60 s". Single connects, disconnects and refused bodies are
 * debug lines: at info, a busy node (or a client flooding it) would write one line per event.
 *
 * <p>Reads counters that {@link Metrics} keeps anyway, so it costs nothing between runs. Runs on one thread.
 */
public final class ActivityLog implements Runnable {

    static final Duration INTERVAL = Duration.ofMinutes(1);

    private static final Logger log = LoggerFactory.getLogger(ActivityLog.class);

    private final Metrics metrics;
    private final IntSupplier open;
    private Metrics.Totals last;

    ActivityLog(Metrics metrics, IntSupplier open) {
        this.metrics = metrics;
        this.open = open;
        this.last = metrics.totals();
    }

    @Override
    public void run() {
        try {
            String line = summary();
            if (line != null) log.info(line);
        } catch (RuntimeException e) {
            // A throw would cancel this periodic task for good; one lost summary is not worth that.
            log.warn("Could not write the activity summary", e);
        }
    }

    /** The line for what happened since the previous call (or since start), or null when nothing did. */
    @Nullable String summary() {
        Metrics.Totals now = metrics.totals();
        Metrics.Totals delta = now.minus(last);
        last = now;
        if (delta.isZero()) return null;
        return "connections: " + open.getAsInt() + " open, +" + delta.connects() + " opened, -" + delta.disconnects()
                + " closed, " + count(delta.slowConsumers(), "slow consumer") + ", " + count(delta.deadPeers(), "dead peer")
                + (delta.tooLarge() > 0 ? ", " + count(delta.tooLarge(), "request body") + " refused as too large" : "")
                + " in the last " + INTERVAL.toSeconds() + " s";
    }

    private static String count(long n, String thing) {
        if (n == 1) return n + " " + thing;
        return n + " " + (thing.endsWith("y") && !thing.endsWith("ey") ? thing.substring(0, thing.length() - 1) + "ies" : thing + "s");
    }
}
