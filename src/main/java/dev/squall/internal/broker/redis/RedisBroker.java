package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.broker.Unavailable;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.pubsub.api.async.RedisPubSubAsyncCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A broker whose streams live in Redis, so that several nodes share them: a publish on any node is numbered by
 * Redis, kept in the channel's Redis stream, and reaches every node subscribed to the channel, in one order.
 *
 * <p>Keys, per channel C: {@code squall:m:C} the meta hash (epoch {@code e}, offset {@code o}),
 * {@code squall:s:C} the stream (entry ID = offset), {@code squall:k:<length of C>:C<key>} an idempotency key,
 * and the pub/sub channel {@code squall:p:C}. A publish is one Lua script ({@code publish.lua}): numbering,
 * appending, expiry, idempotency and the {@code PUBLISH} happen in one atomic step, so Redis's order of
 * publishes is the channel's order, and offsets are global per channel whichever node published.
 *
 * <p>Expiry: the stream expires with its newest entry (its history TTL after the last publish), and every read
 * first drops the entries whose own TTL has passed. The meta hash outlives the stream: a publish makes it live
 * at least the history TTL, and at least {@link #META_FLOOR} for a channel without history (a channel that
 * nobody listens to and nothing is kept for costs Redis nothing a few seconds later, as in memory). A node
 * keeps the meta hash of every channel it is subscribed to alive for {@link #KEEP}, refreshed every third of
 * that, so a subscribed channel keeps its epoch; a crashed node's channels are forgotten a minute later. A lost
 * meta hash (expired, or Redis restarted without persistence) starts the channel on a new epoch, which is how
 * clients learn that what they had can no longer be recovered. A read of a channel with no stream makes one (a
 * new epoch at offset 0, kept for {@link #KEEP}), so every position the broker answers has an epoch a client can
 * offer back.
 *
 * <p>Epochs and the Redis process: each meta hash names the Redis process that wrote its epoch ({@code r}, the
 * {@code run_id} of {@code INFO server}), and every script is given the run id of the process its connection
 * reached, read when that connection was made. A Redis restarted from its snapshot (RDB or AOF) or a replica
 * promoted after a failover holds the channel's meta hash as it was some time ago, possibly offsets behind what
 * clients have; a script that finds another process's run id gives the channel a new epoch (and drops its stream)
 * instead of numbering on, so no offset ever names two messages and no client is told it recovered across the
 * loss. Connections therefore never reconnect behind the broker's back (Lettuce's auto-reconnect is off): a lost
 * connection is replaced by a new one, whose run id is read before it carries any script. A position read after a
 * reconnect that is behind what this node already delivered in the same epoch is a rollback too: the broker
 * moves the channel to a new epoch ({@code rotate.lua}) and resets its subscribers.
 *
 * <p>Delivery: one pub/sub connection per node, with one {@code SUBSCRIBE} per channel the hub subscribes.
 * Lettuce calls its listener on the connection's single Netty event-loop thread, one message after the other in
 * the order Redis sent them (the order the script ran); it hands each to the channel's stripe (see Gaps below),
 * so handlers are called on a stripe thread, never concurrently for a channel, and must only queue.
 * {@link PublishResult#delivered()} is {@link PublishResult#NOT_KNOWN}: the publish returns when Redis has
 * taken it, before any node has delivered it.
 *
 * <p>Gaps: per subscribed channel the node keeps the last position it delivered (read when the channel is
 * subscribed). A live message one past it is delivered, one at or before it is a duplicate and dropped, and one
 * further on is preceded by the missing offsets read from the stream; when the stream no longer holds them, or
 * the epoch changed, the handlers are told {@link Handler#reset} and delivery goes on from there. Lettuce's
 * event-loop thread never waits on Redis: it hands each message to the channel's stripe (one of
 * {@link #STRIPES} single threads), which delivers and repairs. At most {@link #MAX_QUEUED} messages wait per
 * channel; past that a message is dropped here and filled from the stream like any other gap. Every
 * {@link #CHECK} the position of each subscribed channel is read (pipelined); a gap seen by two checks in a row
 * is filled, so an idle channel's lost message is found too.
 *
 * <p>Faults: a lost connection (commands or pub/sub) is replaced on the lifecycle thread, at once and then with
 * {@link Backoff} (100 ms doubling to 5 s, jittered); commands fail at once while it is gone and time out after
 * {@link #COMMAND_TIMEOUT}, and at most {@link #MAX_IN_FLIGHT} wait for an answer, so nothing queues without
 * bound: {@code publish}, {@code history} and {@code latest} throw {@link Unavailable}. At most
 * {@link #MAX_CALLERS} of the node's threads wait for Redis at once (a publish, a read, a subscribe, a presence
 * count: each holds a Jetty thread while it waits); the next one waits {@link #CALLER_WAIT} for a place and is then
 * refused with {@link Unavailable}, so a Redis that stops answering holds a few threads for its command timeout,
 * not every thread the server has, and pings, pongs and plain WebSocket traffic go on. A Redis that cannot be reached
 * when the broker is made is one WARN line, then retried in the background on the broker's own lifecycle thread.
 * {@link #connected()} is true while both connections are up and every subscribed channel has been subscribed at
 * Redis again since the last loss. After each loss (and after the first late connect) the lifecycle thread
 * subscribes every subscribed channel again on the new pub/sub connection and waits for Redis's confirmation,
 * runs the keep script (a Redis restarted empty, or from a snapshot, gives the channel a new epoch),
 * reads each channel's position and has its stripe act on it at once: the gap is filled from the stream, or the
 * handlers are told {@link Handler#reset} (on a new epoch, from the oldest publication its stream still holds, which
 * are then delivered). {@code subscribe} and {@code unsubscribe} never throw for Redis's sake: while Redis is away
 * the channel is kept (or dropped) and subscribed (or unsubscribed) at Redis once it is back. One WARN when Redis is
 * lost and one INFO when it is back, instead of Lettuce's line per reconnect attempt.
 *
 * <p>Liveness: a pub/sub connection can look alive and deliver nothing. Every {@link #PROBE_EVERY} the node
 * PUBLISHes a number on its own probe channel ({@code squall:probe:<random id>}), to which its pub/sub connection
 * is subscribed; one that Redis took but that has not come back within {@link #PROBE_WITHIN} gets that connection
 * replaced, with every channel subscribed again and checked as after a loss. A probe that Redis did not even take
 * within that bound means the commands connection is silent too (a black-holed network, which Lettuce never
 * notices: its commands would each time out): both connections are replaced, and meanwhile publishes are refused
 * at once.
 *
 * <p>Presence: counts and users over all nodes and join/leave events between them, in {@link RedisPresence}; events
 * share the channel's pub/sub channel and stripe with its publications, but carry no offset.
 *
 * <p>Revocation: every node's pub/sub connection is subscribed to {@code squall:control} (with its probe channel,
 * whenever it connects), where {@link #disconnect} PUBLISHes {@code D:<node>:<user>}; each other node hands the user
 * to its handlers ({@link Handler#disconnect}) on a stripe, off Lettuce's thread. Nothing is kept: a node that is
 * away from Redis at that moment does not hear it. Several Redis shards: see
 * {@link RedisShards}, which holds one broker per Redis.
 */
public final class RedisBroker implements Broker {

    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);

    /** How long a node keeps the meta hash of a channel it is subscribed to; refreshed every third of it. */
    static final Duration KEEP = Duration.ofSeconds(60);
    /** The shortest life of a meta hash after a publish (a channel without history). */
    static final Duration META_FLOOR = Duration.ofSeconds(5);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    private static final String PUB_PREFIX = "squall:p:";
    /** How often the subscribed channels' positions are checked against Redis. */
    static final Duration CHECK = Duration.ofSeconds(3);
    static final int STRIPES = 4;
    static final int MAX_QUEUED = 10_000;
    /** The longest gap filled from the stream; a longer one resets the channel's subscribers. */
    static final int MAX_FILL = 10_000;

    /** How often the pub/sub connection is probed: a PUBLISH on this node's probe channel, which it is subscribed to. */
    static final Duration PROBE_EVERY = Duration.ofSeconds(5);
    /** How soon a probe Redis took must come back on the pub/sub connection, or that connection is replaced. */
    static final Duration PROBE_WITHIN = Duration.ofSeconds(5);
    private static final String PROBE_PREFIX = "squall:probe:";
    /** Where nodes tell each other to close a user's connections. */
    private static final byte[] CONTROL = bytes("squall:control");
    private static final String DISCONNECT = "D:";

    /** How long the first attempt to reach Redis may take, and each reconnect's TCP connect. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Commands written to one connection and not yet answered: past that a command fails at once (a second bound beside the timeout). */
    static final int MAX_IN_FLIGHT = 100_000;
    /**
     * The node's threads that may wait for Redis at once: with a 5 s command timeout, a silent Redis could otherwise
     * hold every Jetty thread (the standalone server has 64), and with them every WebSocket's reads and pongs.
     */
    static final int MAX_CALLERS = 16;
    /** How long a call waits for one of the {@link #MAX_CALLERS} places: a healthy Redis frees one in well under this. */
    static final Duration CALLER_WAIT = Duration.ofMillis(100);

    private final String shown;
    private final ClientResources resources;
    private final RedisClient client;
    private final Backoff backoff = new Backoff();
    // Null until Redis is reached, and again from a loss until the lifecycle thread has made a new one.
    private volatile @Nullable Commands commands;
    private volatile @Nullable StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private final java.util.concurrent.Semaphore callers = new java.util.concurrent.Semaphore(MAX_CALLERS);
    // The stream scripts take the run id of the Redis process their connection reached as their last argument.
    private final Script publish = Script.load("publish.lua");
    private final Script history = Script.load("history.lua");
    private final Script keep = Script.load("keep.lua");
    private final Script rotate = Script.load("rotate.lua");
    private final List<Handler> handlers = new CopyOnWriteArrayList<>();
    // Changed, with SUBSCRIBE and UNSUBSCRIBE written, only under membership: so the order Redis sees is the order here.
    private final Object membership = new Object();
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    private final Set<String> pending = ConcurrentHashMap.newKeySet();   // subscribed, but not yet at Redis
    private final Set<String> stale = ConcurrentHashMap.newKeySet();     // unsubscribed here, maybe not at Redis
    private final ConcurrentHashMap<String, Track> tracks = new ConcurrentHashMap<>();
    private final ExecutorService[] stripes = new ExecutorService[STRIPES];
    // Connects, resubscribes and checks after a reconnect: blocking work, kept off Lettuce's and the node's threads.
    private final ScheduledExecutorService lifecycle;
    private final RedisPresence presence;
    private final ScheduledFuture<?> refreshing;
    private final ScheduledFuture<?> checking;
    private final Duration keepFor;
    private final Duration metaFloor;
    private final Object state = new Object();
    // This node's id in Redis: random, new at every start (its presence fields, events and control messages carry it).
    private final String node = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    private final byte[] probeChannel = bytes(PROBE_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE));
    private final RedisPubSubAdapter<byte[], byte[]> listener = new RedisPubSubAdapter<>() {
        @Override
        public void message(byte[] channel, byte[] message) {
            received(channel, message);
        }
    };
    private final Duration probeWithin;
    private final ScheduledFuture<?> probing;
    private volatile long probeSent;          // the newest probe's number (written on lifecycle)
    private volatile long probeTaken;         // System.nanoTime() when Redis took it, 0 until then
    private volatile long probeBack;          // the newest probe number that came back on the pub/sub connection
    private long probeSentAt;                 // on lifecycle: System.nanoTime() when the newest probe was sent
    private long generation;                  // under state: one more at every lost connection
    private volatile boolean synced;          // every subscribed channel subscribed at Redis since the last loss
    private volatile long lostAt;             // System.nanoTime() when Redis was lost (or first tried), 0 while it is there
    private boolean reached;                  // on lifecycle: Redis was reached once
    private int attempts;                     // on lifecycle: failed attempts in a row
    private @Nullable ScheduledFuture<?> retry; // on lifecycle: the next resync
    private boolean reconnecting;             // on lifecycle: connectLater is running or scheduled
    private volatile boolean closed;

    /**
     * The commands connection and the Redis process it reached: its {@code run_id}, read from {@code INFO server}
     * before the connection carried anything else. A connection never reconnects by itself, so the two never part.
     */
    private record Commands(StatefulRedisConnection<byte[], byte[]> connection, byte[] runId) {
    }

    /**
     * Connects to Redis at {@code uri} ({@code redis://host:port}) and keeps the subscribed channels' streams
     * alive on {@code scheduler}. The first attempt is made here (at most {@link #CONNECT_TIMEOUT}); when Redis
     * cannot be reached the broker is made anyway, says so in one log line, and keeps trying in the background.
     *
     * @throws IllegalArgumentException when {@code uri} is not a Redis URI
     */
    public RedisBroker(String uri, ScheduledExecutorService scheduler) {
        this(uri, scheduler, KEEP, META_FLOOR, CHECK);
    }

    /** With other lives of a meta hash than {@link #KEEP} and {@link #META_FLOOR}, for tests of expiry. */
    RedisBroker(String uri, ScheduledExecutorService scheduler, Duration keepFor, Duration metaFloor) {
        this(uri, scheduler, keepFor, metaFloor, CHECK);
    }

    /** With the positions checked every {@code check}, for tests of idle gaps. */
    RedisBroker(String uri, ScheduledExecutorService scheduler, Duration keepFor, Duration metaFloor, Duration check) {
        this(uri, scheduler, keepFor, metaFloor, check, PROBE_EVERY, PROBE_WITHIN, RedisPresence.Timing.DEFAULT);
    }

    /** With the pub/sub connection probed every {@code probeEvery}, for tests of a silent pub/sub connection. */
    RedisBroker(String uri, ScheduledExecutorService scheduler, Duration keepFor, Duration metaFloor, Duration check,
                Duration probeEvery, Duration probeWithin) {
        this(uri, scheduler, keepFor, metaFloor, check, probeEvery, probeWithin, RedisPresence.Timing.DEFAULT);
    }

    /** With presence counts shared, kept and flushed as {@code timing} says, for tests of presence. */
    RedisBroker(String uri, ScheduledExecutorService scheduler, RedisPresence.Timing timing) {
        this(uri, scheduler, KEEP, META_FLOOR, CHECK, PROBE_EVERY, PROBE_WITHIN, timing);
    }

    private RedisBroker(String uri, ScheduledExecutorService scheduler, Duration keepFor, Duration metaFloor, Duration check,
                        Duration probeEvery, Duration probeWithin, RedisPresence.Timing timing) {
        this.probeWithin = probeWithin;
        this.keepFor = keepFor;
        this.metaFloor = metaFloor;
        this.shown = RedisBrokers.shown(uri);
        RedisURI redisUri = RedisURI.create(uri);            // a malformed URI fails here, at once
        redisUri.setTimeout(COMMAND_TIMEOUT);                  // the handshake's, else 60 s on a silent network
        this.resources = DefaultClientResources.create();
        this.client = RedisClient.create(resources, redisUri);
        client.setOptions(ClientOptions.builder()
                // A connection that came back on its own could reach another Redis process (restarted from a
                // snapshot) under the old one's run id: the lifecycle thread makes a new one instead.
                .autoReconnect(false)
                // Nothing queues without bound while Redis is away: a publish then fails at once.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                .requestQueueSize(MAX_IN_FLIGHT)
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
                .build());
        client.addListener(new Links());
        for (int i = 0; i < STRIPES; i++) {
            String name = "squall-redis-sequence-" + i;
            stripes[i] = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, name);
                thread.setDaemon(true);
                return thread;
            });
        }
        // The commands connection of the moment: none until Redis is reached, another after a failed probe.
        this.presence = new RedisPresence(node, () -> {
            Commands c = commands;
            return c == null ? null : c.connection();
        }, this::connected, handlers, scheduler, timing);
        client.addListener(presence.reconnects());
        this.lifecycle = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "squall-redis-lifecycle");
            thread.setDaemon(true);
            return thread;
        });
        long before;
        synchronized (state) {
            before = generation;
        }
        String failure = connect();
        if (failure == null) {
            reached = true;
            synchronized (state) {
                synced = generation == before;            // nothing is subscribed yet: nothing to subscribe again
            }
            if (!synced) wake();
        } else {
            lostAt = System.nanoTime();
            log.warn("Cannot reach Redis at {} ({}): retrying with backoff; /ready answers 503 until it is reached", shown, failure);
            reconnecting = true;
            lifecycle.schedule(this::connectLater, backoff.createDelay(++attempts).toMillis(), TimeUnit.MILLISECONDS);
        }
        long probeMillis = Math.max(1, probeEvery.toMillis());
        this.probing = lifecycle.scheduleWithFixedDelay(this::probe, probeMillis, probeMillis, TimeUnit.MILLISECONDS);
        long every = Math.max(1, keepFor.toMillis() / 3);
        this.refreshing = scheduler.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
        long checkEvery = Math.max(1, check.toMillis());
        this.checking = scheduler.scheduleWithFixedDelay(this::check, checkEvery, checkEvery, TimeUnit.MILLISECONDS);
    }

    /** Opens what is not open yet; null when both connections are there, else why not, in the network's words. */
    private @Nullable String connect() {
        try {
            if (commands == null) {
                StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE);
                try {
                    commands = new Commands(connection, bytes(runId(connection.sync().info("server"))));
                } catch (RuntimeException e) {
                    connection.closeAsync();
                    throw e;
                }
            }
            if (pubsub == null) {
                StatefulRedisPubSubConnection<byte[], byte[]> connection = client.connectPubSub(ByteArrayCodec.INSTANCE);
                connection.addListener(listener);
                try {
                    connection.sync().subscribe(probeChannel, CONTROL);   // before anything else: the only SUBSCRIBE under way
                } catch (RuntimeException e) {
                    connection.closeAsync();
                    throw e;
                }
                pubsub = connection;
            }
            return null;
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            return String.valueOf(root.getMessage());
        }
    }

    /** The {@code run_id} line of {@code INFO server}: which Redis process a connection reached. */
    static String runId(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("run_id:")) return line.substring("run_id:".length()).trim();
        }
        throw new IllegalStateException("INFO server has no run_id line");
    }

    /**
     * On lifecycle: opens what is missing (the first connect, or after a loss), retrying with backoff until both
     * connections are there, then subscribes and checks every channel.
     */
    private void connectLater() {
        if (closed) return;
        String failure = connect();
        if (failure != null) {
            log.debug("Still cannot reach Redis at {}: {}", shown, failure);
            reconnecting = true;
            lifecycle.schedule(this::connectLater, backoff.createDelay(++attempts).toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        reconnecting = false;
        attempts = 0;
        resync();
    }

    /** On lifecycle: a connection was lost; a new one is made now, unless one is already being made. */
    private void reconnect(RedisChannelHandler<?, ?> lost) {
        if (closed) return;
        synchronized (state) {
            Commands c = commands;
            if (c != null && c.connection() == lost) commands = null;
            if (pubsub == lost) pubsub = null;
        }
        lost.closeAsync();
        if (!reconnecting) connectLater();
    }

    /** Lettuce's word that a connection went or came, on its event loop: only notes it and hands on. */
    private final class Links implements RedisConnectionStateListener {
        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
            wake();
        }

        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
            // A connection replaced after a failed probe goes unmourned.
            Commands c = commands;
            if (closed || ((c == null || connection != c.connection()) && connection != pubsub)) return;
            boolean was;
            synchronized (state) {
                generation++;
                was = synced;
                synced = false;
                if (was) lostAt = System.nanoTime();
            }
            if (was) log.warn("Lost Redis at {}: publishes answer 503 until it is back; reconnecting", shown);
            try {
                lifecycle.execute(() -> reconnect(connection));
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
    }

    /**
     * On lifecycle: the liveness probe. A pub/sub connection can look alive and deliver nothing (Centrifugo issue
     * #1189: after a failover its subscriptions were gone while every health check stayed green); the periodic
     * position check would still fill the gaps, late. So the node PUBLISHes a number on its own probe channel; when
     * Redis took it and it has not come back on the pub/sub connection within {@link #PROBE_WITHIN}, that
     * connection is replaced: a new one, every channel subscribed again and checked, as after a loss.
     */
    private void probe() {
        Commands c = commands;
        if (closed || c == null || !connected()) {
            probeTaken = 0;
            probeBack = probeSent;
            return;
        }
        if (probeBack < probeSent) {
            long taken = probeTaken;
            long silent = System.nanoTime() - (taken != 0 ? taken : probeSentAt);
            // Not even taken: the commands connection is as silent (a black-holed network), which Lettuce never notices.
            if (silent > probeWithin.toNanos()) replace(taken == 0, silent);
            return;
        }
        long number = probeSent + 1;
        probeSent = number;
        probeTaken = 0;
        probeSentAt = System.nanoTime();
        try {
            c.connection().async().publish(probeChannel, number(number)).whenComplete((receivers, failed) -> {
                if (failed == null && probeSent == number) probeTaken = System.nanoTime();
            });
        } catch (RuntimeException e) {
            log.debug("Could not send a probe to Redis: {}", e.getMessage());
        }
    }

    /**
     * On lifecycle: replaces the pub/sub connection that stopped delivering (and the commands one too when it stopped
     * answering), then subscribes and checks every channel as after a loss.
     */
    private void replace(boolean commandsToo, long silentNanos) {
        StatefulRedisPubSubConnection<byte[], byte[]> oldPubsub = pubsub;
        Commands oldCommands = commandsToo ? commands : null;
        synchronized (state) {
            generation++;
            if (synced) lostAt = System.nanoTime();
            synced = false;
            pubsub = null;
            if (commandsToo) commands = null;                 // publishes are refused at once, not after a timeout
        }
        String silent = String.format(java.util.Locale.ROOT, "%.1f", silentNanos / 1e9);
        if (commandsToo) {
            log.warn("Redis at {} answered nothing for {} s (a probe was not even taken): publishes answer 503 while both "
                    + "connections are replaced and every channel subscribed again", shown, silent);
        } else {
            log.warn("Redis pub/sub connection to {} delivered nothing for {} s while commands work (a probe did not come "
                    + "back): replacing it and subscribing every channel again", shown, silent);
        }
        if (oldPubsub != null) {
            oldPubsub.removeListener(listener);
            oldPubsub.closeAsync();
        }
        if (oldCommands != null) oldCommands.connection().closeAsync();
        probeTaken = 0;
        probeBack = probeSent;
        if (!reconnecting) connectLater();
    }

    private void wake() {
        try {
            lifecycle.execute(this::resync);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /**
     * On lifecycle: once both connections are up after a loss (or the first late connect), subscribes every
     * subscribed channel again and checks each one's position at once; between losses, subscribes the ones whose
     * {@link #subscribe} could not. Retries with backoff until it has done so with no loss in between.
     */
    private void resync() {
        if (closed) return;
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
        Commands c = commands;
        StatefulRedisPubSubConnection<byte[], byte[]> p = pubsub;
        if (c == null || p == null) return;                   // connectLater is still at it
        boolean full = !synced;
        if (!full && pending.isEmpty() && stale.isEmpty()) return;
        long at;
        synchronized (state) {
            at = generation;
        }
        int count;
        try {
            if (!c.connection().isOpen() || !p.isOpen()) throw new IllegalStateException("Redis is reconnecting");
            count = catchUp(c, p, full);
            boolean done;
            synchronized (state) {
                done = generation == at;
                if (done && full) synced = true;
            }
            if (!done) throw new IllegalStateException("Redis was lost again meanwhile");
        } catch (RuntimeException e) {
            if (closed) return;
            log.debug("Could not subscribe the channels again at Redis {}: {}", shown, e.getMessage());
            retry = lifecycle.schedule(this::resync, backoff.createDelay(++attempts).toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        attempts = 0;
        if (full) {
            long since = lostAt;
            lostAt = 0;
            if (since != 0) {
                String away = String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - since) / 1e9);
                if (reached) {
                    log.info("Redis at {} is back after {} s; {} channels subscribed again and checked", shown, away, count);
                } else {
                    log.info("Reached Redis at {} after {} s of retrying; {} channels subscribed", shown, away, count);
                }
            }
            reached = true;
        }
        if (!pending.isEmpty() || !stale.isEmpty()) wake();
    }

    /**
     * Subscribes the channels (all when {@code full}, else the pending ones) and waits for Redis to confirm, runs
     * the keep script for each (a Redis that restarted empty gives them new epochs), reads each one's position
     * and hands it to the channel's stripe: anything at or before it is in the stream or lost, anything after it
     * arrives live. Returns how many channels it subscribed.
     */
    private int catchUp(Commands c, StatefulRedisPubSubConnection<byte[], byte[]> p, boolean full) {
        List<String> channels;
        RedisFuture<String> confirmed = null;
        List<String> gone = new ArrayList<>();
        synchronized (membership) {
            channels = new ArrayList<>(full ? subscribed : pending);
            channels.retainAll(subscribed);
            pending.removeAll(channels);
            for (String channel : stale) if (!subscribed.contains(channel)) gone.add(channel);
            stale.removeAll(gone);
            RedisPubSubAsyncCommands<byte[], byte[]> async = p.async();
            if (!channels.isEmpty()) async.subscribe(redisChannels(channels));
            if (full) async.subscribe(probeChannel);
            if (!gone.isEmpty()) async.unsubscribe(redisChannels(gone));
            // Lettuce completes a SUBSCRIBE of many channels at the first one's reply (and resubscribes by itself
            // before this one): the PING's answer comes after every confirmation before it.
            if (full || !channels.isEmpty() || !gone.isEmpty()) confirmed = async.ping();
        }
        try {
            if (confirmed != null) await(confirmed);
            if (channels.isEmpty()) return 0;
            RedisAsyncCommands<byte[], byte[]> async = c.connection().async();
            async.scriptLoad(keep.source());                   // after a Redis restart the script is gone
            List<RedisFuture<?>> kept = new ArrayList<>();
            for (String channel : channels) {
                kept.add(async.evalsha(keep.sha(), ScriptOutputType.MULTI, keys(channel), newEpoch(), number(keepFor.toMillis()), c.runId()));
            }
            for (RedisFuture<?> each : kept) await(each);
            List<RedisFuture<List<io.lettuce.core.KeyValue<byte[], byte[]>>>> positions = new ArrayList<>();
            for (String channel : channels) positions.add(async.hmget(bytes("squall:m:" + channel), bytes("o"), bytes("e")));
            List<StreamPosition> read = new ArrayList<>();
            for (RedisFuture<List<io.lettuce.core.KeyValue<byte[], byte[]>>> each : positions) read.add(position(await(each)));
            for (int i = 0; i < channels.size(); i++) {
                Track track = tracks.get(channels.get(i));
                StreamPosition now = read.get(i);
                if (track == null || now == null) continue;
                track.anchored = true;
                stripeOf(track.channel).execute(() -> {
                    if (track.active) caughtUp(track, now);
                });
            }
            return channels.size();
        } catch (RuntimeException e) {
            synchronized (membership) {
                for (String channel : channels) if (subscribed.contains(channel)) pending.add(channel);
                stale.addAll(gone);
            }
            throw e;
        }
    }

    @Override
    public void register(Handler handler) {
        handlers.add(handler);
    }

    /**
     * Returns once Redis has confirmed the subscription; while Redis is away (or this fails), the channel is kept
     * and subscribed once Redis is back, its position checked then.
     */
    @Override
    public void subscribe(String channel) {
        Track track;
        synchronized (membership) {
            if (!subscribed.add(channel)) return;
            stale.remove(channel);
            track = new Track(channel);
            tracks.put(channel, track);
        }
        StatefulRedisPubSubConnection<byte[], byte[]> p = pubsub;
        if (!connected() || p == null) {
            later(channel);
            return;
        }
        try {
            gated(() -> {
                run(keep, keys(channel), newEpoch(), number(keepFor.toMillis()));
                RedisFuture<String> confirmed;
                synchronized (membership) {
                    if (!subscribed.contains(channel)) return null;        // unsubscribed meanwhile
                    RedisPubSubAsyncCommands<byte[], byte[]> async = p.async();
                    async.subscribe(bytes(PUB_PREFIX + channel));
                    confirmed = async.ping();                              // answered after the SUBSCRIBE's confirmation
                }
                // Once confirmed, whatever is published from then on reaches this node.
                await(confirmed);
                // Read after the SUBSCRIBE: anything at or before it was published before, nothing after it is missed.
                StreamPosition start = read(channel, "since", Long.MAX_VALUE, 0).position();
                track.anchored = true;
                stripeOf(channel).execute(() -> {
                    if (track.active) caughtUp(track, start);
                });
                return null;
            });
        } catch (RuntimeException e) {
            if (closed) return;
            log.debug("Could not subscribe channel '{}' at Redis now, will when it answers: {}", channel, e.getMessage());
            later(channel);
        }
    }

    /** The channel is subscribed at Redis by the lifecycle thread, now or once Redis is back. */
    private void later(String channel) {
        synchronized (membership) {
            if (subscribed.contains(channel)) pending.add(channel);
        }
        wake();
    }

    /** Never throws for Redis's sake: while Redis is away the channel is unsubscribed there once it is back. */
    @Override
    public void unsubscribe(String channel) {
        RedisFuture<String> confirmed = null;
        Track track;
        synchronized (membership) {
            if (!subscribed.remove(channel)) return;
            pending.remove(channel);
            // This one, taken now: a subscribe of the channel while the UNSUBSCRIBE is confirmed puts its own.
            track = tracks.get(channel);
            StatefulRedisPubSubConnection<byte[], byte[]> p = pubsub;
            if (p != null) {
                try {
                    RedisPubSubAsyncCommands<byte[], byte[]> async = p.async();
                    async.unsubscribe(bytes(PUB_PREFIX + channel));
                    confirmed = async.ping();
                } catch (RuntimeException e) {
                    stale.add(channel);
                }
            }
        }
        if (confirmed != null) {
            try {
                await(confirmed);
            } catch (RuntimeException e) {
                stale.add(channel);                                   // resync drops it unless subscribed again by then
            }
        }
        // What Redis sent before the UNSUBSCRIBE reply is queued on the stripe by now: delivered, then the track goes.
        if (track != null) {
            try {
                stripeOf(channel).execute(() -> {
                    track.active = false;
                    tracks.remove(channel, track);
                });
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
    }

    @Override
    public boolean networked() {
        return true;
    }

    /**
     * Whether the channel's subscription is confirmed at Redis and its first position read: then every publication
     * after a position read from now on reaches the handlers, or a reset does. Until then (a subscribe made while
     * the pub/sub connection was away, pending for the lifecycle thread) a subscriber must not go live from a
     * position read over the commands connection: the track would start later, and what came between would be lost.
     */
    @Override
    public boolean delivering(String channel) {
        Track track = tracks.get(channel);
        return track != null && track.anchored;
    }

    /** Both connections to Redis are up and every subscribed channel is subscribed at Redis again since the last loss. */
    @Override
    public boolean connected() {
        Commands c = commands;
        StatefulRedisPubSubConnection<byte[], byte[]> p = pubsub;
        return !closed && synced && c != null && p != null && c.connection().isOpen() && p.isOpen();
    }

    @Override
    public PublishResult publish(String channel, Message message, PublishOptions options) {
        if (closed) throw new IllegalStateException("the broker is closed");
        String key = options.idempotencyKey();
        long window = key == null ? 0 : millis(options.idempotencyWindow());
        byte[] payload = new byte[message.size()];
        message.payload().get(payload);
        byte[][] keys = {bytes("squall:m:" + channel), bytes("squall:s:" + channel),
                bytes("squall:k:" + channel.length() + ":" + channel + (key == null ? "" : key))};
        List<Object> result = gated(() -> run(publish, keys, bytes(PUB_PREFIX + channel), new byte[]{Envelope.kindOf(message)},
                payload, number(options.historySize()), number(millis(options.historyTtl())), number(window),
                newEpoch(), number(metaFloor.toMillis())));
        StreamPosition position = new StreamPosition((Long) result.get(0), text(result.get(1)));
        boolean duplicate = (Long) result.get(2) == 1;
        return new PublishResult(position, duplicate ? 0 : PublishResult.NOT_KNOWN, duplicate);
    }

    /** See {@link RedisPresence}: this node's live count and users plus the other nodes' unexpired shares. */
    @Override
    public Presence presence(String channel) {
        return gated(() -> presence.presence(channel));
    }

    @Override
    public void counted(String channel, String user) {
        presence.counted(channel, user);
    }

    @Override
    public void announce(String channel, boolean joined, Member who) {
        presence.announce(channel, joined, who);
    }

    /** One PUBLISH on {@code squall:control}, waited for (gated, like a publish). */
    @Override
    public void disconnect(String user) {
        if (closed) throw new IllegalStateException("the broker is closed");
        byte[] message = bytes(DISCONNECT + node + ":" + user);
        gated(() -> {
            Commands c = commands;
            if (c == null) throw new Unavailable("Redis at " + shown + " is not connected", new IllegalStateException("not connected"));
            try {
                return c.connection().sync().publish(CONTROL, message);
            } catch (RedisException e) {
                throw new Unavailable("Redis is unavailable: " + e.getMessage(), e);
            }
        });
    }

    @Override
    public History history(String channel, long since, int limit) {
        if (since == Long.MAX_VALUE) return gated(() -> read(channel, "since", Long.MAX_VALUE, 0));
        return gated(() -> read(channel, "since", Math.max(since, 0) + 1, limit));
    }

    @Override
    public History latest(String channel, int limit) {
        return gated(() -> read(channel, "latest", 0, limit));
    }

    /** The script's read, on the caller's thread as it is (the broker's own threads are not gated). */
    private History read(String channel, String mode, long from, int limit) {
        List<Object> result = run(history, keys(channel), bytes(mode), number(from), number(Math.max(limit, 0)),
                newEpoch(), number(keepFor.toMillis()));
        String epoch = text(result.get(1));
        List<Publication> publications = new ArrayList<>();
        for (Object each : (List<?>) result.get(2)) {
            List<?> entry = (List<?>) each;
            String id = text(entry.get(0));
            List<?> fields = (List<?>) entry.get(1);     // x, expiry, k, kind, d, payload: as publish.lua wrote them
            long offset = Long.parseLong(id.substring(0, id.indexOf('-')));
            Message message = Envelope.message(((byte[]) fields.get(3))[0], (byte[]) fields.get(5));
            publications.add(new Publication(offset, message, epoch));
        }
        return new History(new StreamPosition((Long) result.get(0), epoch), publications);
    }

    /** On Lettuce's event-loop thread: one message at a time, in Redis's order (see the class comment). */
    private void received(byte[] redisChannel, byte[] envelope) {
        if (closed) return;
        if (java.util.Arrays.equals(redisChannel, CONTROL)) {
            control(envelope);
            return;
        }
        if (java.util.Arrays.equals(redisChannel, probeChannel)) {
            try {
                probeBack = Math.max(probeBack, Long.parseLong(text(envelope)));
            } catch (NumberFormatException e) {
                log.warn("Ignored a message on this node's probe channel that it did not send");
            }
            return;
        }
        String channel = new String(redisChannel, StandardCharsets.UTF_8).substring(PUB_PREFIX.length());
        // No check against subscribed: Redis sends a channel's messages only while this connection is subscribed
        // to it, and those published before an UNSUBSCRIBE arrive before its reply, so before unsubscribe returns.
        if (RedisPresence.isEvent(envelope)) {
            received(channel, presence.event(envelope));
            return;
        }
        Publication publication;
        try {
            publication = Envelope.decode(envelope);
        } catch (IllegalArgumentException e) {
            log.warn("Ignored a message on Redis channel '{}' that no Squall node wrote", PUB_PREFIX + channel);
            return;
        }
        Track track = tracks.get(channel);
        if (track == null) return;
        if (track.queued.incrementAndGet() > MAX_QUEUED) {
            // Dropped here, bounded memory: the next message or check finds the gap and fills it from the stream.
            track.queued.decrementAndGet();
            return;
        }
        try {
            stripeOf(channel).execute(() -> {
                track.queued.decrementAndGet();
                if (track.active) arrive(track, publication);
            });
        } catch (RejectedExecutionException closing) {
            track.queued.decrementAndGet();
        }
    }

    /**
     * A message on the control channel, on Lettuce's thread: another node's {@code D:<node>:<user>} goes to the
     * handlers on the user's stripe (closing connections may run the app's close handlers); this node's own, and
     * anything else, is ignored.
     */
    private void control(byte[] message) {
        String text = new String(message, StandardCharsets.UTF_8);
        int colon = text.indexOf(':', DISCONNECT.length());
        if (!text.startsWith(DISCONNECT) || colon < 0 || colon == text.length() - 1) {
            log.warn("Ignored a message on Redis channel 'squall:control' that no Squall node wrote");
            return;
        }
        if (text.substring(DISCONNECT.length(), colon).equals(node)) return;
        String user = text.substring(colon + 1);
        try {
            stripeOf(user).execute(() -> {
                for (Handler handler : handlers) {
                    try {
                        handler.disconnect(user);
                    } catch (RuntimeException e) {
                        log.error("A handler failed to disconnect a user another node asked to", e);
                    }
                }
            });
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /** A join or leave from another node (null: this node's own): on the channel's stripe, bounded with its messages. */
    private void received(String channel, RedisPresence.@org.jspecify.annotations.Nullable Event event) {
        Track track = tracks.get(channel);
        if (event == null || track == null) return;
        if (track.queued.incrementAndGet() > MAX_QUEUED) {
            track.queued.decrementAndGet();                  // dropped: events are at most once
            return;
        }
        try {
            stripeOf(channel).execute(() -> {
                track.queued.decrementAndGet();
                if (track.active) presence.tell(channel, event);
            });
        } catch (RejectedExecutionException closing) {
            track.queued.decrementAndGet();
        }
    }

    static byte[] pubSubChannel(String channel) {
        return bytes(PUB_PREFIX + channel);
    }

    private ExecutorService stripeOf(String channel) {
        return stripes[Math.floorMod(channel.hashCode(), STRIPES)];
    }

    // ---- on the channel's stripe: one call at a time per channel

    private void begin(Track track, StreamPosition start) {
        track.last = start.offset();
        track.epoch = start.epoch();
        List<Publication> early = track.early;
        track.early = null;
        if (early != null) for (Publication publication : early) arrive(track, publication);
    }

    private void arrive(Track track, Publication publication) {
        if (track.epoch == null) {                       // before begin: kept, and bounded by MAX_QUEUED above
            if (track.early == null) track.early = new ArrayList<>();
            if (track.early.size() < MAX_QUEUED) track.early.add(publication);
            return;
        }
        if (track.held != null) {                        // a fill failed: the check retries it; keep the newest
            if (publication.offset() > track.held.offset() || !publication.epoch().equals(track.held.epoch())) track.held = publication;
            return;
        }
        if (!publication.epoch().equals(track.epoch)) {
            // Redis lost the stream: a new epoch, whose earlier offsets this node never had (its stream may).
            restart(track, new StreamPosition(publication.offset() - 1, publication.epoch()));
            if (publication.offset() <= track.last) return;  // delivered from the new epoch's stream
        } else if (publication.offset() <= track.last) {
            return;                                      // a duplicate: delivered already (from the stream)
        } else if (publication.offset() > track.last + 1 && !fill(track, publication.offset() - 1, publication.epoch())) {
            track.held = publication;
            return;
        }
        deliver(track, publication);
    }

    /** Delivers the offsets after the last one up to {@code upTo} from the stream; false when Redis failed. */
    private boolean fill(Track track, long upTo, String epoch) {
        long missing = upTo - track.last;
        if (missing > MAX_FILL) {
            reset(track, new StreamPosition(upTo, epoch));
            return true;
        }
        History found;
        try {
            found = read(track.channel, "since", track.last + 1, (int) missing);
        } catch (RuntimeException e) {
            log.debug("Could not fill a gap on channel '{}' from Redis: {}", track.channel, e.getMessage());
            return false;
        }
        List<Publication> publications = found.publications();
        boolean covered = found.position().epoch().equals(track.epoch) && publications.size() == missing
                && publications.get(0).offset() == track.last + 1;
        if (!covered) {
            reset(track, new StreamPosition(upTo, epoch));
            return true;
        }
        for (Publication publication : publications) deliver(track, publication);
        return true;
    }

    /** A periodic position read: a gap that two checks in a row saw is overdue and filled (or reset). */
    private void checked(Track track, long offset, String epoch) {
        if (track.epoch == null) return;
        if (track.held != null) {
            Publication held = track.held;
            track.held = null;
            arrive(track, held);
            return;
        }
        StreamPosition seen = track.seen;
        track.seen = new StreamPosition(offset, epoch);
        if (seen == null || !seen.epoch().equals(epoch)) return;
        if (!epoch.equals(track.epoch)) {
            restart(track, new StreamPosition(offset, epoch));
        } else if (offset < track.last) {
            rolledBack(track, new StreamPosition(offset, epoch));
        } else if (seen.offset() > track.last) {
            fill(track, seen.offset(), epoch);
        }
    }

    /**
     * The channel's position read after a confirmed SUBSCRIBE (a new subscription, or again after Redis was lost):
     * acted on at once, not after two periodic checks, since nothing at or before it can still be on its way.
     */
    private void caughtUp(Track track, StreamPosition now) {
        if (track.epoch == null) {
            begin(track, now);
            return;
        }
        if (track.held != null) {                        // a fill failed while Redis was going: retried first
            Publication held = track.held;
            track.held = null;
            arrive(track, held);
            if (track.held != null) return;
        }
        track.seen = now;                                // should the fill fail, the next periodic check retries it
        if (!now.epoch().equals(track.epoch)) {
            restart(track, now);
        } else if (now.offset() < track.last) {
            rolledBack(track, now);
        } else if (now.offset() > track.last) {
            fill(track, now.offset(), now.epoch());
        }
    }

    /**
     * A position read was behind what this node already delivered in the same epoch. If a read made here, after
     * those deliveries, still is, Redis lost writes (a restart from a snapshot or a failover that the run id did
     * not reveal), and its next publishes would reuse
     * offsets that name other messages for the clients that have them. The channel gets a new epoch at Redis (if no
     * other node moved it already) and its subscribers a reset; should Redis not answer, the next check tries again.
     */
    private void rolledBack(Track track, StreamPosition now) {
        List<Object> result;
        try {
            // A position read before this stripe delivered what came next is behind for no fault of Redis: only one
            // read here, after every delivery so far (each published before it was delivered), can tell.
            StreamPosition fresh = read(track.channel, "since", Long.MAX_VALUE, 0).position();
            if (!fresh.epoch().equals(track.epoch)) {
                restart(track, fresh);
                return;
            }
            if (fresh.offset() >= track.last) return;
            now = fresh;
            result = run(rotate, keys(track.channel), bytes(now.epoch()), newEpoch(), number(keepFor.toMillis()));
        } catch (RuntimeException e) {
            log.debug("Could not move channel '{}' to a new epoch in Redis: {}", track.channel, e.getMessage());
            return;
        }
        log.warn("Channel '{}' went back in Redis from offset {} to {} of epoch {} (Redis lost writes: a restart from a "
                + "snapshot, or a failover); it is moved to a new epoch and its subscribers are told they are not recovered",
                track.channel, track.last, now.offset(), now.epoch());
        restart(track, new StreamPosition((Long) result.get(0), text(result.get(1))));
    }

    /**
     * The channel is on a new epoch (Redis lost its stream) and at least at {@code at}: the handlers are told
     * {@link Handler#reset}, from the new epoch's oldest publication the stream still holds when it holds
     * everything from there up to {@code at} (those are then delivered), else from {@code at}.
     */
    private void restart(Track track, StreamPosition at) {
        List<Publication> kept = List.of();
        try {
            History found = read(track.channel, "since", 1, MAX_FILL);
            if (found.position().epoch().equals(at.epoch())) kept = found.publications();
        } catch (RuntimeException e) {
            log.debug("Could not read the new stream of channel '{}' from Redis: {}", track.channel, e.getMessage());
        }
        boolean whole = !kept.isEmpty() && kept.get(kept.size() - 1).offset() >= at.offset()
                && kept.get(kept.size() - 1).offset() - kept.get(0).offset() == kept.size() - 1;
        if (!whole) {
            reset(track, at);
            return;
        }
        reset(track, new StreamPosition(kept.get(0).offset() - 1, at.epoch()));
        for (Publication publication : kept) deliver(track, publication);
    }

    private void deliver(Track track, Publication publication) {
        track.last = publication.offset();
        track.epoch = publication.epoch();
        for (Handler handler : handlers) {
            try {
                handler.deliver(track.channel, publication);
            } catch (RuntimeException e) {
                log.error("A handler failed to take a publication on channel '{}'; the others still got it", track.channel, e);
            }
        }
    }

    private void reset(Track track, StreamPosition position) {
        track.last = position.offset();
        track.epoch = position.epoch();
        log.info("Channel '{}' lost publications this node could not read back from Redis; its subscribers are told they are not recovered (now at offset {}, epoch {})",
                track.channel, position.offset(), position.epoch());
        for (Handler handler : handlers) {
            try {
                handler.reset(track.channel, position);
            } catch (RuntimeException e) {
                log.error("A handler failed to take a reset of channel '{}'", track.channel, e);
            }
        }
    }

    /**
     * Reads every subscribed channel's position, pipelined and without waiting (on the node's scheduler), and hands
     * each answer to its channel's stripe.
     */
    private void check() {
        Commands c = commands;
        if (closed || tracks.isEmpty() || c == null || !connected()) return;
        try {
            RedisAsyncCommands<byte[], byte[]> async = c.connection().async();
            for (Track track : tracks.values()) {
                async.hmget(bytes("squall:m:" + track.channel), bytes("o"), bytes("e")).whenComplete((values, failed) -> {
                    if (failed != null || values == null || values.size() < 2 || !values.get(1).hasValue()) return;
                    long offset = values.get(0).hasValue() ? Long.parseLong(text(values.get(0).getValue())) : 0;
                    String epoch = text(values.get(1).getValue());
                    try {
                        stripeOf(track.channel).execute(() -> {
                            if (track.active) checked(track, offset, epoch);
                        });
                    } catch (RejectedExecutionException closing) {
                        // closed meanwhile
                    }
                });
            }
        } catch (RuntimeException e) {
            // A throw would cancel the periodic check for good.
            log.debug("Could not check the positions of the subscribed channels in Redis: {}", e.getMessage());
        }
    }

    /** One subscribed channel's sequence: written and read only on its stripe, except {@link #queued}. */
    private static final class Track {
        final String channel;
        final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
        boolean active = true;                                           // false once unsubscribed
        // Its first position has been read after its SUBSCRIBE was confirmed: it delivers everything after that
        // position (or resets), so any position read from now on is one a subscriber can go live from.
        volatile boolean anchored;
        long last;
        @org.jspecify.annotations.Nullable String epoch;                 // null until begin
        @org.jspecify.annotations.Nullable List<Publication> early;      // arrived before begin
        @org.jspecify.annotations.Nullable Publication held;             // the newest message while a fill failed
        @org.jspecify.annotations.Nullable StreamPosition seen;          // the previous check's reading

        Track(String channel) {
            this.channel = channel;
        }
    }

    /**
     * Keeps the meta hash of every subscribed channel alive, pipelined and without waiting: it runs on the node's
     * scheduler, which also sends the pings, so a slow Redis must not hold it up.
     */
    private void refresh() {
        Commands c = commands;
        // While Redis is away there is nothing to refresh; once back, resync runs the keep script for each channel.
        if (closed || subscribed.isEmpty() || c == null || !connected()) return;
        try {
            RedisAsyncCommands<byte[], byte[]> async = c.connection().async();
            async.scriptLoad(keep.source());                   // after a Redis restart the script is gone
            RedisFuture<Object> last = null;
            for (String channel : subscribed) {
                last = async.evalsha(keep.sha(), ScriptOutputType.MULTI, keys(channel), newEpoch(), number(keepFor.toMillis()), c.runId());
            }
            if (last != null) last.whenComplete((done, failed) -> {
                if (failed != null) log.warn("Could not refresh the streams of the subscribed channels in Redis: {}", failed.getMessage());
            });
        } catch (RuntimeException e) {
            // A throw would cancel the periodic refresh for good.
            log.warn("Could not refresh the streams of the subscribed channels in Redis: {}", e.getMessage());
        }
    }

    /**
     * Runs one of the stream scripts by its SHA (loading it first when Redis does not have it: a restart, a flush),
     * with the run id of the Redis process its connection reached appended to {@code args}.
     *
     * @throws Unavailable when Redis is not connected or did not answer in time
     */
    private <T> T run(Script script, byte[][] keys, byte[]... args) {
        Commands c = commands;
        if (c == null) throw new Unavailable("Redis at " + shown + " is not connected", new IllegalStateException("not connected"));
        byte[][] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = c.runId();
        return script.run(c.connection(), keys, all);
    }

    /**
     * Runs {@code call} for one of the node's threads once one of the {@link #MAX_CALLERS} places is free: a Redis
     * that stops answering holds at most that many threads for its command timeout.
     *
     * @throws Unavailable when no place came free within {@link #CALLER_WAIT}
     */
    private <T> T gated(java.util.function.Supplier<T> call) {
        boolean entered;
        try {
            entered = callers.tryAcquire(CALLER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("interrupted while waiting to call Redis", e);
        }
        if (!entered) {
            throw new Unavailable("Redis at " + shown + " is not answering: " + MAX_CALLERS + " calls are waiting for it already",
                    new TimeoutException("no caller place within " + CALLER_WAIT.toMillis() + " ms"));
        }
        try {
            return call.get();
        } finally {
            callers.release();
        }
    }

    /** Waits for a command on the lifecycle or a caller's thread; Lettuce's own timeout bounds it, this is a backstop. */
    private static <T> T await(RedisFuture<T> future) {
        try {
            return future.toCompletableFuture().get(COMMAND_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new Unavailable("Redis is unavailable: " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new Unavailable("Redis did not answer in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("interrupted while waiting for Redis", e);
        }
    }

    /** A channel's position from its meta hash's {@code o} and {@code e}; null when it has none. */
    private static @Nullable StreamPosition position(List<io.lettuce.core.KeyValue<byte[], byte[]>> values) {
        if (values == null || values.size() < 2 || !values.get(1).hasValue()) return null;
        long offset = values.get(0).hasValue() ? Long.parseLong(text(values.get(0).getValue())) : 0;
        return new StreamPosition(offset, text(values.get(1).getValue()));
    }

    private static byte[][] redisChannels(List<String> channels) {
        byte[][] names = new byte[channels.size()][];
        for (int i = 0; i < names.length; i++) names[i] = bytes(PUB_PREFIX + channels.get(i));
        return names;
    }


    private static byte[][] keys(String channel) {
        return new byte[][]{bytes("squall:m:" + channel), bytes("squall:s:" + channel)};
    }

    /** Whole milliseconds, at least 1 for any positive duration (a 1 ns TTL still keeps something, briefly). */
    private static long millis(Duration duration) {
        if (duration.isZero()) return 0;
        try {
            return Math.max(1, duration.toMillis());
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE / 2;
        }
    }

    // 64 random bits, 16 hex digits, as the in-memory broker's: a lost stream never meets its old epoch again.
    private static byte[] newEpoch() {
        return bytes(Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE));
    }

    private static byte[] number(long value) {
        return bytes(Long.toString(value));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Object bulk) {
        return new String((byte[]) bulk, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        presence.close();
        refreshing.cancel(false);
        checking.cancel(false);
        probing.cancel(false);
        handlers.clear();
        lifecycle.shutdownNow();
        for (ExecutorService stripe : stripes) stripe.shutdownNow();
        try {
            // A connect under way on lifecycle ends within its timeout; the client then closes what it opened.
            lifecycle.awaitTermination(CONNECT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }

    /** A Lua script of this package, and its SHA-1 (what EVALSHA names it by). */
    record Script(String sha, byte[] source) {

        /**
         * Runs the script by its SHA on {@code connection}, loading it first when Redis does not have it (a restart,
         * a flush).
         *
         * @throws Unavailable when Redis is not connected or did not answer in time
         */
        <T> T run(StatefulRedisConnection<byte[], byte[]> connection, byte[][] keys, byte[]... args) {
            try {
                try {
                    return connection.sync().evalsha(sha, ScriptOutputType.MULTI, keys, args);
                } catch (RedisNoScriptException missing) {
                    connection.sync().scriptLoad(source);
                    return connection.sync().evalsha(sha, ScriptOutputType.MULTI, keys, args);
                }
            } catch (RedisCommandExecutionException answered) {
                throw answered;                               // Redis answered with an error: a bug, not a fault
            } catch (RedisException e) {
                // Rejected while disconnected (REJECT_COMMANDS), or timed out: the caller may retry later.
                throw new Unavailable("Redis is unavailable: " + e.getMessage(), e);
            }
        }

        static Script load(String name) {
            try (InputStream in = RedisBroker.class.getResourceAsStream(name)) {
                if (in == null) throw new IllegalStateException("missing resource " + name);
                byte[] source = in.readAllBytes();
                return new Script(sha1(source), source);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String sha1(byte[] source) {
            try {
                byte[] digest = java.security.MessageDigest.getInstance("SHA-1").digest(source);
                return java.util.HexFormat.of().formatHex(digest);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JVM has no SHA-1", e);
            }
        }
    }
}
