package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker.Handler;
import dev.squall.internal.broker.Unavailable;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Presence across the nodes of one Redis, for {@link RedisBroker}: each node's subscriber count of each channel,
 * and join and leave events.
 *
 * <p>Counts: per channel C one hash {@code squall:c:C}, one field per node (a random id, new at every start) whose
 * value is {@code count:expiresAt} (milliseconds on Redis's clock, so the nodes' clocks never matter). A node
 * shares a changed count within {@link #FLUSH} (the changes of that time coalesced: a burst of joins is one
 * write), shares every count it has again every {@link #SHARE}, and a field lives {@link #LIFE} from its last
 * write; a count of 0 (the last local subscriber left) and {@link #close} take the field out. After a write failed,
 * or the client connected again ({@link #reconnects}), the next flush shares every count again: a Redis that
 * restarted empty has them back within a flush, not a share. A read
 * ({@code sum.lua}) drops the expired fields and sums the others, and the reader adds its own live count instead
 * of the one it stored, so its own joins count at once. A node that dies without taking its fields out drops out
 * of every count once they expire. Centrifugo keeps a sorted set of expiries beside its presence hash because it
 * has a field per client (thousands, too many to scan); here a field is a node (a handful), so the read scans
 * them in the script that sums them, and a channel costs one key and a write one command instead of two.
 *
 * <p>Events: {@code J:<node>:<client>} (join) and {@code L:<node>:<client>} (leave), published on the channel's
 * pub/sub channel beside its publications, so Redis orders them with the publishes of the same node and
 * {@link RedisBroker} hands them to the channel's stripe; a node drops its own (its hub told its subscribers
 * already). Nothing is kept: an event lost while Redis is away stays lost.
 *
 * <p>Threading: writes are sent without waiting (pipelined) on the node's scheduler, which also sends the pings,
 * so a slow Redis cannot hold it up; the count to write is read and sent under this object's lock, so two writes of
 * one channel never reach Redis in the other order than their counts were read.
 */
final class RedisPresence {

    private static final Logger log = LoggerFactory.getLogger(RedisPresence.class);

    /** How often every count this node has is shared again. */
    static final Duration SHARE = Duration.ofSeconds(25);
    /** How long a shared count lives without being shared again: how long a dead node's subscribers still count. */
    static final Duration LIFE = Duration.ofSeconds(60);
    /** How long a changed count waits to be shared, so that the changes of that time are one write. */
    static final Duration FLUSH = Duration.ofSeconds(1);
    private static final Duration CLOSING = Duration.ofSeconds(1);
    private static final byte JOIN = 'J';
    private static final byte LEAVE = 'L';

    private final String node = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    private final byte[] nodeBytes = bytes(node);
    private final Supplier<@Nullable StatefulRedisConnection<byte[], byte[]>> commands;
    private final BooleanSupplier connected;
    private final List<Handler> handlers;
    private final RedisBroker.Script count = RedisBroker.Script.load("count.lua");
    private final RedisBroker.Script sum = RedisBroker.Script.load("sum.lua");
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    // Channels whose field this node last wrote with a count above 0: what it shares again, and takes out at close.
    private final Set<String> shared = ConcurrentHashMap.newKeySet();
    private final Duration life;
    // A write failed, or the client connected again (a Redis that restarted empty has lost every count): the next
    // flush shares every count again, instead of leaving them out until the next SHARE.
    private volatile boolean stale;
    // A write failed and none has succeeded since: retried at every flush, so each failure cannot be a warning of its
    // own (a line a second for as long as it lasts). The first while Redis is connected is one; the rest are debug
    // lines, and a loss of Redis is the broker's line alone.
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicBoolean warned = new AtomicBoolean();
    private final long flushMillis;
    private final ScheduledFuture<?> flushing;
    private final ScheduledFuture<?> sharing;
    private volatile boolean closed;

    /**
     * @param commands  the broker's commands connection of the moment (null while Redis has not been reached)
     * @param connected whether the broker is connected to Redis: while it is not, it has said so in the log
     * @param handlers  the broker's handlers, asked for this node's counts ({@link Handler#subscribers})
     */
    RedisPresence(Supplier<@Nullable StatefulRedisConnection<byte[], byte[]>> commands, BooleanSupplier connected,
                  List<Handler> handlers, ScheduledExecutorService scheduler, Timing timing) {
        this.commands = commands;
        this.connected = connected;
        this.handlers = handlers;
        this.life = timing.life();
        this.flushMillis = Math.max(1, timing.flush().toMillis());
        this.flushing = scheduler.scheduleWithFixedDelay(this::flush, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
        long shareEvery = Math.max(1, timing.share().toMillis());
        this.sharing = scheduler.scheduleWithFixedDelay(this::shareAll, shareEvery, shareEvery, TimeUnit.MILLISECONDS);
    }

    /** How often counts are shared again, how long a share lives, how long a change waits (tests shorten them). */
    record Timing(Duration share, Duration life, Duration flush) {
        static final Timing DEFAULT = new Timing(SHARE, LIFE, FLUSH);
    }

    /**
     * For the broker's client: each (re)connection, of any of its connections, has the next flush share every count
     * again. Called on Lettuce's event loop: it only sets a flag.
     */
    RedisConnectionStateListener reconnects() {
        return new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection) {
                stale = true;
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                stale = true;
            }
        };
    }

    /** This node's count of {@code channel} changed: shared at the next flush. */
    void counted(String channel) {
        if (!closed) dirty.add(channel);
    }

    /**
     * The channel's subscribers over all nodes: this node's live count plus the other nodes' unexpired shares.
     *
     * @throws Unavailable when Redis is not connected or did not answer in time
     */
    int subscribers(String channel) {
        List<Object> result = sum.run(connection(), new byte[][]{key(channel)}, nodeBytes);
        long others = (Long) result.get(0);
        return (int) Math.min(Integer.MAX_VALUE, others + Handler.countHere(handlers, channel));
    }

    /** Publishes that {@code client} joined or left {@code channel} here, without waiting; lost if Redis is away. */
    void announce(String channel, boolean joined, String client) {
        if (closed) return;
        byte[] head = bytes((char) (joined ? JOIN : LEAVE) + ":" + node + ":");
        byte[] id = bytes(client);
        byte[] event = new byte[head.length + id.length];
        System.arraycopy(head, 0, event, 0, head.length);
        System.arraycopy(id, 0, event, head.length, id.length);
        try {
            connection().async().publish(RedisBroker.pubSubChannel(channel), event).whenComplete((receivers, failed) -> {
                if (failed != null) log.debug("Could not tell the other nodes of a {} on channel '{}': {}", joined ? "join" : "leave", channel, failed.getMessage());
            });
        } catch (RuntimeException e) {
            log.debug("Could not tell the other nodes of a {} on channel '{}': {}", joined ? "join" : "leave", channel, e.getMessage());
        }
    }

    /** Whether a pub/sub message is a join or leave event rather than a publication's envelope. */
    static boolean isEvent(byte[] message) {
        return message.length >= 2 && (message[0] == JOIN || message[0] == LEAVE) && message[1] == ':';
    }

    /** The event in a pub/sub message, or null when this node sent it or it is not one a Squall node wrote. */
    @Nullable Event event(byte[] message) {
        int end = 2;
        while (end < message.length && message[end] != ':') end++;
        if (end >= message.length - 1) return null;
        if (new String(message, 2, end - 2, StandardCharsets.US_ASCII).equals(node)) return null;
        String client = new String(message, end + 1, message.length - end - 1, StandardCharsets.UTF_8);
        return new Event(message[0] == JOIN, client);
    }

    /** Hands an event to every handler; on the channel's stripe, in its order with the channel's publications. */
    void tell(String channel, Event event) {
        for (Handler handler : handlers) {
            try {
                handler.presence(channel, event.joined(), event.client());
            } catch (RuntimeException e) {
                log.error("A handler failed to take a {} on channel '{}'", event.joined() ? "join" : "leave", channel, e);
            }
        }
    }

    /** A join ({@code joined}) or leave of {@code client}, from another node. */
    record Event(boolean joined, String client) {
    }


    /** Shares the counts that changed since the last flush, and every count after Redis was away. */
    private void flush() {
        if (closed) return;
        boolean again = stale;
        if (!again && dirty.isEmpty()) return;
        stale = false;
        Set<String> changed = new java.util.HashSet<>();
        for (String channel : dirty) {
            dirty.remove(channel);
            changed.add(channel);
        }
        if (again) changed.addAll(shared);
        if (!changed.isEmpty()) write(changed, "changed");
    }

    /**
     * Shares every count above 0 again, so it stays alive; a write that failed (Redis away) is made good here too,
     * since {@link #shared} holds each channel whose last count read was above 0, written or not.
     */
    private void shareAll() {
        if (closed || shared.isEmpty()) return;
        write(List.copyOf(shared), "shared");
    }

    private synchronized void write(Iterable<String> channels, String which) {
        if (closed) return;
        // Counted before anything can fail: a change whose write fails is written again, never forgotten.
        java.util.Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (String channel : channels) {
            int now = Handler.countHere(handlers, channel);
            if (now > 0) shared.add(channel);
            else shared.remove(channel);
            counts.put(channel, now);
        }
        try {
            RedisAsyncCommands<byte[], byte[]> async = connection().async();
            async.scriptLoad(count.source());                 // after a Redis restart the script is gone
            RedisFuture<Object> last = null;
            byte[] lifeMs = bytes(Long.toString(Math.max(1, life.toMillis())));
            for (java.util.Map.Entry<String, Integer> each : counts.entrySet()) {
                last = async.evalsha(count.sha(), ScriptOutputType.MULTI, new byte[][]{key(each.getKey())}, nodeBytes,
                        bytes(Integer.toString(each.getValue())), lifeMs);
            }
            if (last != null) last.whenComplete((done, failed) -> {
                if (failed == null) shared();
                else failed(which, failed, counts.keySet());
            });
        } catch (RuntimeException e) {
            // A throw would cancel the periodic task for good.
            failed(which, e, counts.keySet());
        }
    }

    /**
     * A write failed: its channels (a count gone to 0 included) and every count are shared again at the next
     * flush; said once until a write succeeds.
     */
    private void failed(String which, Throwable failure, java.util.Collection<String> channels) {
        dirty.addAll(channels);
        stale = true;
        failing.set(true);
        if (connected.getAsBoolean() && warned.compareAndSet(false, true)) {
            log.warn("Could not share the subscriber counts of the {} channels in Redis: {} (retried every {} ms; "
                    + "not logged again until the counts are shared)", which, failure.getMessage(), flushMillis);
        } else {
            log.debug("Could not share the subscriber counts of the {} channels in Redis: {}", which, failure.getMessage());
        }
    }

    private void shared() {
        if (failing.compareAndSet(true, false)) log.debug("Subscriber counts are shared again");
        warned.set(false);
    }

    /** Stops sharing and takes this node's counts out of Redis, waiting at most a second for it. */
    void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        flushing.cancel(false);
        sharing.cancel(false);
        try {
            RedisAsyncCommands<byte[], byte[]> async = connection().async();
            List<RedisFuture<Long>> removed = new ArrayList<>();
            for (String channel : shared) removed.add(async.hdel(key(channel), nodeBytes));
            if (!removed.isEmpty()) LettuceFutures.awaitAll(CLOSING, removed.toArray(new RedisFuture<?>[0]));
        } catch (RuntimeException e) {
            log.debug("Could not take this node's subscriber counts out of Redis; they expire within {} s: {}", life.toSeconds(), e.getMessage());
        }
    }

    /** @throws Unavailable while Redis has not been reached */
    private StatefulRedisConnection<byte[], byte[]> connection() {
        StatefulRedisConnection<byte[], byte[]> c = commands.get();
        if (c == null) throw new Unavailable("Redis has not been reached yet", new IllegalStateException("not connected"));
        return c;
    }

    private static byte[] key(String channel) {
        return bytes("squall:c:" + channel);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
