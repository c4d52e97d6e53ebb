package dev.squall;

/** Who may subscribe to a namespace's channels ({@link SquallPlugin.Namespace#subscribe}). */
public enum SubscribeAccess {
    /** Anyone who may connect. The default when no token key, hook or proxy is configured. */
    PUBLIC,
    /**
     * Only a connection the channel is granted to: by its token's {@code channels} claim, by a subscription token
     * for the channel, or by the app ({@link ChannelAuthorizer}, the subscribe proxy). The default otherwise.
     */
    TOKEN
}
