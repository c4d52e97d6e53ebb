package dev.squall.internal.broker;

import java.util.Set;

/**
 * Carries published messages to the hubs that deliver them, and keeps each channel's stream: the seam between
 * "someone published to a channel" and "these sockets receive it". In-memory on a single node; a networked
 * broker (Redis) lets several nodes share one stream per channel, so offsets, epochs and history are global.
 *
 * <p>The broker is the channel's sequencer: it decides the one order of a channel's publications, numbers them,
 * and delivers them in that order, so the hub needs no lock of its own to give every subscriber the same order.
 *
 * <p>Contract, for every implementation (the shared suite {@code BrokerContract} checks it):
 * <ul>
 *   <li>Subscriptions: a broker delivers the publications of the channels it is {@link #subscribe subscribed} to,
 *       and only those, to every {@link #register registered} handler. The hub subscribes a channel when its first
 *       local subscriber arrives and unsubscribes when the last one leaves, so a networked broker holds one
 *       subscription per channel per node. Subscribing twice is one subscription; unsubscribing one that is not
 *       there does nothing.</li>
 *   <li>Streams: {@link #publish} assigns the channel's next offset (the first is 1) and appends the publication
 *       to the channel's history in one atomic step, and returns that position. Offsets of one epoch are
 *       contiguous and only grow. A channel keeps its stream (offset and epoch) while it is subscribed or holds
 *       history, and about a minute after it was last subscribed, unsubscribed or made by a read; once it has none
 *       of these it may be forgotten, and its next stream has a new epoch. A networked broker never continues an
 *       epoch its store may not have kept whole (a store restarted from a snapshot, a replica promoted): the
 *       channel gets a new epoch instead.</li>
 *   <li>History: at most {@link PublishOptions#historySize} publications, each for at most
 *       {@link PublishOptions#historyTtl}; {@link #history} returns those after an offset, oldest first, with the
 *       channel's position read in the same atomic step, so no publication falls between the two. A read of a
 *       channel with no stream makes one (offset 0, a new epoch): every position answered has an epoch.</li>
 *   <li>Order: each channel's publications reach every handler in offset order, the same for all handlers,
 *       concurrent publishes included; publishes that follow each other keep that order. Different channels have
 *       no order between them.</li>
 *   <li>Sequencing: {@link Handler#deliver} is never called concurrently for the same channel (calls for
 *       different channels may run at the same time), and each call happens-after the previous one for that
 *       channel.</li>
 *   <li>Delivery: at most once per handler; a channel subscribed when {@code publish} is called receives the
 *       publication (in-memory: before {@code publish} returns, and {@link PublishResult#delivered} counts the
 *       connections it reached; networked: after {@code publish} has returned, on every node subscribed to the
 *       channel, and {@code delivered} is {@link PublishResult#NOT_KNOWN}; a networked broker fills a gap in what it
 *       received from the channel's stream, and only when the stream no longer covers it calls
 *       {@link Handler#reset} instead). {@code subscribe} returns once the
 *       subscription is in place: every publication from then on is delivered, and {@link #delivering} is true
 *       (while a networked broker is not {@link #connected}, it returns at once, the subscription is made once the
 *       store is back, and {@code delivering} is false until then; see Faults).</li>
 *   <li>Idempotency: a publish whose {@link PublishOptions#idempotencyKey} was published to the same channel
 *       within its window publishes nothing, delivers nothing, and answers the first publish's position.</li>
 *   <li>Isolation: a handler that throws does not keep the publication from the others, and does not make
 *       {@code publish} fail; it counts as having delivered to nobody.</li>
 *   <li>Presence: {@link #presence} is a channel's subscriber count and distinct users over all nodes: this node's,
 *       which its handlers answer ({@link Handler#subscribers}, {@link Handler#users}) and which is always current,
 *       plus (networked) what each other live node last shared. A user on several nodes counts once. The hub calls
 *       {@link #counted} whenever its count of a channel changes, naming the user whose subscription came or went; a
 *       networked broker shares the count and the change in this node's users within about a second (changes
 *       coalesced, not one write per join: a subscribe costs the store no command of its own), shares every count
 *       again well within its expiry, and takes back a node's count and users once its last local subscriber has
 *       left or it closes; a node that dies without that drops out of the counts and users once its share expires
 *       (a minute). What a node shares is bounded by its own subscriptions: one count per channel, and each distinct
 *       user once per channel however many connections it has there.
 *       {@link #announce} tells the other nodes' handlers that a subscriber joined or left here
 *       ({@link Handler#presence}), never this node's (its hub has told its own subscribers): an unnumbered event
 *       on the channel's live stream, sequenced with its publications, not kept in history, not an offset, never
 *       a gap, and at most once (lost while the store is away; in memory there are no other nodes).</li>
 *   <li>Revocation: {@link #disconnect} tells every other node's handlers ({@link Handler#disconnect}) to close a
 *       user's connections; it returns once the store has taken the message (networked) and throws
 *       {@link Unavailable} when it cannot; this node's handlers are not told (the node closes its own first). At most
 *       once, like an announce: a node that is cut off from the store meanwhile does not hear it.</li>
 *   <li>Faults: while a networked broker cannot reach its store, {@code publish}, {@code history},
 *       {@code latest}, {@code presence} and {@code disconnect} throw {@link Unavailable} at once (nothing queues without bound, nothing is published
 *       and then lost), and {@link #connected} is false; {@code subscribe} and {@code unsubscribe} do not throw:
 *       subscribed channels stay subscribed, a channel subscribed meanwhile is kept, and once the store is back every
 *       one of them is subscribed again, its position read at once and its gap filled from the stream or
 *       {@link Handler#reset} (then {@code connected} is true again). A broker whose store cannot be reached when it
 *       is made is made anyway, in that state, and keeps trying. A broker over
 *       several stores (Redis shards, each channel in one) fails channel by channel: only the channels whose store
 *       is away throw, the others go on publishing and delivering, and {@link #connected} is false while any store
 *       is away.</li>
 *   <li>Closing: after {@link #close()}, {@code publish} throws {@link IllegalStateException} and nothing is
 *       delivered; {@code close} is idempotent.</li>
 *   <li>Threading: every method may be called from any thread; handlers are called on the publishing thread or
 *       on the broker's own threads, and must not block. A handler must not call {@code subscribe} or
 *       {@code unsubscribe} from inside {@code deliver} (a networked broker may hold a lock there).</li>
 * </ul>
 */
