package dev.squall;

/** Who may read a namespace's channels' history and presence ({@link SquallPlugin.Namespace#read}). */
public enum ReadAccess {
    /** Anyone who may connect, and over HTTP anyone at all. */
    PUBLIC,
    /**
     * A connection subscribed to the channel, or one the channel is granted to (its token covers it, or the app's
     * {@link ChannelAuthorizer} allows {@link ChannelAction#READ}); over HTTP, a token that covers the channel. The
     * publish right reads everything. The default.
     */
    SUBSCRIBERS
}
