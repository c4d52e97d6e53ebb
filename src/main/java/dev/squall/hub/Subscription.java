package dev.squall.hub;

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
     * Hands a live publication on: queued to the connection, or kept for the switch-over while recovering.
     * Returns whether the connection has it (queued, or waiting to be).
     */
    boolean offer(Publication publication, int maxWaiting) {
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
        return connection.enqueue(publication.message());
    }

    /**
     * Ends recovery: queues {@code replay} (already in offset order), then what waited with offsets after both
     * the replay and {@code after}, and goes live. Returns how many messages it queued.
     */
    int goLive(List<Publication> replay, long after) {
        int queued = 0;
        synchronized (this) {
            last = after;
            for (Publication publication : replay) queued += queue(publication);
            for (Publication publication : waiting) queued += queue(publication);
            waiting = List.of();
            live = true;
        }
        return queued;
    }

    private int queue(Publication publication) {
        if (publication.offset() <= last) return 0;                  // already in history's part, or before it
        last = publication.offset();
        return connection.enqueue(publication.message()) ? 1 : 0;
    }
}
