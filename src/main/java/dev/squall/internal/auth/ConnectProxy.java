package dev.squall.internal.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.squall.Authenticator;
import dev.squall.Handshake;
import dev.squall.Identity;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * {@code --connect-proxy}: the app's HTTP endpoint says who a client is, for apps in other languages. The request
 * is {@code {"transport", "protocol", "encoding", "path", "headers", "cookies"}} (the headers named by
 * {@code --proxy-headers}, every cookie); the answer {@code {"result": {"user", "info"?}}} admits, {@code error} or
 * {@code disconnect} refuses (401). Centrifugo's names; its {@code expire_at} and {@code channels} are not read:
 * channels are granted by the subscribe proxy.
 */
final class ConnectProxy implements Authenticator {

    private final HttpProxy proxy;
    private final List<String> headers;

    ConnectProxy(URI uri, List<String> headers, Duration timeout) {
        this.proxy = new HttpProxy(uri, timeout);
        this.headers = List.copyOf(headers);
    }

    @Override
    public @Nullable Identity authenticate(Handshake handshake) throws IOException, InterruptedException {
        ObjectNode request = HttpProxy.JSON.createObjectNode();
        boolean webSocket = "websocket".equalsIgnoreCase(handshake.header("Upgrade"));
        request.put("transport", webSocket ? "websocket" : "sse");
        request.put("protocol", "json");
        request.put("encoding", "json");
        request.put("path", handshake.path());
        ObjectNode forwarded = request.putObject("headers");
        for (String name : headers) {
            String value = handshake.header(name);
            if (value != null) forwarded.put(name, value);
        }
        ObjectNode cookies = request.putObject("cookies");
        handshake.cookies().forEach(cookies::put);
        JsonNode result = proxy.ask(request);
        if (result.isNull()) return null;
        JsonNode user = result.path("user");
        if (!user.isTextual()) throw new IOException(proxy + " answered a result without \"user\" (a string; \"\" for anonymous)");
        JsonNode info = result.get("info");
        try {
            return Identity.of(user.asText(), info == null || info.isNull() ? null : HttpProxy.JSON.writeValueAsString(info));
        } catch (IllegalArgumentException e) {
            throw new IOException(proxy + " answered an identity Squall cannot take: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "the connect proxy " + proxy;
    }
}
