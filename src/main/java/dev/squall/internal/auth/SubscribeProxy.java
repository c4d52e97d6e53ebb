package dev.squall.internal.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.squall.ChannelAction;
import dev.squall.ChannelAuthorizer;
import dev.squall.Identity;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;

/**
 * {@code --subscribe-proxy}: the app's HTTP endpoint decides the subscriptions (and the reads) a channel's rules
 * leave to the app. The request is {@code {"user", "info"?, "channel", "action"}} ({@code subscribe} or
 * {@code read}); {@code {"result": {}}} allows, {@code error} or {@code disconnect} refuses. A publish by a
 * subscriber, where the channel's rule allows it, is not asked about: the subscribe already was.
 */
final class SubscribeProxy implements ChannelAuthorizer {

    private final HttpProxy proxy;

    SubscribeProxy(URI uri, Duration timeout) {
        this.proxy = new HttpProxy(uri, timeout);
    }

    @Override
    public boolean allows(Identity who, String channel, ChannelAction action) throws IOException, InterruptedException {
        if (action == ChannelAction.PUBLISH) return true;
        ObjectNode request = HttpProxy.JSON.createObjectNode();
        request.put("user", who.user());
        if (who.info() != null) request.set("info", HttpProxy.JSON.readTree(who.info()));
        request.put("channel", channel);
        request.put("action", action.name().toLowerCase(Locale.ROOT));
        return !proxy.ask(request).isNull();
    }

    @Override
    public String toString() {
        return "the subscribe proxy " + proxy;
    }
}
