package dev.squall.internal.auth;

import dev.squall.PublishAccess;
import dev.squall.ReadAccess;
import dev.squall.SubscribeAccess;
import dev.squall.internal.channel.ChannelName;
import org.jspecify.annotations.Nullable;

import java.util.Map;

/**
 * Who may subscribe to, publish to and read each channel: its namespace's rule, else the server's. On a secured
 * server (a token key, a hook or a proxy set) the server's rule defaults to the safe one, private channels; on an
 * open one to the tutorial's, where anyone connected subscribes and only the publish right publishes and reads.
 */
public final class ChannelRules {

    /**
     * One channel's rule.
     *
     * @param read null: the open server's default, where reads need the publish right (and a {@code squall.v1}
     *             presence is also shown on channels whose namespace has presence on, whose subscribers hear who
     *             comes and goes anyway)
     */
    public record Rule(SubscribeAccess subscribe, PublishAccess publish, @Nullable ReadAccess read) {
    }

    private final Rule server;
    private final Map<String, Rule> namespaces;

    /**
     * @param server     the rule of channels outside any listed namespace
     * @param namespaces each listed namespace's rule, complete (its unset parts taken from {@code server})
     */
    public ChannelRules(Rule server, Map<String, Rule> namespaces) {
        this.server = server;
        this.namespaces = Map.copyOf(namespaces);
    }

    /** The rule a server without settings of its own has: secured or open. */
    public static Rule defaults(boolean secured) {
        return secured
                ? new Rule(SubscribeAccess.TOKEN, PublishAccess.NONE, ReadAccess.SUBSCRIBERS)
                : new Rule(SubscribeAccess.PUBLIC, PublishAccess.NONE, null);
    }

    /** {@code set}'s parts where given, else {@code fallback}'s. */
    public static Rule override(Rule fallback, @Nullable SubscribeAccess subscribe, @Nullable PublishAccess publish,
                                @Nullable ReadAccess read) {
        return new Rule(subscribe != null ? subscribe : fallback.subscribe(), publish != null ? publish : fallback.publish(),
                read != null ? read : fallback.read());
    }

    /** The rule of {@code channel}. */
    public Rule of(String channel) {
        if (namespaces.isEmpty()) return server;
        Rule rule = namespaces.get(ChannelName.namespace(channel));
        return rule != null ? rule : server;
    }

    /** The server's rule and the namespaces that differ, for the start-up log. */
    public String describe() {
        StringBuilder line = new StringBuilder(describe(server));
        namespaces.forEach((name, rule) -> {
            if (!rule.equals(server)) line.append(", ").append(name).append(":* ").append(describe(rule));
        });
        return line.toString();
    }

    private static String describe(Rule rule) {
        return "subscribe " + lower(rule.subscribe()) + ", publish " + lower(rule.publish()) + ", read "
                + (rule.read() == null ? "with the publish right" : lower(rule.read()));
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(java.util.Locale.ROOT);
    }
}
