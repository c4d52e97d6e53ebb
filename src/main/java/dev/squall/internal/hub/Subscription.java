package dev.squall.internal.hub;

import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.StreamPosition;

import java.util.ArrayList;
import java.util.List;

/**
 * One connection on one channel. While the connection recovers what it missed, live publications wait here, so
 * that history and the live stream meet without a gap or a duplicate: register, buffer, read history, replay,
 * then the buffered ones after the last replayed offset, then live (the recipe Centrifuge uses).
 */
final class Subscription {

    final Connection connection;
    final String channel;
    // Whose it is, as the connection was identified when it subscribed (identity comes first, and never changes
    // user): the channel's users are gathered from here, and the broker is told this name when it comes and goes.
    final String user;
    // Written under the lock, after the replay has been queued; read without it by the hub's notices.
    private volatile boolean live;
    private boolean cancelled;                                        // guarded by this
    private List<Object> waiting;                                    // guarded by this, until live: Publication or Reset
    private long last;                                                // guarded by this: the last offset queued
    // Written once in goLive before live is (volatile), read after it: what the switch-over queued already.
    private long queuedThrough;
    private String queuedEpoch = "";

    Subscription(Connection connection, String channel, boolean live) {
        this.connection = connection;
        this.channel = channel;
        this.user = connection.identity().user();
        this.live = live;
        this.waiting = live ? List.of() : new ArrayList<>();
    }

    /**
     * Hands a live publication on, as {@code frame} (its frame in the connection's framing): queued to the
     * connection, or kept for the switch-over while recovering. Returns whether the connection has it (queued, or
     * waiting to be).
     */
    boolean offer(Publication publication, Message frame, int maxWaiting) {
        // Under the lock even when live: an unsubscribe (cancel) either comes before, and nothing is queued, or
        // after, and what this queues precedes the unsubscribe's reply.
        synchronized (this) {
            if (cancelled) return false;
            if (!live) {
                if (waiting.size() >= maxWaiting) {
                    connection.markSlow();              // a connection this far behind cannot catch up
                    return false;
                }
                waiting.add(publication);
                return true;
            }
            // A networked broker may deliver a publication after a recovering subscriber has read it from history and
            // gone live (its stripe lags the read): queued by the replay already, not again.
            if (publication.offset() <= queuedThrough && publication.epoch().equals(queuedEpoch)) return true;
            return connection.enqueue(frame);
        }
    }

    /** Queues a notice of the channel's (a reset, a join or leave; {@code control}: never dropped), unless cancelled. */
    synchronized boolean tell(Message frame, boolean control) {
        if (cancelled) return false;
        return control ? connection.enqueueControl(frame) : connection.enqueueEvent(frame);
    }

    /**
     * The connection is off the channel: nothing more of it is queued from here on, whatever a delivery that took
     * the channel's subscribers before still holds.
     */
    synchronized void cancel() {
        cancelled = true;
    }

    /**
     * A reset of the channel's stream ({@link dev.squall.internal.broker.Broker.Handler#reset}) while recovering: kept in its
     * place among the waiting publications, so {@link #goLive} tells the connection after its replay. Returns false
     * when the subscription is live already (the caller tells it as it tells the others).
     */
    boolean offerReset(StreamPosition position) {
        if (live) return false;
        synchronized (this) {
            if (live) return false;
            waiting.add(new Reset(position));
            return true;
        }
    }

    private record Reset(StreamPosition position) {
    }

    /** Past its recovery: its first frame and any replay are queued, so other frames may follow them. */
    boolean isLive() {
        return live;
    }

    /** What {@link #goLive} queued: for the sent counters. */
    record Queued(int messages, long bytes) {
    }

    /**
     * Ends recovery: queues {@code replay} (already in offset order), then what waited with offsets after both
     * the replay and {@code after}, and goes live. {@code start} is the position the connection was told it starts
     * at (its epoch is the stream's when history was read). A reset that waited and is not behind {@code start}
     * is told after the replay, and the new stream's publications follow it; those of another epoch than the one
     * the connection was last told are not its stream's and are skipped (they came before the reset).
     */
    Queued goLive(List<Publication> replay, long after, StreamPosition start) {
        int messages = 0;
        long bytes = 0;
        Framing framing = connection.framing();
        synchronized (this) {
            last = after;
            String epoch = start.epoch();
            List<Object> all = new ArrayList<>(replay.size() + waiting.size());
            all.addAll(replay);
            all.addAll(waiting);
            for (Object each : all) {
                if (cancelled) break;
                Message frame;
                boolean control = each instanceof Reset;
                if (each instanceof Reset reset) {
                    StreamPosition to = reset.position();
                    if (to.epoch().equals(epoch) && to.offset() <= last) continue;   // history was read after it
                    epoch = to.epoch();
                    last = to.offset();
                    frame = framing.reset(new Subscribed(channel, to, to.offset(), false));
                    if (frame == null) continue;
                } else {
                    Publication publication = (Publication) each;
                    // Already in history's part, or before it; or of a stream the connection is not on.
                    if (publication.offset() <= last || !publication.epoch().equals(epoch) && !epoch.isEmpty()) continue;
                    last = publication.offset();
                    frame = framing.frame(channel, publication);
                }
                if (control ? connection.enqueueControl(frame) : connection.enqueue(frame)) {
                    messages++;
                    bytes += frame.size();
                }
            }
            waiting = List.of();
            queuedThrough = last;
            queuedEpoch = epoch;
            live = true;
        }
        return new Queued(messages, bytes);
    }
}