public interface Broker extends AutoCloseable {

    /**
     * What a node does with a publication: returns how many local connections it was handed to (the in-memory
     * broker sums it into {@link PublishResult#delivered}; a networked one cannot, and ignores it).
     */
    @FunctionalInterface
    interface Handler {
        int deliver(String channel, Publication publication);

        /**
         * The channel's publications up to {@code position} could not all be delivered (a networked broker found a
         * gap its stream no longer covers, or the stream was lost: a new epoch); what follows continues after
         * {@code position}. Sequenced with {@link #deliver} for the channel. The hub tells each local subscriber it
         * is not recovered. The in-memory broker never calls it.
         */
        default void reset(String channel, StreamPosition position) {
        }

        /**
         * How many subscribers {@code channel} has on this node right now (the hub's local count), for
         * {@link Broker#presence}; asked from any thread, so it must be cheap and must not block.
         */
        default int subscribers(String channel) {
            return 0;
        }

        /** This node's count of {@code channel}: the sum of what {@code handlers} answer; one that throws counts none. */
        static int countHere(Iterable<? extends Handler> handlers, String channel) {
            int total = 0;
            for (Handler handler : handlers) {
                try {
                    total += handler.subscribers(channel);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(Broker.class)
                            .error("A handler failed to count the subscribers of channel '{}'; counted as none", channel, e);
                }
            }
            return total;
        }

        /**
         * The distinct users (never {@code ""}) among this node's subscribers of {@code channel} right now, asked from
         * any thread: it must not block, and is asked only for a presence read or a networked broker's write of the
         * channel (at most about once a second per changed channel), so it may take time in the channel's subscribers.
         * A set the caller may keep (it is not changed after it is returned); its {@code contains} must be cheap.
         */
        default Set<String> users(String channel) {
            return Set.of();
        }

        /** This node's distinct users of {@code channel}, over {@code handlers}; one that throws counts none. */
        static Set<String> usersHere(java.util.List<? extends Handler> handlers, String channel) {
            Set<String> union = null;
            for (Handler handler : handlers) {
                Set<String> users;
                try {
                    users = handler.users(channel);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(Broker.class)
                            .error("A handler failed to tell the users of channel '{}'; counted as none", channel, e);
                    continue;
                }
                if (users.isEmpty()) continue;
                // One handler (the hub) is the usual case: its set as it is, not a copy.
                if (handlers.size() == 1) return users;
                if (union == null) union = new java.util.HashSet<>();
                union.addAll(users);
            }
            return union == null ? Set.of() : union;
        }

