package dev.squall;

/** Who may publish to a namespace's channels from a {@code squall.v1} connection ({@link SquallPlugin.Namespace#publish}). */
public enum PublishAccess {
    /** Only a connection with the publish right (the publish token, or this machine without one). The default. */
    NONE,
    /**
     * Also a connection subscribed to the channel, if the app's {@link ChannelAuthorizer}, when set, agrees: a chat
     * room.
     */
    SUBSCRIBERS
}
