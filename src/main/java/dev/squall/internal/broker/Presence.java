package dev.squall.internal.broker;

/**
 * Who is on a channel, over all nodes: its subscriptions (one per connection subscribed to it), and the distinct
 * users holding them. An anonymous connection (user {@code ""}) counts among the subscribers and never among the
 * users, so a channel of anonymous clients has users 0.
 */
public record Presence(int subscribers, int users) {

    /** Nobody. */
    public static final Presence NONE = new Presence(0, 0);
}