        /**
         * A subscriber of {@code channel} on another node joined it ({@code joined}) or left it; {@code who} says which
         * connection and whose. Sequenced with {@link #deliver} for the channel; only networked brokers call it.
         */
        default void presence(String channel, boolean joined, Member who) {
        }

        /**
         * Another node asked that every connection of {@code user} (never {@code ""}) be closed ({@link Broker#disconnect});
         * only networked brokers call it, on a thread of theirs, so it must not block.
         */
        default void disconnect(String user) {
        }
    }

    /** Adds a handler for the publications of every subscribed channel, from now on. */
    void register(Handler handler);

    /**
     * Starts delivering the channel's publications to this node; creates the channel's stream if it has none.
     *
     * @throws Unavailable when the store cannot be reached; the hub then counts the channel as not subscribed and
     *                     calls this again for its next first subscriber (so it must be safe to call again)
     */
    void subscribe(String channel);

    /**
     * Stops delivering the channel's publications to this node.
     *
     * @throws Unavailable when the store cannot be reached; the hub then counts the channel as not subscribed and
     *                     subscribes it again, not assuming it still is, when it has a subscriber once more
     */
    void unsubscribe(String channel);

    /**
     * Publishes a message to a channel: numbers it, keeps it as {@code options} say, and delivers it.
     *
     * @throws Unavailable when the broker cannot reach its store now: nothing was published
     * @throws IllegalStateException once the broker is closed
     */
    PublishResult publish(String channel, Message message, PublishOptions options);

    /**
     * The channel's publications after {@code since}, oldest first, at most {@code limit} of them (the oldest ones
     * after {@code since}), and its position; {@link StreamPosition#NONE} and nothing for a channel with no stream.
     */
    History history(String channel, long since, int limit);

    /** The channel's newest {@code limit} publications, oldest first, and its position (Pusher's cache channels). */
    History latest(String channel, int limit);

    /**
     * The channel's subscribers and distinct users over all nodes: this node's current ones (its handlers'
     * {@link Handler#subscribers} and {@link Handler#users}) plus, on a networked broker, what the other live nodes
     * last shared (at most about a second old).
     *
     * @throws Unavailable when a networked broker cannot reach its store now
     */
    Presence presence(String channel);

    /**
     * This node's subscriber count of {@code channel} changed, because a subscription of {@code user} came or went
     * ({@code ""}: an anonymous one, which changes no user): a networked broker shares the new count, and whether
     * {@code user} is still among this node's users (both read from the handlers when it writes, so a burst of joins
     * is one write), with the other nodes soon; in memory there is nothing to share. Never blocks, never throws.
     */
    default void counted(String channel, String user) {
    }

    /**
     * Tells the other nodes' handlers that {@code who} joined or left {@code channel} on this node
     * ({@link Handler#presence} there, not here). Never blocks, never throws: while the store is away the event is
     * lost; in memory there are no other nodes, and nothing happens.
     */
    default void announce(String channel, boolean joined, Member who) {
    }

    /**
     * Tells the other nodes' handlers to close every connection of {@code user} ({@link Handler#disconnect} there, not
     * here): a networked broker returns once its store has taken the message; in memory there are no other nodes.
     *
     * @throws Unavailable when a networked broker cannot reach its store now: the other nodes were not told
     */
    default void disconnect(String user) {
    }

    /**
     * Whether calls may wait on a store over the network (up to its command timeout), so a caller that must not
     * wait long calls from a thread of its own: false in memory, where every call returns at once.
     */
    default boolean networked() {
        return false;
    }

    /**
     * Whether every publication of {@code channel} after a position read from now on reaches the handlers (or a
     * {@link Handler#reset} does): true once {@link #subscribe} has placed the subscription. False while a networked
     * broker keeps the channel subscribed but has not confirmed it at its store yet (subscribed while the store was
     * away): a subscriber must not go live from a position then, or what is published before the broker starts
     * delivering would never reach it. The in-memory broker always delivers.
     */
    default boolean delivering(String channel) {
        return true;
    }

    /**
     * Whether the broker can publish and deliver now: false while a networked broker has lost its store, or any
     * of its stores (whose channels' publishes and reads then throw {@link Unavailable}); always true in memory.
     * The node answers {@code /ready} with 503 while it is false.
     */
    default boolean connected() {
        return true;
    }

    /**
     * Whether {@code channel}'s store can be reached now: {@link #connected()} for a broker with one store; for a
     * broker over several, only the store that holds the channel counts, so one store away refuses only its channels.
     */
    default boolean connected(String channel) {
        return connected();
    }

    @Override
    void close();
}
