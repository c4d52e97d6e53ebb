package dev.squall;

/**
 * Server-side code listening to a channel ({@link Squall#subscribe}): it gets the channel's publications in the
 * order every client gets them, from the moment it subscribed.
 *
 * <p>Its methods are called one at a time, in order, on a thread of Squall's, never on the publisher's. They should
 * return quickly: while one runs, what follows waits in the subscription's queue, which has a client's bounds
 * ({@link SquallPlugin.Config#maxQueueMessages}, {@link SquallPlugin.Config#maxQueueBytes}); a subscriber that
 * falls further behind is dropped as a client would be ({@link #onClose}). A method that throws is logged, and the
 * next publication comes all the same.
 */
@FunctionalInterface
public interface ChannelSubscriber {

    /** The channel's next publication. */
    void onPublication(ChannelMessage message) throws Exception;

    /**
     * Publications up to {@code offset} were lost and cannot be read back (with Redis: its stream went, a restart,
     * a failover): what follows continues after {@code offset}, in {@code epoch}. A client would be told it was not
     * recovered; a subscriber that keeps state from the channel should rebuild it.
     */
    default void onReset(long offset, String epoch) throws Exception {
    }

    /**
     * The subscription ended and nothing more comes: {@code reason} says why (it was closed; it fell too far behind;
     * the server stops). Called once, unless the app closed it itself.
     */
    default void onClose(String reason) throws Exception {
    }
}
