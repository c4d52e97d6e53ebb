package dev.squall.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The embedded default: delivers each publish to the subscribers of this process, synchronously, on the
 * publishing thread.
 *
 * <p>A channel's publishes are sequenced by a lock striped by channel name (as Centrifuge's memory broker
 * does): publishes to one channel queue up behind each other for the few microseconds it takes the hub to
 * queue a message to that channel's connections, while other channels go on in parallel. Striping keeps
 * the number of locks fixed however many channels come and go.
 */
public final class InMemoryBroker implements Broker {

    private static final Logger log = LoggerFactory.getLogger(InMemoryBroker.class);
    private static final int STRIPES = 64;          // a power of two

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final Object[] sequencers = new Object[STRIPES];
    private volatile boolean closed;

    public InMemoryBroker() {
        for (int i = 0; i < STRIPES; i++) sequencers[i] = new Object();
    }

    @Override
    public void subscribe(Subscriber subscriber) {
        subscribers.add(subscriber);
    }

    @Override
    public int publish(String channel, Message message) {
        if (closed) throw new IllegalStateException("the broker is closed");
        int delivered = 0;
        synchronized (sequencerOf(channel)) {
            for (Subscriber subscriber : subscribers) {
                try {
                    delivered += subscriber.deliver(channel, message);
                } catch (RuntimeException e) {
                    log.error("A subscriber failed to take a message on channel '{}'; the others still got it", channel, e);
                }
            }
        }
        return delivered;
    }

    private Object sequencerOf(String channel) {
        int hash = channel.hashCode();
        return sequencers[(hash ^ (hash >>> 16)) & (STRIPES - 1)];
    }

    @Override
    public void close() {
        closed = true;
        subscribers.clear();
    }
}
