package dev.squall.internal.web;

import dev.squall.Handshake;
import io.javalin.http.Context;
import org.jspecify.annotations.Nullable;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Handshake} copied off the request, for the app's hooks: they run on threads of their own and may still
 * run after the request is over (a hook past its deadline is abandoned, not stopped), when the request's objects
 * are Jetty's again.
 */
record HandshakeCopy(String path, Map<String, String> pathParams, Map<String, List<String>> queryParams,
                     Map<String, String> headers, Map<String, String> cookies, String remoteAddress) implements Handshake {

    static HandshakeCopy of(Context ctx) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String name : Collections.list(ctx.req().getHeaderNames())) {
            String value = ctx.req().getHeader(name);
            if (value != null) headers.put(name.toLowerCase(Locale.ROOT), value);
        }
        return new HandshakeCopy(ctx.path(), Map.copyOf(ctx.pathParamMap()),
                Collections.unmodifiableMap(new LinkedHashMap<>(ctx.queryParamMap())), Collections.unmodifiableMap(headers),
                Map.copyOf(ctx.cookieMap()), ctx.req().getRemoteAddr());
    }

    @Override
    public @Nullable String pathParam(String name) {
        return pathParams.get(name);
    }

    @Override
    public @Nullable String queryParam(String name) {
        List<String> values = queryParams.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    @Override
    public @Nullable String header(String name) {
        return headers.get(name);
    }

    @Override
    public @Nullable String cookie(String name) {
        return cookies.get(name);
    }
}
