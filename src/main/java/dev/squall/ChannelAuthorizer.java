package dev.squall;

/**
 * The app's answer to "may this user do this with this channel?": asked when a channel's rules leave it to the
 * app ({@link SubscribeAccess#TOKEN}, {@link PublishAccess#SUBSCRIBERS}, {@link ReadAccess#SUBSCRIBERS}) and no token
 * already decided it. Set with {@link SquallPlugin.Config#authorize}.
 *
 * <p>It may be slow: Squall runs it on threads of its own and waits at most {@link SquallPlugin.Config#hookTimeout};
 * past that, or when it throws, the answer is no (the exception logged, the client told {@code forbidden}). Called
 * from many threads at once.
 */
@FunctionalInterface
public interface ChannelAuthorizer {

    /** Whether {@code who} may do {@code action} with {@code channel}. */
    boolean allows(Identity who, String channel, ChannelAction action) throws Exception;
}
