package dev.squall.internal.broker;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The embedded default: keeps each channel's stream in this process and delivers each publish to its handlers
 * synchronously, on the publishing thread. Its streams live as long as the process: a restart starts every
 * channel on a new epoch.
 *
 * <p>A channel's publishes are sequenced by a lock striped by channel name (as Centrifuge's memory broker
 * does): publishes to one channel queue up behind each other for the few microseconds it takes to number the
 * publication, append it and let the hub queue it to that channel's connections, while other channels go on in
 * parallel. Striping keeps the number of locks fixed however many channels come and go. The same lock guards
 * the channel's stream, so a history read sees a position and publications that belong together.
 *
 * <p>Presence: this process is the only node, so {@link #presence} is what the handlers count and hold, and
 * {@link #announce} and {@link #disconnect} have no other node to tell.
 *
 * <p>Memory: a channel costs its stream while it is subscribed or holds history or idempotency keys, and for
 * {@link #KEEP} after it was last subscribed, unsubscribed or first read (a read of a channel with no stream makes
 * one, so every position it answers has an epoch a client can offer back, and a client that reconnects within a
 * minute to a quiet channel is recovered); nothing once it has none of them: a sweep (every {@code sweepEvery} on
 * the given scheduler) drops expired publications and keys, and forgets the streams left empty. Idempotency keys live exactly their window, never less (a retry
 * that found its key forgotten would be published twice), so their number is bounded instead: past
 * {@link #MAX_IDEMPOTENCY_KEYS} live keys on this node, a publish with a new key is refused
 * ({@link TooManyIdempotencyKeys}) until older ones expire; publishes without a key go on.
 */
public final class InMemoryBroker implements Broker {

    private static final Logger log = LoggerFactory.getLogger(InMemoryBroker.class);
    private static final int STRIPES = 64;                    // a power of two
    /** How long a stream is kept after it was last subscribed or unsubscribed, or made by a read: Redis's meta life. */
    static final java.time.Duration KEEP = java.time.Duration.ofSeconds(60);

    /** Live idempotency keys this node keeps, over all channels (at most about 40 MB with 256-character keys). */
    public static final int MAX_IDEMPOTENCY_KEYS = 100_000;

    private final List<Handler> handlers = new CopyOnWriteArrayList<>();
    private final Object[] sequencers = new Object[STRIPES];
    private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final int maxKeys;
    private final AtomicInteger liveKeys = new AtomicInteger();      // live idempotency keys over all channels
    private final @Nullable ScheduledFuture<?> sweeping;
    private volatile boolean closed;

    /** A broker whose expired history is only dropped when it is read or published over (tests, tools). */
    public InMemoryBroker() {
        this(System::nanoTime, null, java.time.Duration.ZERO, MAX_IDEMPOTENCY_KEYS);
    }

    /** A broker that sweeps expired history and forgotten channels every {@code sweepEvery} on {@code scheduler}. */
    public InMemoryBroker(ScheduledExecutorService scheduler, java.time.Duration sweepEvery) {
        this(System::nanoTime, scheduler, sweepEvery, MAX_IDEMPOTENCY_KEYS);
    }

    /** With its own clock, for tests of expiry; {@link #sweep()} is then called by the test. */
    InMemoryBroker(LongSupplier nanoTime) {
        this(nanoTime, null, java.time.Duration.ZERO, MAX_IDEMPOTENCY_KEYS);
    }

    /** With its own clock and another bound on live idempotency keys, for tests of that bound. */
    InMemoryBroker(LongSupplier nanoTime, int maxKeys) {
        this(nanoTime, null, java.time.Duration.ZERO, maxKeys);
    }

    private InMemoryBroker(LongSupplier nanoTime, @Nullable ScheduledExecutorService scheduler, java.time.Duration sweepEvery,
                           int maxKeys) {
        this.nanoTime = nanoTime;
        this.maxKeys = maxKeys;
        for (int i = 0; i < STRIPES; i++) sequencers[i] = new Object();
        long every = sweepEvery.toMillis();
        this.sweeping = scheduler == null ? null : scheduler.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void register(Handler handler) {
        handlers.add(handler);
    }

    @Override
    public void subscribe(String channel) {
        long now = nanoTime.getAsLong();
        synchronized (sequencerOf(channel)) {
            Stream stream = streams.computeIfAbsent(channel, c -> new Stream(now));
            stream.subscribed = true;
            stream.keep(now);
        }
    }

    @Override
    public void unsubscribe(String channel) {
        synchronized (sequencerOf(channel)) {
            Stream stream = streams.get(channel);
            if (stream == null) return;
            stream.subscribed = false;
            stream.keep(nanoTime.getAsLong());
        }
    }

    @Override
    public PublishResult publish(String channel, Message message, PublishOptions options) {
        if (closed) throw new IllegalStateException("the broker is closed");
        long now = nanoTime.getAsLong();
        synchronized (sequencerOf(channel)) {
            Stream stream = streams.computeIfAbsent(channel, c -> new Stream(now));
            liveKeys.addAndGet(-stream.expire(now));
            String key = options.idempotencyKey();
            boolean remember = key != null && !options.idempotencyWindow().isZero();
            if (key != null) {
                Long first = stream.idempotent(key);
                if (first != null) return new PublishResult(new StreamPosition(first, stream.epoch), 0, true);
                if (remember && liveKeys.get() >= maxKeys) {
                    throw new TooManyIdempotencyKeys("this node already keeps " + maxKeys + " idempotency keys within "
                            + "their window, the most it holds: nothing was published; retry in a few seconds, as "
                            + "older keys expire, or publish without an idempotency key");
                }
            }
            Publication publication = new Publication(++stream.offset, message, stream.epoch);
            if (options.historySize() > 0 && !options.historyTtl().isZero()) {
                stream.append(publication, now + options.historyTtl().toNanos(), options.historySize());
            }
            if (remember && key != null) {
                if (stream.remember(key, publication.offset(), now + options.idempotencyWindow().toNanos())) liveKeys.incrementAndGet();
            }
            StreamPosition position = new StreamPosition(publication.offset(), stream.epoch);
            int delivered = stream.subscribed ? deliver(channel, publication) : 0;
            forgetIfEmpty(channel, stream, now);
            return new PublishResult(position, delivered, false);
        }
    }

    private int deliver(String channel, Publication publication) {
        int delivered = 0;
        for (Handler handler : handlers) {
            try {
                delivered += handler.deliver(channel, publication);
            } catch (RuntimeException e) {
                log.error("A handler failed to take a publication on channel '{}'; the others still got it", channel, e);
            }
        }
        return delivered;
    }

    /** This node is the only one: what the handlers count, and the users they hold. */
    @Override
    public Presence presence(String channel) {
        return new Presence(Handler.countHere(handlers, channel), Handler.usersHere(handlers, channel).size());
    }

    @Override
    public History history(String channel, long since, int limit) {
        synchronized (sequencerOf(channel)) {
            Stream stream = current(channel);
            List<Publication> after = new ArrayList<>();
            for (Entry entry : stream.history) {
                if (after.size() >= limit) break;
                if (entry.publication.offset() > since) after.add(entry.publication);
            }
            return new History(stream.position(), after);
        }
    }

    @Override
    public History latest(String channel, int limit) {
        synchronized (sequencerOf(channel)) {
            Stream stream = current(channel);
            List<Publication> newest = new ArrayList<>();
            Iterator<Entry> fromNewest = stream.history.descendingIterator();
            while (fromNewest.hasNext() && newest.size() < limit) newest.add(0, fromNewest.next().publication);
            return new History(stream.position(), newest);
        }
    }

    /**
     * The channel's stream with what has expired dropped; a channel without one gets a new one, kept for
     * {@link #KEEP}, so the position a read answers has an epoch that holds. Under its sequencer.
     */
    private Stream current(String channel) {
        long now = nanoTime.getAsLong();
        Stream stream = streams.get(channel);
        if (stream == null || forgetIfEmpty(channel, stream, now)) {
            stream = new Stream(now);
            stream.keep(now);
            streams.put(channel, stream);
        }
        liveKeys.addAndGet(-stream.expire(now));
        return stream;
    }

    /** Drops expired publications and keys, and forgets the channels left with nothing. */
    void sweep() {
        long now = nanoTime.getAsLong();
        for (Map.Entry<String, Stream> each : streams.entrySet()) {
            synchronized (sequencerOf(each.getKey())) {
                Stream stream = streams.get(each.getKey());
                if (stream != null) {
                    liveKeys.addAndGet(-stream.expire(now));
                    forgetIfEmpty(each.getKey(), stream, now);
                }
            }
        }
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            // A throw would cancel the periodic sweep for good.
            log.warn("Could not sweep expired history", e);
        }
    }

    /** Live idempotency keys on this node, over all channels (the {@code squall_idempotency_keys} gauge). */
    public int idempotencyKeys() {
        return liveKeys.get();
    }

    /** Channels with a stream right now (subscribed, or holding history or keys). */
    int channelCount() {
        return streams.size();
    }

    /** Forgets a stream that is neither subscribed, nor holds anything, nor is kept any longer; true if it did. */
    private boolean forgetIfEmpty(String channel, Stream stream, long now) {
        if (stream.subscribed || !stream.history.isEmpty() || !stream.keys().isEmpty() || stream.keptUntil - now > 0) return false;
        streams.remove(channel, stream);
        return true;
    }

    private Object sequencerOf(String channel) {
        int hash = channel.hashCode();
        return sequencers[(hash ^ (hash >>> 16)) & (STRIPES - 1)];
    }

    @Override
    public void close() {
        closed = true;
        if (sweeping != null) sweeping.cancel(false);
        handlers.clear();
        streams.clear();
        liveKeys.set(0);
    }

    private record Entry(Publication publication, long expiresAt) {
    }

    private record Key(long offset, long expiresAt) {
    }

    /** One channel's stream; every field is guarded by the channel's sequencer. */
    private static final class Stream {
        // 64 random bits, 16 hex digits: a restarted node or a forgotten channel never meets its old epoch again.
        final String epoch = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        // Sized for nothing: a channel without history (or with one message) should not carry 16 empty slots.
        final ArrayDeque<Entry> history = new ArrayDeque<>(0);
        // Insertion order is expiry order as long as every publish of the channel uses one window.
        // Made by the first publish with a key: most channels never see one.
        private @Nullable LinkedHashMap<String, Key> keys;
        long offset;
        boolean subscribed;
        long keptUntil;                                               // System.nanoTime() based

        Stream(long now) {
            keptUntil = now;
        }

        /** Kept for {@link #KEEP} from {@code now}, at least. */
        void keep(long now) {
            long until = now + KEEP.toNanos();
            if (until - keptUntil > 0) keptUntil = until;
        }

        Map<String, Key> keys() {
            return keys != null ? keys : Map.of();
        }

        StreamPosition position() {
            return new StreamPosition(offset, epoch);
        }

        void append(Publication publication, long expiresAt, int size) {
            history.addLast(new Entry(publication, expiresAt));
            while (history.size() > size) history.removeFirst();
        }

        /** Drops what has expired; returns how many idempotency keys went. */
        int expire(long now) {
            while (!history.isEmpty() && history.peekFirst().expiresAt - now <= 0) history.removeFirst();
            int gone = 0;
            Iterator<Key> oldest = keys().values().iterator();
            while (oldest.hasNext() && oldest.next().expiresAt - now <= 0) {
                oldest.remove();
                gone++;
            }
            return gone;
        }

        @Nullable Long idempotent(String key) {
            Key seen = keys().get(key);
            return seen == null ? null : seen.offset;
        }

        /** Keeps a key until {@code expiresAt}; true when it is a new one (not a live key's refresh). */
        boolean remember(String key, long offset, long expiresAt) {
            if (keys == null) keys = new LinkedHashMap<>();
            return keys.put(key, new Key(offset, expiresAt)) == null;
        }
    }
}
