package dev.squall.broker;

import dev.squall.Message;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The embedded default: delivers each publish to the subscribers of this process, synchronously. */
public final class InMemoryBroker implements Broker {

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

    @Override
    public void subscribe(Subscriber subscriber) {
        subscribers.add(subscriber);
    }

    @Override
    public int publish(Message message) {
        int delivered = 0;
        for (Subscriber subscriber : subscribers) {
            delivered += subscriber.deliver(message);
        }
        return delivered;
    }

    @Override
    public void close() {
        subscribers.clear();
    }
}
