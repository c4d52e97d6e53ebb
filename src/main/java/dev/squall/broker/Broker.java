package dev.squall.broker;


/**
 * Carries published messages to the hubs that deliver them: the seam between "someone published to a channel"
 * and "these sockets receive it". In-memory on a single node; a networked broker (Redis) lets several nodes
 * share one stream per channel.
 *
 * <p>The broker is the channel's sequencer: it decides the one order in which a channel's messages are
 * delivered, so the hub needs no lock of its own to give every subscriber of a channel the same order.
 *
 * <p>Contract, for every implementation:
 * <ul>
 *   <li>Order: each channel's messages reach every subscriber in one order, the same for all subscribers,
 *       concurrent publishes included; messages published one after another (each {@code publish} returned
 *       before the next began) keep that order. Messages of different channels have no order between them.</li>
 *   <li>Sequencing: {@link Subscriber#deliver} is never called concurrently for the same channel (calls for
 *       different channels may run at the same time), and each call happens-after the previous one for that
 *       channel.</li>
 *   <li>Delivery: at most once per subscriber; a subscriber that is registered when {@code publish} is called
 *       receives the message (in-memory: before {@code publish} returns).</li>
 *   <li>Isolation: a subscriber that throws does not keep the message from the other subscribers, and does not
 *       make {@code publish} fail; it counts as having delivered to nobody.</li>
 *   <li>Closing: after {@link #close()}, {@code publish} throws {@link IllegalStateException} and nothing is
 *       delivered; {@code close} is idempotent.</li>
 *   <li>Threading: {@code publish} and {@code subscribe} may be called from any thread; subscribers are called
 *       on the publishing thread or on the broker's own threads, and must not block.</li>
 * </ul>
 */
public interface Broker extends AutoCloseable {

    /** What a subscriber does with a channel's message: returns how many local connections it was handed to. */
    @FunctionalInterface
    interface Subscriber {
        int deliver(String channel, Message message);
    }

    /** Registers a subscriber for every message published from now on, on every channel. */
    void subscribe(Subscriber subscriber);

    /**
     * Publishes a message to a channel; returns how many connections on this node it was handed to.
     *
     * @throws IllegalStateException once the broker is closed
     */
    int publish(String channel, Message message);

    @Override
    void close();
}
