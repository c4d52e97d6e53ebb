package dev.squall.internal.web;

import dev.squall.Handshake;
import io.javalin.http.Context;
import org.jspecify.annotations.Nullable;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Handshake} over the Javalin request of a WebSocket upgrade, for the app's functions that read it before
 * the connection is made ({@code channelFrom}). Only while the request is being handled: nothing of it is kept.
 */
final class RequestHandshake implements Handshake {

    private final Context ctx;

    RequestHandshake(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public String path() {
        return ctx.path();
    }

    @Override
    public @Nullable String pathParam(String name) {
        return ctx.pathParamMap().get(name);
    }

    @Override
    public @Nullable String queryParam(String name) {
        return ctx.queryParam(name);
    }

    @Override
    public Map<String, List<String>> queryParams() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(ctx.queryParamMap()));
    }

    @Override
    public @Nullable String header(String name) {
        return ctx.header(name);
    }

    @Override
    public @Nullable String cookie(String name) {
        return ctx.cookie(name);
    }

    @Override
    public Map<String, String> cookies() {
        return Map.copyOf(ctx.cookieMap());
    }

    @Override
    public String remoteAddress() {
        return ctx.req().getRemoteAddr();
    }
}
