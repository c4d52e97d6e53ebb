package dev.squall.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Server pings and dead-peer detection (Tornado: {@code websocket_ping_interval} / {@code websocket_ping_timeout}).
 *
 * <p>Every interval each connection gets a ping and a note of how much it has received so far; when the
 * timeout has passed, a connection whose inbound counters have not moved (no pong, no message, nothing) is
 * dropped. The counters are Jetty's own (see {@link Connection#inboundActivity()}), so nothing is added to the
 * read path. Jetty's idle timeout alone cannot do this: our pings are writes, and writes reset it.
 */
public final class Heartbeat implements AutoCloseable {

    private final Hub hub;
    private final ScheduledExecutorService scheduler;
    private final Duration interval;
    private final Duration timeout;
    private ScheduledFuture<?> task;

    public Heartbeat(Hub hub, ScheduledExecutorService scheduler, Duration interval, Duration timeout) {
        this.hub = hub;
        this.scheduler = scheduler;
        this.interval = interval;
        this.timeout = timeout;
    }

    /** Starts pinging; does nothing when the interval is zero. */
    public synchronized void start() {
        if (interval.isZero() || task != null) return;
        long millis = interval.toMillis();
        task = scheduler.scheduleAtFixedRate(this::pingAll, millis, millis, TimeUnit.MILLISECONDS);
    }

    private void pingAll() {
        List<Connection> pinged = new ArrayList<>(hub.size());
        List<Long> before = new ArrayList<>(hub.size());
        for (Connection connection : hub.connections()) {
            before.add(connection.inboundActivity());
            pinged.add(connection);
            connection.ping();
        }
        scheduler.schedule(() -> dropSilent(pinged, before), timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void dropSilent(List<Connection> pinged, List<Long> before) {
        for (int i = 0; i < pinged.size(); i++) {
            Connection connection = pinged.get(i);
            if (connection.inboundActivity() == before.get(i)) {
                connection.closeAsDead();
            }
        }
    }

    @Override
    public synchronized void close() {
        if (task != null) task.cancel(false);
    }
}
