package dev.squall.hub;

import dev.squall.broker.Message;
import dev.squall.broker.Publication;

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
    // Read without the lock on every delivery; written under it, after the replay has been queued.
    private volatile boolean live;
    private List<Publication> waiting = new ArrayList<>();          // guarded by this, until live
    private long last;                                                // guarded by this: the last offset queued

    Subscription(Connection connection, String channel, boolean live) {
        this.connection = connection;
        this.channel = channel;
        this.live = live;
    }

    /**
     * Hands a live publication on, as {@code frame} (its frame in the connection's framing): queued to the
     * connection, or kept for the switch-over while recovering. Returns whether the connection has it (queued, or
     * waiting to be).
     */
    boolean offer(Publication publication, Message frame, int maxWaiting) {
        if (!live) {
            synchronized (this) {
                if (!live) {
                    if (waiting.size() >= maxWaiting) {
                        connection.markSlow();              // a connection this far behind cannot catch up
                        return false;
                    }
                    waiting.add(publication);
                    return true;
                }
            }
        }
        return connection.enqueue(frame);
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
     * the replay and {@code after}, and goes live.
     */
    Queued goLive(List<Publication> replay, long after) {
        int messages = 0;
        long bytes = 0;
        Framing framing = connection.framing();
        synchronized (this) {
            last = after;
            for (Publication publication : concat(replay, waiting)) {
                if (publication.offset() <= last) continue;              // already in history's part, or before it
                last = publication.offset();
                Message frame = framing.frame(channel, publication);
                if (connection.enqueue(frame)) {
                    messages++;
                    bytes += frame.size();
                }
            }
            waiting = List.of();
            live = true;
        }
        return new Queued(messages, bytes);
    }

    private static List<Publication> concat(List<Publication> first, List<Publication> then) {
        List<Publication> both = new ArrayList<>(first.size() + then.size());
        both.addAll(first);
        both.addAll(then);
        return both;
    }
}
