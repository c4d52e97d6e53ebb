package dev.squall;

/** What a client asks to do with a channel, for the app's {@link ChannelAuthorizer} to allow or refuse. */
public enum ChannelAction {
    /** Receive the channel's publications (a {@code squall.v1} subscribe, a channel route, a Server-Sent Events stream). */
    SUBSCRIBE,
    /** Publish to it from a {@code squall.v1} connection, where its namespace lets subscribers publish. */
    PUBLISH,
    /** Read its history or presence. */
    READ
}
