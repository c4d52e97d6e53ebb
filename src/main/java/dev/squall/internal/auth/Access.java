package dev.squall.internal.auth;

import dev.squall.ChannelAction;
import dev.squall.PublishAccess;
import dev.squall.ReadAccess;
import dev.squall.SubscribeAccess;
import org.jspecify.annotations.Nullable;

/**
 * What a client may do with a channel, decided from its {@link Credentials}, the channel's {@link ChannelRules.Rule}
 * and, where the rule leaves it to the app and no token decided, the app's {@link AppHooks}. The publish right allows
 * everything. The decisions that may ask the app can block for up to the hooks' deadline: callers run them off
 * Jetty's threads when the app has hooks ({@link #mayBlock}).
 */
public final class Access {

    private final boolean secured;
    private final ChannelRules rules;
    private final @Nullable TokenVerifier tokens;
    private final AppHooks hooks;

    /**
     * @param secured whether connections need an identity (a token key, a hook or a proxy is set)
     * @param tokens  what verifies tokens, or null when no key is set
     */
    public Access(boolean secured, ChannelRules rules, @Nullable TokenVerifier tokens, AppHooks hooks) {
        this.secured = secured;
        this.rules = rules;
        this.tokens = tokens;
        this.hooks = hooks;
    }

    /** An open server: the tutorial's rules, no tokens, no hooks. */
    public static Access open() {
        return new Access(false, new ChannelRules(ChannelRules.defaults(false), java.util.Map.of()), null, AppHooks.none());
    }

    /** Whether every connection needs an identity. */
    public boolean secured() {
        return secured;
    }

    /** What verifies tokens, or null when no key is set (a token is then refused as one nobody can check). */
    public @Nullable TokenVerifier tokens() {
        return tokens;
    }

    public AppHooks hooks() {
        return hooks;
    }

    /** Whether a decision may wait for the app: then it must not run on a thread that reads sockets. */
    public boolean mayBlock() {
        return hooks.authenticates() || hooks.authorizes();
    }

    /** The rule of {@code channel}. */
    public ChannelRules.Rule rule(String channel) {
        return rules.of(channel);
    }

    /**
     * Whether {@code who} may subscribe to {@code channel}.
     *
     * @param subscriptionToken a verified subscription token the client sent for this subscribe, or null; its user
     *                          and channel must already have been checked against {@code who} and {@code channel}
     */
    public boolean maySubscribe(Credentials who, String channel, @Nullable VerifiedToken subscriptionToken) {
        return granted(who, channel, subscriptionToken, ChannelAction.SUBSCRIBE);
    }

    /**
     * Whether {@code who} may publish to {@code channel} from a connection.
     *
     * @param subscribed whether that connection is subscribed to it
     */
    public boolean mayPublish(Credentials who, String channel, boolean subscribed) {
        if (who.publisher()) return true;
        if (rules.of(channel).publish() == PublishAccess.NONE) return false;
        return subscribed && (!hooks.authorizes() || hooks.allows(who.identity(), channel, ChannelAction.PUBLISH));
    }

    /**
     * Whether {@code who} may read {@code channel}'s history and presence.
     *
     * @param subscribed    whether the asking connection is subscribed to it (false over HTTP)
     * @param presenceEvent whether this is a {@code squall.v1} presence on a channel whose subscribers hear who comes and
     *                      goes anyway (its namespace has presence on)
     */
    public boolean mayRead(Credentials who, String channel, boolean subscribed, boolean presenceEvent) {
        if (who.publisher()) return true;
        ReadAccess read = rules.of(channel).read();
        if (read == null) return presenceEvent;
        if (read == ReadAccess.PUBLIC) return true;
        return subscribed || granted(who, channel, null, ChannelAction.READ);
    }

    /** The subscribe rule, asking the app for {@code action} when neither the rule nor a token decides. */
    private boolean granted(Credentials who, String channel, @Nullable VerifiedToken subscriptionToken, ChannelAction action) {
        if (who.publisher()) return true;
        if (rules.of(channel).subscribe() == SubscribeAccess.PUBLIC) return true;
        if (who.covers(channel)) return true;
        if (subscriptionToken != null && subscriptionToken.covers(channel)) return true;
        return hooks.authorizes() && hooks.allows(who.identity(), channel, action);
    }

    /** Stops what runs the app's hooks. */
    public void close() {
        hooks.close();
    }
}
