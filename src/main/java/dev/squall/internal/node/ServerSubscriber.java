package dev.squall.internal.node;

import dev.squall.ChannelMessage;
import dev.squall.ChannelSubscriber;
import dev.squall.ServerSubscription;
import dev.squall.internal.broker.Message;
import dev.squall.internal.hub.Hub;
import dev.squall.internal.hub.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server-side subscriber of one channel ({@code Squall.subscribe}), as the hub sees it: a connection like a
 * client's, whose {@link Wire} hands each frame to the app's {@link ChannelSubscriber} instead of a socket. So it has
 * a client's order, queue bounds and slow-consumer policy: a frame counts against the bounds until its callback has
 * returned, and a subscriber that falls too far behind is closed as a client would be. Callbacks run one at a time,
 * in order ({@link InOrder}), on the node's subscriber threads.
 */
final class ServerSubscriber implements Wire, ServerSubscription {

    private static final Logger log = LoggerFactory.getLogger(ServerSubscriber.class);

    private final String id;
    private final String channel;
    private final ChannelSubscriber subscriber;
    private final Hub hub;
    private final InOrder callbacks;
    private final AtomicBoolean active = new AtomicBoolean(true);
    private final AtomicLong pinged = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private volatile long startOffset;
    private volatile String startEpoch = "";

    ServerSubscriber(String id, String channel, ChannelSubscriber subscriber, Hub hub, Executor threads) {
        this.id = id;
        this.channel = channel;
        this.subscriber = subscriber;
        this.hub = hub;
        this.callbacks = new InOrder(threads, Integer.MAX_VALUE);   // bounded by the hub's queue, which waits for them
    }

    void started(long offset, String epoch) {
        startOffset = offset;
        startEpoch = epoch;
    }

    String id() {
        return id;
    }

    @Override
    public void send(Message message, boolean more, Written written) {
        ServerFraming.Frame frame = ServerFraming.decode(message);
        boolean queued = callbacks.run(() -> {
            try {
                if (active.get()) deliver(frame);
            } catch (Exception e) {
                log.warn("A server-side subscriber of channel '{}' failed; the next publication comes all the same", channel, e);
            } finally {
                done.incrementAndGet();
                written.succeeded();
            }
        });
        if (!queued) written.failed(new IllegalStateException("the subscriber's threads are stopping"));
    }

    private void deliver(ServerFraming.Frame frame) throws Exception {
        if (frame.type() == ServerFraming.PUBLICATION) {
            subscriber.onPublication(new ChannelMessage(channel, frame.offset(), frame.epoch(), frame.kind(), frame.payload()));
        } else if (frame.type() == ServerFraming.RESET) {
            subscriber.onReset(frame.offset(), frame.epoch());
        }
        // A count of dropped publications: the offsets of the next one say as much.
    }

    @Override
    public void flush() {
    }

    /** Nothing to ping; counting pings as answers keeps the heartbeat from taking a subscriber for a dead peer. */
    @Override
    public void ping() {
        pinged.incrementAndGet();
    }

    /** Squall closed it: it fell too far behind (1008), the server stops (1001). */
    @Override
    public void close(int code, String reason) {
        end(code, code == 1001 ? "the server stops" : reason);
    }

    /** Its callbacks took nothing for the write timeout: closed as a stalled peer would be. */
    @Override
    public void abort() {
        end(1006, "it took nothing of its queue for the write timeout");
    }

    private void end(int code, String reason) {
        if (!active.compareAndSet(true, false)) return;
        hub.leave(id, code);
        callbacks.run(() -> {
            try {
                subscriber.onClose(reason);
            } catch (Exception e) {
                log.warn("A server-side subscriber of channel '{}' failed as it closed", channel, e);
            }
        });
    }

    @Override
    public long inboundActivity() {
        return pinged.get();
    }

    @Override
    public long outboundActivity() {
        return done.get();
    }

    @Override
    public String channel() {
        return channel;
    }

    @Override
    public long startOffset() {
        return startOffset;
    }

    @Override
    public String startEpoch() {
        return startEpoch;
    }

    @Override
    public boolean isActive() {
        return active.get();
    }

    @Override
    public void close() {
        if (active.compareAndSet(true, false)) hub.leave(id, 1000);
    }

    @Override
    public String toString() {
        return "ServerSubscription[" + channel + "]";
    }
}
