package dev.squall.internal.hub;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.broker.Unavailable;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The connections open on this node, the channels they listen to, and the fan-out to them.
 *
 * <p>Cost: a publish to a channel visits that channel's local subscribers and nothing else. Each one it queues
 * to is put on its shard's ready queue (once, however many messages it has waiting), and each shard's writer
 * flushes exactly the connections on its queue, so a publish to one subscriber costs the same with ten or ten
 * thousand idle connections open. The broker holds the channel's sequencer only while the hub queues, never while
 * sockets are written: writer threads write, and the publishing thread helps once the broker has returned
 * ({@link #helpWrite()}).
 *
 * <p>Threading: {@link #deliver} is called by the broker, which never calls it concurrently for one channel
 * (see {@link dev.squall.internal.broker.Broker}): that sequencing, not a lock here, gives every subscriber of a
 * channel the same order. Sockets are written outside any lock, a share of the connections on each writer
 * thread; no thread ever waits for a client's socket. A connection whose queue overflows is closed as a slow
 * consumer, or loses its oldest messages, as {@link OutboundLimits#policy()} says.
 *
 * <p>Channels and the broker: the hub subscribes a channel at the broker when its first local subscriber arrives
 * and unsubscribes it when the last one has left, so a networked broker holds one subscription per channel per
 * node. Subscribing happens before the new subscriber reads history (recovery needs the live stream first);
 * unsubscribing happens later, on the {@code brokerChanges} executor, because the last subscriber may leave from
 * inside a delivery, where the broker holds the channel's sequencer (and not on the scheduler: a networked
 * broker's unsubscribe waits on Redis, which must not hold up the pings). Both go through {@link #syncBroker},
 * which makes the broker's subscription match the hub's channel, whatever order the two changes ran in.
 */
public final class Hub {

    private static final Logger log = LoggerFactory.getLogger(Hub.class);

    /** The channel plain {@code /ws} clients are on. No valid channel name is empty, so it is never confused. */
    public static final String DEFAULT_CHANNEL = "";

    private final ConcurrentHashMap<String, Connection> connections = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    private final ConcurrentHashMap<String, Set<Subscription>> channels = new ConcurrentHashMap<>();
    private final Set<String> brokerSubscribed = ConcurrentHashMap.newKeySet();
    // One lock per channel being synced with the broker, there only while a thread holds or waits for it: a lock
    // shared by several channels (striping) made a subscribe wait for another channel's Redis call, on another shard.
    private final ConcurrentHashMap<String, SyncLock> syncLocks = new ConcurrentHashMap<>();
    private final Broker broker;
    private final int maxReplay;
    private final OutboundLimits limits;
    private final Metrics metrics;
    private final ScheduledExecutorService scheduler;
    private final Shard[] shards;
    private final Predicate<String> presence;
    private final Executor brokerChanges;
    private final Set<String> unsubscribing = ConcurrentHashMap.newKeySet();
    private final int maxChannels;
    // The named channels in `channels`, changed only inside its compute functions, so exactly with them.
    private final java.util.concurrent.atomic.AtomicInteger namedChannels = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param scheduler runs delayed work such as dropping a slow consumer that ignores its close frame
     * @param broker    where channels are subscribed and history is read; the hub is one of its handlers
     * @param maxReplay the most publications one recovery replays; a longer gap is not recovered
     * @param writers   single-threaded executors, each of which writes the connections of one shard; the
     *                  publishing thread only queues, so a burst of publishes runs ahead of the writers and each
     *                  connection's waiting frames go out gathered into one write. Empty: the publishing thread
     *                  writes to every connection itself before {@link #deliver} returns (tests, tiny embeddings)
     */
    public Hub(OutboundLimits limits, Metrics metrics, ScheduledExecutorService scheduler, List<? extends Executor> writers,
               Broker broker, int maxReplay) {
        this(limits, metrics, scheduler, writers, broker, maxReplay, channel -> false);
    }

    /**
     * {@link #Hub(OutboundLimits, Metrics, ScheduledExecutorService, List, Broker, int)}, with join and leave
     * events on the channels {@code presence} accepts: whenever a connection subscribes to such a channel or leaves
     * it (unsubscribing, or disconnecting), its other subscribers whose {@link Framing} has such events are told,
     * and so are those on other nodes, through {@link Broker#announce} (they hear it from their broker's
     * {@link Broker.Handler#presence}). Each event visits the channel's subscribers, so it is opt-in; publishing
     * never looks at it.
     */
    public Hub(OutboundLimits limits, Metrics metrics, ScheduledExecutorService scheduler, List<? extends Executor> writers,
               Broker broker, int maxReplay, Predicate<String> presence) {
        this(limits, metrics, scheduler, writers, broker, maxReplay, presence, scheduler);
    }

    /**
     * {@link #Hub(OutboundLimits, Metrics, ScheduledExecutorService, List, Broker, int, Predicate)}, with the
     * broker's unsubscribes run on {@code brokerChanges} (a thread of their own on a node, so a slow Redis cannot
     * delay the heartbeat on the scheduler).
     */
    public Hub(OutboundLimits limits, Metrics metrics, ScheduledExecutorService scheduler, List<? extends Executor> writers,
               Broker broker, int maxReplay, Predicate<String> presence, Executor brokerChanges) {
        this(limits, metrics, scheduler, writers, broker, maxReplay, presence, brokerChanges, 0);
    }

    /**
     * {@link #Hub(OutboundLimits, Metrics, ScheduledExecutorService, List, Broker, int, Predicate, Executor)}, holding
     * at most {@code maxChannels} named channels (0: no limit): a client's subscribe that would add one more is
     * refused with {@link TooManyChannels}, while channels that have subscribers keep taking more. The broadcast
     * channel is not counted, and the app's own subscriptions ({@link #subscribeUnlimited}) are never refused.
     */
    public Hub(OutboundLimits limits, Metrics metrics, ScheduledExecutorService scheduler, List<? extends Executor> writers,
               Broker broker, int maxReplay, Predicate<String> presence, Executor brokerChanges, int maxChannels) {
        this.maxChannels = maxChannels;
        this.brokerChanges = brokerChanges;
        this.presence = presence;
        this.broker = broker;
        this.maxReplay = maxReplay;
        this.limits = limits;
        this.metrics = metrics;
        this.scheduler = scheduler;
        this.shards = new Shard[Math.max(1, writers.size())];
        for (int i = 0; i < shards.length; i++) shards[i] = new Shard(i, writers.isEmpty() ? null : writers.get(i), shards);
        metrics.watch(connections::size, this::queuedBytes, namedChannels::get);
        broker.register(new Broker.Handler() {
            @Override
            public int deliver(String channel, Publication publication) {
                return Hub.this.deliver(channel, publication);
            }

            @Override
            public void reset(String channel, StreamPosition position) {
                Hub.this.reset(channel, position);
            }

            @Override
            public int subscribers(String channel) {
                return Hub.this.subscribers(channel);
            }

            @Override
            public Set<String> users(String channel) {
                return Hub.this.users(channel);
            }

            @Override
            public void disconnect(String user) {
                Hub.this.disconnect(user);
            }

            @Override
            public void presence(String channel, boolean joined, Member who) {
                // Another node's subscriber: every live one here hears it, as they hear a local one's.
                if (!Hub.this.presence.test(channel)) return;
                tell(channel, Subscription::isLive, framing -> joined ? framing.joined(channel, who) : framing.left(channel, who), false);
            }
        });
    }

    /**
     * Adds a newly opened connection (Tornado: {@code open}), on no channel yet. What is sent to it is queued, and
     * written from {@link #opened} on: subscribe it first, so what was sent before cannot be overtaken by a publish,
     * and a publish that arrives while the first frame is being written still reaches it.
     */
    public Connection connect(Wire wire, String id) {
        return connect(wire, id, Framing.PLAIN);
    }

    /** {@link #connect(Wire, String)} for a connection whose protocol frames publications as {@code framing} says. */
    public Connection connect(Wire wire, String id, Framing framing) {
        Connection connection = new Connection(id, wire, framing, limits, this, shards[Math.floorMod(id.hashCode(), shards.length)]);
        connections.put(id, connection);
        metrics.connected();
        return connection;
    }

    /** {@link #connect}, then {@code greeting}, then {@link #subscribe} to {@code channel}, then {@link #opened}. */
    Connection join(Wire wire, String id, String channel, Message greeting) {
        Connection connection = connect(wire, id);
        sendTo(connection, greeting);
        subscribe(connection, channel);
        opened(connection);
        return connection;
    }

    /**
     * The connection's open handler has run and it is subscribed: what it was sent goes out now, and it counts
     * among the {@link #openCount open} connections, each of which gets the next publish to its channels.
     */
    public void opened(Connection connection) {
        connection.opened();
        if (!connection.hasLeft() && connection.counted.compareAndSet(false, true)) {
            open.incrementAndGet();
            // It may have left between the check and the count; leaving uncounts only what it sees counted.
            if (connection.hasLeft() && connection.counted.compareAndSet(true, false)) open.decrementAndGet();
        }
        connection.flush();
    }

    /**
     * As {@link #opened}, for a connection that is no client's (a server-side subscriber): what it was sent goes out
     * now, and it is not counted among the {@link #openCount open} ones.
     */
    public void openedUncounted(Connection connection) {
        connection.opened();
        connection.flush();
    }

    /** Connections past their open handler and not yet gone: what a server-side caller can publish to. */
    public int openCount() {
        return open.get();
    }

    /** The connection with this id, or null once it has left. */
    public @Nullable Connection find(String id) {
        return connections.get(id);
    }

    /** Removes a connection (Tornado: {@code on_close}); counted once, however many paths report the close. */
    public void leave(String id, int closeCode) {
        Connection connection = connections.remove(id);
        if (connection != null) {
            forget(connection);
            metrics.disconnected(closeCode);
        }
    }

    /**
     * Adds a connection to a channel's subscribers from the next publication on (the tutorial's {@code /ws}); a
     * channel exists while it has any. A connection that has already left is not added.
     */
    public void subscribe(Connection connection, String channel) {
        subscribe(connection, channel, Recovery.LIVE, subscribed -> null);
    }

    /**
     * Adds a connection to a channel, starting where {@code recovery} says: queues {@code firstFrame}'s message (a
     * notice of how it started, or null for none), then any replay, then the live stream, with no gap and no
     * duplicate at the switch-over. Returns null when the connection has left or is already on the channel.
     *
     * @throws dev.squall.internal.broker.Unavailable when the broker cannot read the channel's stream now (Redis lost); the
     *         connection is then not on the channel
     */
    public @Nullable Subscribed subscribe(Connection connection, String channel, Recovery recovery,
                                          Function<Subscribed, @Nullable Message> firstFrame) {
        return subscribe(connection, channel, recovery, firstFrame, true);
    }

    /**
     * {@link #subscribe(Connection, String, Recovery, Function)} for the app's own subscriber, which the channel limit
     * never refuses (its channel still counts): the app decided to listen there, no client did.
     */
    public @Nullable Subscribed subscribeUnlimited(Connection connection, String channel, Recovery recovery,
                                                   Function<Subscribed, @Nullable Message> firstFrame) {
        return subscribe(connection, channel, recovery, firstFrame, false);
    }

    private @Nullable Subscribed subscribe(Connection connection, String channel, Recovery recovery,
                                           Function<Subscribed, @Nullable Message> firstFrame, boolean limited) {
        Subscription subscription = new Subscription(connection, channel, recovery.kind() == Recovery.Kind.LIVE);
        boolean added = connection.subscribed(subscription, () -> channels.compute(channel, (name, subscribers) -> {
            // Thrown out of compute, the refusal leaves the map, and the connection's subscriptions, as they were.
            if (subscribers == null && !name.equals(DEFAULT_CHANNEL)) countNewChannel(limited);
            // Sized for one: most channels of a many-channel node have a single subscriber (bench: ChannelMemory).
            Set<Subscription> set = subscribers != null ? subscribers : ConcurrentHashMap.newKeySet(1);
            set.add(subscription);
            return set;
        }));
        if (!added) return null;
        try {
            return start(connection, channel, recovery, firstFrame, subscription);
        } catch (RuntimeException e) {
            // The broker failed (Redis lost): a subscription that never went live would buffer without bound.
            unsubscribe(connection, channel);
            throw e;
        }
    }

    /** One more named channel, unless a client's subscribe would pass {@code maxChannels}. */
    private void countNewChannel(boolean limited) {
        int now;
        do {
            now = namedChannels.get();
            if (limited && maxChannels > 0 && now >= maxChannels) {
                metrics.limited(Metrics.Limit.CHANNELS);
                throw new TooManyChannels(maxChannels);
            }
        } while (!namedChannels.compareAndSet(now, now + 1));
    }

    /** Whether a client may subscribe to {@code channel} now: it has subscribers already, or there is room for one more. */
    public boolean hasRoomFor(String channel) {
        return maxChannels == 0 || namedChannels.get() < maxChannels || channels.containsKey(channel);
    }

    private @Nullable Subscribed start(Connection connection, String channel, Recovery recovery,
                                       Function<Subscribed, @Nullable Message> firstFrame, Subscription subscription) {
        syncBroker(channel);
        counted(channel, subscription.user);
        // Leaving reads the subscriptions after marking the connection: one of the two sees the other.
        if (connection.hasLeft()) {
            unsubscribe(connection, channel);
            return null;
        }
        boolean live = recovery.kind() == Recovery.Kind.LIVE;
        if (presence.test(channel)) announce(channel, connection, true);
        if (live) return new Subscribed(channel, StreamPosition.NONE, 0, null);
        // A position read before the broker delivers the channel could be one it never delivers after: refused
        // like a failed read, and the client tries again (a plain /ws client is told no position: taken as it is).
        if (!broker.delivering(channel)) {
            throw new dev.squall.internal.broker.Unavailable("the channel's subscription is not yet confirmed by Redis");
        }

        Subscribed started;
        List<Publication> replay;
        switch (recovery.kind()) {
            case LATEST -> {
                History newest = broker.latest(channel, 1);
                replay = newest.publications();
                long after = replay.isEmpty() ? newest.position().offset() : replay.get(0).offset() - 1;
                started = new Subscribed(channel, newest.position(), after, null);
            }
            case SINCE -> {
                History missed = broker.history(channel, recovery.offset(), maxReplay + 1);
                boolean recovered = covers(recovery, missed) && fitsQueue(connection.framing(), channel, missed.publications());
                metrics.recovery(recovered);
                replay = recovered ? missed.publications() : List.of();
                long after = recovered ? recovery.offset() : missed.position().offset();
                started = new Subscribed(channel, missed.position(), after, recovered);
            }
            default -> {
                History now = broker.history(channel, Long.MAX_VALUE, 0);
                replay = List.of();
                started = new Subscribed(channel, now.position(), now.position().offset(), null);
            }
        }
        Message first = firstFrame.apply(started);
        if (first != null && connection.enqueueControl(first)) metrics.sent(1, first.size());
        Subscription.Queued queued = subscription.goLive(replay, started.after(), started.position());
        metrics.sentTotal(queued.messages(), queued.bytes());
        connection.flush();
        return started;
    }

    /** Never partial: the epoch is the client's, the offset is not ahead, and the gap is within history and the bound. */
    private boolean covers(Recovery recovery, History missed) {
        StreamPosition position = missed.position();
        if (recovery.epoch() != null && !recovery.epoch().equals(position.epoch())) return false;
        long gap = position.offset() - recovery.offset();
        if (gap < 0 || gap > maxReplay) return false;
        return gap == 0 || missed.firstOffset() == recovery.offset() + 1 && missed.publications().size() == gap;
    }

    /**
     * Whether a replay, framed as the connection gets it, leaves half its queue for the live stream: a replay the
     * queue cannot hold would close the reconnecting client as a slow consumer, and it would reconnect into the
     * same replay (counting the messages as published, JSON escaping or SSE's {@code data:} lines could make an
     * accepted replay several times too large).
     */
    private boolean fitsQueue(Framing framing, String channel, List<Publication> replay) {
        long bytes = 0;
        for (Publication publication : replay) bytes += framing.frameBound(channel, publication.message());
        return replay.size() <= limits.maxMessages() / 2 && bytes <= limits.maxBytes() / 2;
    }

    /**
     * Takes a connection off a channel. Once this returns, nothing more of the channel is queued to the connection
     * (a delivery that had already taken the channel's subscribers finds the subscription cancelled), so a reply
     * queued after it comes after the channel's last frame.
     */
    public void unsubscribe(Connection connection, String channel) {
        Subscription subscription = connection.unsubscribed(channel);
        if (subscription == null) return;
        subscription.cancel();
        // Atomic with subscribe: the last one out removes the channel, and nobody joins a set being dropped.
        boolean emptied = channels.computeIfPresent(channel, (name, subscribers) -> {
            subscribers.remove(subscription);
            if (!subscribers.isEmpty()) return subscribers;
            if (!name.equals(DEFAULT_CHANNEL)) namedChannels.decrementAndGet();     // its place is free at once
            return null;
        }) == null;
        counted(channel, subscription.user);
        if (presence.test(channel)) {
            if (emptied) broker.announce(channel, false, Member.of(connection.id(), connection.identity()));
            else announce(channel, connection, false);
        }
        if (emptied) {
            // One waiting change per channel, however often it empties while Redis is slow: the queue stays bounded.
            if (!unsubscribing.add(channel)) return;
            try {
                brokerChanges.execute(() -> {
                    unsubscribing.remove(channel);
                    try {
                        syncBroker(channel);
                    } catch (RuntimeException logged) {
                        // syncBroker has logged it; the broker drops the channel's subscription with its connection.
                    }
                });
            } catch (RejectedExecutionException stopping) {
                // The node is stopping: the broker goes with it.
            }
        }
    }

    /** Subscribes or unsubscribes the channel at the broker so that it matches whether it has local subscribers. */
    void syncBroker(String channel) {
        SyncLock lock = syncLocks.compute(channel, (name, held) -> {
            SyncLock taken = held != null ? held : new SyncLock();
            taken.users++;
            return taken;
        });
        try {
            syncBrokerHolding(lock, channel);
        } finally {
            syncLocks.compute(channel, (name, held) -> --held.users == 0 ? null : held);
        }
    }

    private void syncBrokerHolding(SyncLock lock, String channel) {
        synchronized (lock) {
            boolean wanted = channels.containsKey(channel);
            try {
                if (wanted && brokerSubscribed.add(channel)) {
                    broker.subscribe(channel);
                } else if (!wanted && brokerSubscribed.remove(channel)) {
                    broker.unsubscribe(channel);
                }
            } catch (RuntimeException e) {
                // Either way the channel counts as not subscribed: the next first subscriber subscribes it again
                // (subscribing twice is one subscription). Counting a failed unsubscribe as still subscribed made
                // that subscriber skip subscribe, so a broker that had let the channel go never took it back.
                brokerSubscribed.remove(channel);
                if (e instanceof dev.squall.internal.broker.Unavailable || Thread.currentThread().isInterrupted()) {
                    // Redis is lost (the broker has said so once), or the node is stopping: no stack trace.
                    log.debug("Could not {} channel '{}' at the broker: {}", wanted ? "subscribe" : "unsubscribe", channel, e.toString());
                } else {
                    log.warn("Could not {} channel '{}' at the broker", wanted ? "subscribe" : "unsubscribe", channel, e);
                }
                throw e;
            }
        }
    }

    /** A channel's broker lock; {@code users} counts who holds or waits for it, changed only inside compute. */
    private static final class SyncLock {
        int users;
    }

    /**
     * Queues a publication to every local subscriber of {@code channel} (Tornado: {@code write_message} in a
     * loop, without the loop's stalls) and returns how many of them accepted it. Called by the broker, one call
     * at a time per channel.
     */
    int deliver(String channel, Publication publication) {
        Set<Subscription> subscribers = channels.get(channel);
        if (subscribers == null) return 0;
        Message plain = publication.message();
        @Nullable Frames frames = null;     // only when a subscriber speaks another protocol: plain channels allocate nothing
        int delivered = 0;
        long bytes = 0;
        long touched = 0;                   // shards given work; with more than 64 some share a bit: extra wake-ups only
        int maxWaiting = limits.maxMessages();
        for (Subscription subscription : subscribers) {
            Connection connection = subscription.connection;
            Framing framing = connection.framing();
            Message frame;
            if (framing == Framing.PLAIN) {
                frame = plain;
            } else {
                if (frames == null) frames = new Frames(each -> each.frame(channel, publication));
                frame = Objects.requireNonNull(frames.in(framing), "Framing.frame never returns null");
            }
            if (subscription.offer(publication, frame, maxWaiting)) {
                delivered++;
                bytes += frame.size();
            }
            // Refused messages too: the flush is what closes a connection whose queue overflowed.
            Shard shard = connection.shard();
            shard.ready(connection);
            if (connection.backedUp()) shard.fellBehind();
            touched |= 1L << (shard.index() & 63);
        }
        for (int i = 0; i < shards.length; i++) {
            if ((touched & (1L << (i & 63))) != 0) shards[i].wake();
        }
        metrics.sentTotal(delivered, bytes);
        return delivered;
    }

    /**
     * The broker lost publications of {@code channel} up to {@code position}: each live subscriber is sent its
     * protocol's not-recovered notice ({@link Framing#reset}), made once per framing; what follows continues after
     * {@code position}. A subscriber still recovering keeps the reset among its waiting publications and is told
     * after its replay ({@link Subscription#goLive}), unless the history it read is already past it.
     */
    void reset(String channel, StreamPosition position) {
        Subscribed restarted = new Subscribed(channel, position, position.offset(), false);
        // A subscriber still recovering keeps it in its place, after its replay; the live ones are told now.
        tell(channel, subscription -> !subscription.offerReset(position), framing -> framing.reset(restarted), true);
    }

    /**
     * The broker shares this node's count of a named channel, and whether {@code user} is still among its users,
     * with the other nodes (the broadcast one is never asked).
     */
    private void counted(String channel, String user) {
        if (!channel.equals(DEFAULT_CHANNEL)) broker.counted(channel, user);
    }

    /**
     * Tells the channel's other subscribers that {@code who} joined or left it, in the framings that have such an
     * event, each event made once per framing, and the broker the same for the other nodes' subscribers. Subscribers
     * still recovering are left out: nothing may go before their first frame. Queued and handed to the writers like
     * a publication: no socket is written here.
     */
    private void announce(String channel, Connection who, boolean joined) {
        Member member = Member.of(who.id(), who.identity());
        tell(channel, subscription -> subscription.connection != who && subscription.isLive(),
                framing -> joined ? framing.joined(channel, member) : framing.left(channel, member), false);
        broker.announce(channel, joined, member);
    }

    /**
     * Queues to every subscriber of {@code channel} that {@code takes} accepts the frame {@code make} gives its
     * framing (made once per framing; null: that protocol has no such frame), and wakes their writers once each.
     * {@code control}: a frame that is never dropped (a reset); else an event drop-oldest may drop (join, leave).
     */
    private void tell(String channel, Predicate<Subscription> takes, Function<Framing, @Nullable Message> make, boolean control) {
        Set<Subscription> subscribers = channels.get(channel);
        if (subscribers == null) return;
        Frames frames = new Frames(make);
        long touched = 0;
        for (Subscription subscription : subscribers) {
            Connection connection = subscription.connection;
            if (!takes.test(subscription)) continue;
            Message frame = frames.in(connection.framing());
            if (frame == null) continue;
            if (subscription.tell(frame, control)) metrics.sent(1, frame.size());
            Shard shard = connection.shard();
            shard.ready(connection);
            touched |= 1L << (shard.index() & 63);
        }
        for (int i = 0; i < shards.length; i++) {
            if ((touched & (1L << (i & 63))) != 0) shards[i].wake();
        }
    }

    /** One frame in each framing the subscribers speak, made once for all of them (a handful of framings at most). */
    private static final class Frames {
        private final Function<Framing, @Nullable Message> make;
        private final Framing[] framings = new Framing[4];
        private final @Nullable Message[] made = new Message[4];

        Frames(Function<Framing, @Nullable Message> make) {
            this.make = make;
        }

        @Nullable Message in(Framing framing) {
            for (int i = 0; i < framings.length; i++) {
                if (framings[i] == framing) return made[i];
                if (framings[i] == null) {
                    framings[i] = framing;
                    return made[i] = make.apply(framing);
                }
            }
            return make.apply(framing);   // more protocols than slots: correct, just not shared
        }
    }

    /**
     * Lets the publishing thread write right after the broker has returned (outside its sequencer). Usually only to
     * shards whose writer has been woken and is not running yet: the thread is running anyway, and at a steady rate
     * it gets a share of the frames out before the woken writer is up (issue 7 measured the fixed-rate p99 without
     * any help). Once the writers run it returns, so a burst of publishes queues ahead of them and each
     * connection's frames go out gathered (issue 19). When the writers are far behind (a queue a quarter full),
     * it writes until they have caught up: publishers are then paced by the sockets, and a flood of publishes
     * cannot overflow the queues of clients that read.
     */
    public void helpWrite() {
        for (Shard shard : shards) shard.help();
    }

    /**
     * Sends to one connection through its bounded queue, flushing on the caller's thread: a reply has no order
     * to keep with publishes other than the order in which it is queued.
     */
    boolean sendTo(Connection connection, Message message) {
        boolean queued = connection.enqueueControl(message);
        connection.flush();
        if (queued) metrics.sent(1, message.size());
        return queued;
    }

    /**
     * Closes every connection with 1001 (going away) and waits until they have left or the deadline has passed;
     * returns how many were still open then. Jetty's own shutdown is no substitute: it first cuts the idle timeout
     * of every connection to a second, so one that has been quiet for longer is dropped without a close frame.
     */
    public int closeAll(java.time.Duration deadline) throws InterruptedException {
        for (Connection connection : connections.values()) connection.closeGoingAway();
        long end = System.nanoTime() + deadline.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < end) Thread.sleep(10);
        return connections.size();
    }

    /** Open connections right now. */
    public int size() {
        return connections.size();
    }

    /** Local subscribers of a channel right now. */
    public int subscribers(String channel) {
        Set<Subscription> subscribers = channels.get(channel);
        return subscribers == null ? 0 : subscribers.size();
    }

    /**
     * The distinct users among the local subscribers of a channel right now (anonymous ones are none). Gathered from
     * the subscriptions when asked, not kept: asked by a presence read or a networked broker's write (at most one a
     * second per changed channel), while keeping them would cost every identified subscription a map entry, and a
     * node of one-user channels (a private channel per user) a map per channel. A channel of anonymous subscribers
     * allocates nothing.
     */
    public Set<String> users(String channel) {
        Set<Subscription> subscribers = channels.get(channel);
        if (subscribers == null) return Set.of();
        Set<String> users = null;
        for (Subscription subscription : subscribers) {
            if (subscription.user.isEmpty()) continue;
            if (users == null) users = new java.util.HashSet<>();
            users.add(subscription.user);
        }
        return users == null ? Set.of() : users;
    }

    /** Every channel with local subscribers and how many, sorted by name (the broadcast channel left out). */
    public java.util.SortedMap<String, Integer> channelSubscribers() {
        java.util.TreeMap<String, Integer> counts = new java.util.TreeMap<>();
        channels.forEach((name, subscribers) -> {
            if (!name.equals(DEFAULT_CHANNEL)) counts.put(name, subscribers.size());
        });
        return counts;
    }

    /** Channels with at least one local subscriber. */
    int channelCount() {
        return channels.size();
    }

    /** The open connections, for periodic work such as heartbeats (weakly consistent: never throws). */
    public Collection<Connection> connections() {
        return connections.values();
    }

    /** Bytes queued but not yet written, over all connections; read when metrics are scraped. */
    public long queuedBytes() {
        long total = 0;
        for (Connection connection : connections.values()) total += connection.queuedBytes();
        return total;
    }

    /**
     * Closes every open connection of {@code user} with {@link Connection#FORCE_DISCONNECT}: each leaves at once, and is
     * cut after the close grace if its peer ignores the close frame. Returns how many it closed. Looks at every open
     * connection once (no index by user is kept: a revocation is rare, an index would cost every connection).
     */
    public int disconnect(String user) {
        if (user.isEmpty()) return 0;
        int closed = 0;
        for (Connection connection : connections.values()) {
            if (user.equals(connection.identity().user()) && connection.closeRevoked()) closed++;
        }
        return closed;
    }

    /** A connection whose user was disconnected: it leaves now, not when its peer answers the close. */
    void revoked(Connection connection) {
        if (connections.remove(connection.id()) != null) {
            forget(connection);
            metrics.disconnected(Connection.FORCE_DISCONNECT);
        }
    }

    void slowConsumer(Connection connection) {
        // Leave at once so publishes stop counting it, even before the peer sees the close frame.
        if (connections.remove(connection.id()) != null) {
            forget(connection);
            metrics.slowConsumer();
            metrics.disconnected(Connection.SLOW_CONSUMER);
        }
    }

    private void forget(Connection connection) {
        List<Subscription> subscriptions = connection.leave();
        if (connection.counted.compareAndSet(true, false)) open.decrementAndGet();
        for (Subscription subscription : subscriptions) unsubscribe(connection, subscription.channel);
    }

    void dropped(int messages) {
        if (messages > 0) metrics.dropped(messages);
    }

    void deadPeer() {
        metrics.deadPeer();
    }

    void stalledPeer() {
        metrics.stalledPeer();
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }
}
