package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker.Handler;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Presence;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Presence across the nodes of one Redis, for {@link RedisBroker}: each node's subscriber count and distinct users
 * of each channel, and join and leave events.
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
 * <p>Users: per channel one more hash {@code squall:u:C}, written by the same script in the same command as the
 * count (so a join costs Redis nothing more than it did: the flush that shares the count carries the change), and
 * only once a channel has an identified subscriber: a node of anonymous clients never makes one. A node's users are
 * fields {@code <node>:<user>}, one per distinct user however many of its connections that user has there, so the
 * hash is bounded by the subscriptions. A user field counts while its node's count field is
 * live and it carries the node's generation (field {@code <node>}): a write is a delta (the users that came or went
 * since the last one, each looked up in the hub when written) while the node's share is intact, and everything again
 * under a new generation after a failed write, a reconnect, or a delta that found the node's count lapsed, which
 * voids at once whatever it could not take out. A read ({@code sum.lua}) drops dead and void fields, and counts the
 * distinct users of the other live nodes together with the reader's own, sent with the read, so a user on two nodes
 * counts once and the reader's own joins count at once. Centrifugo counts its users the same way, from a presence
 * hash with a field per client read whole; here a field is a user per node, and the read happens in Redis.
 *
 * <p>Events: {@code J:<node>:<c>:<u>:<client><user><info>} (join) and the same with {@code L} (leave), where
 * {@code c} and {@code u} are the byte lengths of the client's id and the user (info, compact JSON, is the rest, and
 * absent when empty), published on the channel's pub/sub channel beside its publications, so Redis orders them with the publishes of the same node and
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
    /** The most users one script call carries: a channel with more is written in several, so none is huge. */
    static final int CHUNK = 1000;

    private final String node;
    private final byte[] nodeBytes;
    private final Supplier<@Nullable StatefulRedisConnection<byte[], byte[]>> commands;
    private final BooleanSupplier connected;
    private final List<Handler> handlers;
    private final RedisBroker.Script count = RedisBroker.Script.load("count.lua");
    private final RedisBroker.Script sum = RedisBroker.Script.load("sum.lua");
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    // Per channel, the users whose subscriptions came or went here since its last write; whether each is still among
    // this node's users is looked up when it is written. Each set is changed and taken only inside a compute.
    private final ConcurrentHashMap<String, Set<String>> dirtyUsers = new ConcurrentHashMap<>();
    // Under this object's lock: one more at every write of everything, which voids what older ones wrote.
    private long generation = 1;
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
     * @param node      this node's id in Redis (random, new at every start)
     * @param commands  the broker's commands connection of the moment (null while Redis has not been reached)
     * @param connected whether the broker is connected to Redis: while it is not, it has said so in the log
     * @param handlers  the broker's handlers, asked for this node's counts ({@link Handler#subscribers})
     */
    RedisPresence(String node, Supplier<@Nullable StatefulRedisConnection<byte[], byte[]>> commands, BooleanSupplier connected,
                  List<Handler> handlers, ScheduledExecutorService scheduler, Timing timing) {
        this.node = node;
        this.nodeBytes = bytes(node);
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

    /** This node's count of {@code channel} changed, by a subscription of {@code user}: shared at the next flush. */
    void counted(String channel, String user) {
        if (closed) return;
        if (!user.isEmpty()) {
            dirtyUsers.compute(channel, (name, users) -> {
                Set<String> changed = users != null ? users : new java.util.HashSet<>();
                changed.add(user);
                return changed;
            });
        }
        // After the user: a flush that finds the channel dirty finds its user too.
        dirty.add(channel);
    }

    /**
     * The channel's subscribers and distinct users over all nodes: this node's live ones plus the other nodes'
     * unexpired shares (a user on several nodes once).
     *
     * @throws Unavailable when Redis is not connected or did not answer in time
     */
    Presence presence(String channel) {
        List<String> mine = List.copyOf(Handler.usersHere(handlers, channel));
        byte[][] args = new byte[1 + mine.size()][];
        args[0] = nodeBytes;
        for (int i = 0; i < mine.size(); i++) args[i + 1] = bytes(mine.get(i));
        List<Object> result = sum.run(connection(), new byte[][]{key(channel), usersKey(channel)}, args);
        long others = (Long) result.get(0);
        long users = (Long) result.get(1);
        return new Presence((int) Math.min(Integer.MAX_VALUE, others + Handler.countHere(handlers, channel)),
                (int) Math.min(Integer.MAX_VALUE, users));
    }

    /** Publishes that {@code who} joined or left {@code channel} here, without waiting; lost if Redis is away. */
    void announce(String channel, boolean joined, Member who) {
        if (closed) return;
        byte[] client = bytes(who.client());
        byte[] user = bytes(who.user());
        byte[] info = who.info() == null ? new byte[0] : bytes(who.info());
        byte[] head = bytes((char) (joined ? JOIN : LEAVE) + ":" + node + ":" + client.length + ":" + user.length + ":");
        byte[] event = new byte[head.length + client.length + user.length + info.length];
        System.arraycopy(head, 0, event, 0, head.length);
        System.arraycopy(client, 0, event, head.length, client.length);
        System.arraycopy(user, 0, event, head.length + client.length, user.length);
        System.arraycopy(info, 0, event, head.length + client.length + user.length, info.length);
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
        int at = 2;
        int nodeEnd = colonFrom(message, at);
        int clientEnd = colonFrom(message, nodeEnd + 1);
        int userEnd = colonFrom(message, clientEnd + 1);
        if (userEnd < 0) return null;
        if (new String(message, at, nodeEnd - at, StandardCharsets.US_ASCII).equals(node)) return null;
        int clientLength = length(message, nodeEnd + 1, clientEnd);
        int userLength = length(message, clientEnd + 1, userEnd);
        int start = userEnd + 1;
        if (clientLength <= 0 || userLength < 0 || (long) start + clientLength + userLength > message.length) return null;
        String client = new String(message, start, clientLength, StandardCharsets.UTF_8);
        String user = new String(message, start + clientLength, userLength, StandardCharsets.UTF_8);
        int infoAt = start + clientLength + userLength;
        String info = infoAt == message.length ? null : new String(message, infoAt, message.length - infoAt, StandardCharsets.UTF_8);
        return new Event(message[0] == JOIN, new Member(client, user, info));
    }

    /** Where the next ':' is from {@code from} on, or -1 (also for a {@code from} that is -1 already). */
    private static int colonFrom(byte[] message, int from) {
        if (from <= 0) return -1;
        for (int i = from; i < message.length; i++) {
            if (message[i] == ':') return i;
        }
        return -1;
    }

    /** The decimal length between {@code from} and {@code to}, or -1 when it is not one (at most 9 digits). */
    private static int length(byte[] message, int from, int to) {
        if (to - from < 1 || to - from > 9) return -1;
        int value = 0;
        for (int i = from; i < to; i++) {
            if (message[i] < '0' || message[i] > '9') return -1;
            value = value * 10 + (message[i] - '0');
        }
        return value;
    }

    /** Hands an event to every handler; on the channel's stripe, in its order with the channel's publications. */
    void tell(String channel, Event event) {
        for (Handler handler : handlers) {
            try {
                handler.presence(channel, event.joined(), event.who());
            } catch (RuntimeException e) {
                log.error("A handler failed to take a {} on channel '{}'", event.joined() ? "join" : "leave", channel, e);
            }
        }
    }

    /** A join ({@code joined}) or leave of {@code who}, from another node. */
    record Event(boolean joined, Member who) {
    }


    /** Shares the counts and users that changed since the last flush, and everything after Redis was away. */
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
        if (!changed.isEmpty()) write(changed, again, "changed");
    }

    /**
     * Shares every count above 0 again, so it stays alive; a write that failed (Redis away) is made good here too,
     * since {@link #shared} holds each channel whose last count read was above 0, written or not.
     */
    private void shareAll() {
        if (closed || shared.isEmpty()) return;
        write(List.copyOf(shared), false, "shared");
    }

    /**
     * Writes each channel's count and users: everything ({@code everything}, under a new generation), or for a
     * channel whose share is intact, the users that came or went since its last write.
     */
    private synchronized void write(Iterable<String> channels, boolean everything, String which) {
        if (closed) return;
        if (everything) generation++;
        byte[] gen = bytes(Long.toString(generation));
        // Counted before anything can fail: a change whose write fails is written again, never forgotten.
        java.util.Map<String, List<byte[][]>> calls = new java.util.LinkedHashMap<>();
        for (String channel : channels) {
            int now = Handler.countHere(handlers, channel);
            boolean intact = shared.contains(channel) && !everything;
            if (now > 0) shared.add(channel);
            else shared.remove(channel);
            Set<String> changed = dirtyUsers.remove(channel);
            List<String> ops = new ArrayList<>();
            if (intact || now == 0) {
                if (changed != null) {
                    Set<String> users = Handler.usersHere(handlers, channel);
                    for (String user : changed) ops.add((users.contains(user) ? "+" : "-") + user);
                }
            } else {
                for (String user : Handler.usersHere(handlers, channel)) ops.add("+" + user);
            }
            calls.put(channel, arguments(now, gen, intact ? "delta" : "full", ops));
        }
        try {
            RedisAsyncCommands<byte[], byte[]> async = connection().async();
            async.scriptLoad(count.source());                 // after a Redis restart the script is gone
            Outcome outcome = new Outcome(which, calls.keySet());
            for (java.util.Map.Entry<String, List<byte[][]>> each : calls.entrySet()) {
                byte[][] keys = {key(each.getKey()), usersKey(each.getKey())};
                for (byte[][] call : each.getValue()) outcome.add(async.evalsha(count.sha(), ScriptOutputType.MULTI, keys, call));
            }
            outcome.sent();
        } catch (RuntimeException e) {
            // A throw would cancel the periodic task for good.
            failed(which, e, calls.keySet());
        }
    }

    /**
     * The arguments of {@code count.lua} for one channel, one call per {@link #CHUNK} users: the first with
     * {@code mode}, the rest deltas that add to it.
     */
    private List<byte[][]> arguments(int count, byte[] gen, String mode, List<String> ops) {
        List<byte[][]> calls = new ArrayList<>();
        byte[] countBytes = bytes(Integer.toString(count));
        byte[] lifeMs = bytes(Long.toString(Math.max(1, life.toMillis())));
        int from = 0;
        do {
            int to = Math.min(ops.size(), from + CHUNK);
            byte[][] args = new byte[5 + to - from][];
            args[0] = nodeBytes;
            args[1] = countBytes;
            args[2] = lifeMs;
            args[3] = gen;
            args[4] = bytes(from == 0 ? mode : "delta");
            for (int i = from; i < to; i++) args[5 + i - from] = bytes(ops.get(i));
            calls.add(args);
            from = to;
        } while (from < ops.size());
        return calls;
    }

    /**
     * How one write went, over all its calls: a failure of any is the write's (said once); a delta that found this
     * node's share lapsed (see {@code count.lua}) has the next flush write everything again.
     */
    private final class Outcome {
        private final String which;
        private final java.util.Collection<String> channels;
        private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger(1);
        private final AtomicBoolean failedOnce = new AtomicBoolean();

        Outcome(String which, java.util.Collection<String> channels) {
            this.which = which;
            this.channels = channels;
        }

        void add(RedisFuture<Object> call) {
            waiting.incrementAndGet();
            call.whenComplete((result, failure) -> {
                if (failure != null) {
                    if (failedOnce.compareAndSet(false, true)) failed(which, failure, channels);
                } else if (result instanceof List<?> answer && answer.size() > 1 && Long.valueOf(1).equals(answer.get(1))) {
                    log.debug("This node's presence on a channel had lapsed in Redis; every count and user is written again");
                    stale = true;
                }
                done();
            });
        }

        /** Every call is sent. */
        void sent() {
            done();
        }

        private void done() {
            if (waiting.decrementAndGet() == 0 && !failedOnce.get()) shared();
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
        // Lettuce rejects commands as soon as the link drops, a moment before the broker hears of it and logs the
        // loss: that rejection is the same outage, which the broker's one line already tells.
        if (connected.getAsBoolean() && !rejectedWhileDisconnected(failure) && warned.compareAndSet(false, true)) {
            log.warn("Could not share the subscriber counts of the {} channels in Redis: {} (retried every {} ms; "
                    + "not logged again until the counts are shared)", which, failure.getMessage(), flushMillis);
        } else {
            log.debug("Could not share the subscriber counts of the {} channels in Redis: {}", which, failure.getMessage());
        }
    }

    private static boolean rejectedWhileDisconnected(Throwable failure) {
        // Lettuce's DefaultEndpoint says so only in its message, on a plain RedisException.
        return String.valueOf(failure.getMessage()).startsWith("Currently not connected");
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
            for (String channel : shared) {
                removed.add(async.hdel(key(channel), nodeBytes));
                // Its users go void with its generation; the next read drops them.
                removed.add(async.hdel(usersKey(channel), nodeBytes));
            }
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

    private static byte[] usersKey(String channel) {
        return bytes("squall:u:" + channel);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
