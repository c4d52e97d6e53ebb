package dev.squall.internal.web;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The query parameters one of Squall's HTTP routes takes. Any other is refused with a 400 that names it and the ones
 * the route takes: ignored, it would answer what was not asked for without a word ({@code ?sinc=1}, a typo of
 * {@code since}, reads a channel's history from the start). WebSocket routes are not checked: their query
 * parameters belong to the app, whose handlers read them ({@link SquallConnection#queryParam}).
 */
public final class QueryParameters {

    /** A route that takes no query parameter. */
    static final QueryParameters NONE = new QueryParameters(List.of());

    private final List<String> taken;

    private QueryParameters(List<String> taken) {
        this.taken = taken;
    }

    /** A route that takes these query parameters and no other. */
    static QueryParameters of(String... names) {
        return new QueryParameters(List.of(names));
    }

    /** Throws 400 naming the first query parameter of the request that the route does not take, and those it takes. */
    void check(Context ctx) {
        String query = ctx.queryString();
        if (query == null || query.isEmpty()) return;
        for (String name : FormFields.names(query.getBytes(StandardCharsets.UTF_8), "query parameter")) {
            if (!taken.contains(name)) {
                throw new Refusal(HttpStatus.BAD_REQUEST.getCode(), "unknown query parameter '" + WholeNumber.shown(name)
                        + "': " + ctx.method() + " " + ctx.path() + " takes " + describe());
            }
        }
    }

    /** {@code none}, {@code limit}, {@code since and limit}, {@code lastEventId, since and epoch}. */
    private String describe() {
        if (taken.isEmpty()) return "none";
        if (taken.size() == 1) return taken.get(0);
        return String.join(", ", taken.subList(0, taken.size() - 1)) + " and " + taken.get(taken.size() - 1);
    }
}
