package dev.squall.broker;

import dev.squall.Message;

/**
 * Carries published messages to the hubs that deliver them: the seam between "someone published" and
 * "these sockets receive it". In-memory on a single node; a networked broker (Redis) lets several nodes
 * share one stream.
 *
 * <p>Contract, for every implementation:
 * <ul>
 *   <li>Order: messages published one after another (each {@code publish} returned before the next began)
 *       reach every subscriber in that order. Concurrent publishes have no order between them here; the
 *       hub gives all of its connections one order.</li>
 *   <li>Delivery: at most once per subscriber; a subscriber that is registered when {@code publish} is called
 *       receives the message (in-memory: before {@code publish} returns).</li>
 *   <li>Threading: {@code publish} and {@code subscribe} may be called from any thread; subscribers are called
 *       on the publishing thread or on the broker's own threads, and must not block.</li>
 * </ul>
 */
public interface Broker extends AutoCloseable {

    /** What a subscriber does with a message: returns how many local connections it was handed to. */
    @FunctionalInterface
    interface Subscriber {
        int deliver(Message message);
    }

    /** Registers a subscriber for every message published from now on. */
    void subscribe(Subscriber subscriber);

    /** Publishes a message; returns how many connections on this node it was handed to. */
    int publish(Message message);

    @Override
    void close();
}
