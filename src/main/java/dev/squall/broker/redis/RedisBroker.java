package dev.squall.broker.redis;

import dev.squall.broker.Broker;
import dev.squall.broker.History;
import dev.squall.broker.Message;
import dev.squall.broker.Publication;
import dev.squall.broker.PublishOptions;
import dev.squall.broker.PublishResult;
import dev.squall.broker.StreamPosition;
import dev.squall.broker.Unavailable;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

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
 * clients learn that what they had can no longer be recovered.
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
 * <p>Presence: counts over all nodes and join/leave events between them, in {@link RedisPresence}; events share
 * the channel's pub/sub channel and stripe with its publications, but carry no offset.
 *
 * <p>Not yet here (issue 10): a liveness
 * probe, and several Redis shards. While Redis is unreachable, commands fail at once
 * (rejected, not queued) and publishes throw.
 */
public final class RedisBroker implements Broker {

    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);

    /** How long a node keeps the meta hash of a channel it is subscribed to; refreshed every third of it. */
    static final Duration KEEP = Duration.ofSeconds(60);
    /** The shortest life of a meta hash after a publish (a channel without history). */
    static final Duration META_FLOOR = Duration.ofSeconds(5);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    private static final String PUB_PREFIX = "squall:p:";
    /** How often the subscribed channels' positions are checked against Redis. */
    static final Duration CHECK = Duration.ofSeconds(3);
    static final int STRIPES = 4;
    static final int MAX_QUEUED = 10_000;
    /** The longest gap filled from the stream; a longer one resets the channel's subscribers. */
    static final int MAX_FILL = 10_000;

    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> commands;
    private final StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private final Script publish = Script.load("publish.lua");
    private final Script history = Script.load("history.lua");
    private final Script keep = Script.load("keep.lua");
    private final List<Handler> handlers = new CopyOnWriteArrayList<>();
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, Track> tracks = new ConcurrentHashMap<>();
    private final ExecutorService[] stripes = new ExecutorService[STRIPES];
    private final RedisPresence presence;
    private final ScheduledFuture<?> refreshing;
    private final ScheduledFuture<?> checking;
    private final Duration keepFor;
    private final Duration metaFloor;
    private volatile boolean closed;

    /**
     * Connects to Redis at {@code uri} ({@code redis://host:port}) and keeps the subscribed channels' streams
     * alive on {@code scheduler}.
     *
     * @throws Unreachable when Redis cannot be reached
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
        this(uri, scheduler, keepFor, metaFloor, check, RedisPresence.Timing.DEFAULT);
    }

    /** With presence counts shared, kept and flushed as {@code timing} says, for tests of presence. */
    RedisBroker(String uri, ScheduledExecutorService scheduler, RedisPresence.Timing timing) {
        this(uri, scheduler, KEEP, META_FLOOR, CHECK, timing);
    }

    private RedisBroker(String uri, ScheduledExecutorService scheduler, Duration keepFor, Duration metaFloor, Duration check,
                        RedisPresence.Timing timing) {
        this.keepFor = keepFor;
        this.metaFloor = metaFloor;
        this.client = RedisClient.create(RedisURI.create(uri));
        client.setOptions(ClientOptions.builder()
                // Nothing queues without bound while Redis is away: a publish then fails at once.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                .build());
        try {
            this.commands = client.connect(ByteArrayCodec.INSTANCE);
            this.pubsub = client.connectPubSub(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            throw new Unreachable("Could not reach Redis at " + shown(uri) + ": " + root.getMessage(), String.valueOf(root.getMessage()), e);
        }
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                received(channel, message);
            }
        });
        for (int i = 0; i < STRIPES; i++) {
            String name = "squall-redis-sequence-" + i;
            stripes[i] = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, name);
                thread.setDaemon(true);
                return thread;
            });
        }
        this.presence = new RedisPresence(commands, handlers, scheduler, timing);
        client.addListener(presence.reconnects());
        long every = Math.max(1, keepFor.toMillis() / 3);
        this.refreshing = scheduler.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
        long checkEvery = Math.max(1, check.toMillis());
        this.checking = scheduler.scheduleWithFixedDelay(this::check, checkEvery, checkEvery, TimeUnit.MILLISECONDS);
    }

    @Override
    public void register(Handler handler) {
        handlers.add(handler);
    }

    @Override
    public void subscribe(String channel) {
        if (!subscribed.add(channel)) return;
        Track track = new Track(channel);
        tracks.put(channel, track);
        try {
            run(keep, keys(channel), newEpoch(), number(keepFor.toMillis()));
            // Returns once Redis has confirmed: whatever is published from then on reaches this node.
            pubsub.sync().subscribe(bytes(PUB_PREFIX + channel));
            // Read after the SUBSCRIBE: anything at or before it was published before, nothing after it is missed.
            StreamPosition start = read(channel, "since", Long.MAX_VALUE, 0).position();
            stripeOf(channel).execute(() -> begin(track, start));
        } catch (RuntimeException e) {
            subscribed.remove(channel);
            tracks.remove(channel, track);
            throw e;
        }
    }

    @Override
    public void unsubscribe(String channel) {
        if (!subscribed.remove(channel)) return;
        pubsub.sync().unsubscribe(bytes(PUB_PREFIX + channel));
        // What Redis sent before the UNSUBSCRIBE reply is queued on the stripe by now: delivered, then the track goes.
        Track track = tracks.get(channel);
        if (track != null) stripeOf(channel).execute(() -> {
            track.active = false;
            tracks.remove(channel, track);
        });
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
        List<Object> result = run(publish, keys, bytes(PUB_PREFIX + channel), new byte[]{Envelope.kindOf(message)},
                payload, number(options.historySize()), number(millis(options.historyTtl())), number(window),
                newEpoch(), number(metaFloor.toMillis()));
        StreamPosition position = new StreamPosition((Long) result.get(0), text(result.get(1)));
        boolean duplicate = (Long) result.get(2) == 1;
        return new PublishResult(position, duplicate ? 0 : PublishResult.NOT_KNOWN, duplicate);
    }

    /** See {@link RedisPresence}: this node's live count plus the other nodes' unexpired shares. */
    @Override
    public int subscribers(String channel) {
        return presence.subscribers(channel);
    }

    @Override
    public void counted(String channel) {
        presence.counted(channel);
    }

    @Override
    public void announce(String channel, boolean joined, String client) {
        presence.announce(channel, joined, client);
    }

    @Override
    public History history(String channel, long since, int limit) {
        if (since == Long.MAX_VALUE) return read(channel, "since", Long.MAX_VALUE, 0);
        return read(channel, "since", Math.max(since, 0) + 1, limit);
    }

    @Override
    public History latest(String channel, int limit) {
        return read(channel, "latest", 0, limit);
    }

    private History read(String channel, String mode, long from, int limit) {
        List<Object> result = run(history, keys(channel), bytes(mode), number(from), number(Math.max(limit, 0)));
        if (result.isEmpty()) return new History(StreamPosition.NONE, List.of());
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
            // Redis lost the stream: a new epoch, whose earlier offsets this node never had.
            reset(track, new StreamPosition(publication.offset() - 1, publication.epoch()));
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
            reset(track, new StreamPosition(offset, epoch));
        } else if (seen.offset() > track.last) {
            fill(track, seen.offset(), epoch);
        }
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
        if (closed || tracks.isEmpty()) return;
        try {
            RedisAsyncCommands<byte[], byte[]> async = commands.async();
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
        if (closed || subscribed.isEmpty()) return;
        try {
            RedisAsyncCommands<byte[], byte[]> async = commands.async();
            async.scriptLoad(keep.source());                   // after a Redis restart the script is gone
            RedisFuture<Object> last = null;
            for (String channel : subscribed) {
                last = async.evalsha(keep.sha(), ScriptOutputType.MULTI, keys(channel), newEpoch(), number(keepFor.toMillis()));
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
     * Runs a script by its SHA, loading it first when Redis does not have it (a restart, a flush).
     *
     * @throws Unavailable when Redis is not connected or did not answer in time
     */
    private <T> T run(Script script, byte[][] keys, byte[]... args) {
        try {
            try {
                return commands.sync().evalsha(script.sha(), ScriptOutputType.MULTI, keys, args);
            } catch (RedisNoScriptException missing) {
                commands.sync().scriptLoad(script.source());
                return commands.sync().evalsha(script.sha(), ScriptOutputType.MULTI, keys, args);
            }
        } catch (RedisCommandExecutionException answered) {
            throw answered;                                   // Redis answered with an error: a bug, not a fault
        } catch (RedisException e) {
            // Rejected while disconnected (REJECT_COMMANDS), or timed out: the caller may retry later.
            throw new Unavailable("Redis is unavailable: " + e.getMessage(), e);
        }
    }

    /** The URI fit for a log line or an error: a password in it is shown as {@code ***}. */
    public static String shown(String uri) {
        int scheme = uri.indexOf("://");
        int at = uri.indexOf('@', Math.max(scheme, 0));
        if (scheme < 0 || at < 0) return uri;
        int slash = uri.indexOf('/', scheme + 3);
        if (slash >= 0 && slash < at) return uri;             // an '@' after the host is not a password's
        String userInfo = uri.substring(scheme + 3, at);
        int colon = userInfo.indexOf(':');
        String user = colon < 0 ? "" : userInfo.substring(0, colon);
        return uri.substring(0, scheme + 3) + user + ":***" + uri.substring(at);
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
    public boolean connected() {
        return !closed && commands.isOpen() && pubsub.isOpen();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        presence.close();
        refreshing.cancel(false);
        checking.cancel(false);
        handlers.clear();
        for (ExecutorService stripe : stripes) stripe.shutdownNow();
        try {
            pubsub.close();
            commands.close();
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Redis could not be reached when the broker was made; the message says where and why. */
    public static final class Unreachable extends IllegalStateException {
        private final String reason;

        /** @param reason why, in the network's words ({@code Connection refused: /127.0.0.1:6379}) */
        public Unreachable(String message, String reason, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** A Lua script of this package, and its SHA-1 (what EVALSHA names it by). */
    record Script(String sha, byte[] source) {

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
