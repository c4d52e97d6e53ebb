package dev.squall.internal.hub;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Server pings, dead-peer detection (Tornado: {@code websocket_ping_interval} / {@code websocket_ping_timeout})
 * and stalled writes.
 *
 * <p>One sweep over the open connections every tick (a fraction of the shortest of the three durations, at
 * most a second). A connection is pinged an interval after it was first seen, plus up to a fifth of an interval
 * of jitter so that a burst of connections does not get its pings in one burst, then every interval. If nothing
 * at all arrived from it (no pong, no message) by the timeout after a ping, it is dropped. The counters are
 * Jetty's own ({@link Wire#inboundActivity()}), so nothing is added to the read path; Jetty's idle timeout alone
 * cannot do this, because our pings are writes and writes reset it.
 *
 * <p>Independently of pings, a connection that has messages waiting while its socket takes nothing for the
 * write timeout is dropped: a peer that stopped reading would otherwise hold its full queue for as long as it
 * keeps the TCP connection open, which with pings off is forever.
 *
 * <p>The state this needs lives in a few plain fields of each {@link Connection}, touched only by the sweep
 * (one scheduler thread): no snapshot of the connections, no per-ping allocation, and a connection that has
 * left is simply no longer swept.
 */
public final class Heartbeat implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final Hub hub;
    private final ScheduledExecutorService scheduler;
    private final long interval;
    private final long timeout;
    private final long writeTimeout;
    private final SplittableRandom random = new SplittableRandom();
    private @Nullable ScheduledFuture<?> task;

    /**
     * @param scheduler    a single-threaded scheduler: the sweep's bookkeeping relies on running on one thread
     * @param interval     between pings; zero: no pings, no dead-peer detection
     * @param writeTimeout how long queued messages may see no write progress; zero: never dropped for that
     */
    public Heartbeat(Hub hub, ScheduledExecutorService scheduler, Duration interval, Duration timeout, Duration writeTimeout) {
        this.hub = hub;
        this.scheduler = scheduler;
        this.interval = interval.toNanos();
        this.timeout = timeout.toNanos();
        this.writeTimeout = writeTimeout.toNanos();
    }

    /** Starts sweeping; does nothing when both pings and the write timeout are off. */
    public synchronized void start() {
        if (task != null || (interval == 0 && writeTimeout == 0)) return;
        long tick = tick();
        task = scheduler.scheduleWithFixedDelay(this::sweep, tick, tick, TimeUnit.NANOSECONDS);
    }

    /** A quarter of the shortest duration in use, between 10 ms and 1 s: how late a ping or a drop may be. */
    private long tick() {
        long shortest = Long.MAX_VALUE;
        if (interval > 0) shortest = Math.min(interval, timeout);
        if (writeTimeout > 0) shortest = Math.min(shortest, writeTimeout);
        return Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(TimeUnit.SECONDS.toNanos(1), shortest / 4));
    }

    private void sweep() {
        // A task of scheduleWithFixedDelay that throws is never run again: nothing may escape this method.
        try {
            long now = System.nanoTime();
            for (Connection connection : hub.connections()) {
                try {
                    if (interval > 0) checkPing(connection, now);
                    if (writeTimeout > 0) checkWrites(connection, now);
                } catch (RuntimeException e) {
                    log.warn("Heartbeat check failed for {}; the others carry on", connection, e);
                }
            }
        } catch (RuntimeException e) {
            log.error("Heartbeat sweep failed; the next one runs as planned", e);
        }
    }

    private void checkPing(Connection connection, long now) {
        if (connection.pingSentAt != 0) {
            if (connection.inboundActivity() != connection.inboundAtPing) {
                connection.pingSentAt = 0;                       // answered: a pong, or anything at all
            } else if (now - connection.pingSentAt >= timeout) {
                connection.closeAsDead();
                return;
            }
        }
        if (connection.nextPingAt == 0) {
            connection.nextPingAt = nonZero(now + interval + random.nextLong(interval / 5 + 1));
        } else if (connection.pingSentAt == 0 && now - connection.nextPingAt >= 0) {
            connection.inboundAtPing = connection.inboundActivity();
            connection.ping();
            connection.pingSentAt = nonZero(now);
            connection.nextPingAt = nonZero(now + interval);
        }
    }

    private void checkWrites(Connection connection, long now) {
        if (connection.queuedBytes() == 0) {
            connection.lastWriteProgressAt = 0;
            return;
        }
        long outbound = connection.outboundActivity();
        if (connection.lastWriteProgressAt == 0 || outbound != connection.outboundAtCheck) {
            connection.outboundAtCheck = outbound;
            connection.lastWriteProgressAt = nonZero(now);
        } else if (now - connection.lastWriteProgressAt >= writeTimeout) {
            connection.closeAsStalled();
        }
    }

    /** Zero marks "not yet" in the connection's fields; System.nanoTime may be zero, if only by chance. */
    private static long nonZero(long nanos) {
        return nanos == 0 ? 1 : nanos;
    }

    @Override
    public synchronized void close() {
        if (task != null) task.cancel(false);
    }
}
