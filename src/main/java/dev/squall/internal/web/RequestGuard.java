package dev.squall.internal.web;

import dev.squall.SettingNames;
import dev.squall.internal.policy.HostPolicy;
import dev.squall.internal.policy.OriginPolicy;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.HandlerType;
import io.javalin.http.Header;

/**
 * The origin and {@code Host} checks of one policy, for whichever routes it guards: Squall's own (the plugin) or
 * every route of the app ({@link OriginPolicyPlugin}). Tornado: {@code check_origin}.
 */
public final class RequestGuard {

    private final OriginPolicy origins;
    private final HostPolicy hosts;
    private final boolean checkHosts;
    private final int preflightMaxAgeSeconds;
    private final SettingNames names;

    public RequestGuard(OriginPolicy origins, HostPolicy hosts, boolean checkHosts, int preflightMaxAgeSeconds, SettingNames names) {
        this.origins = origins;
        this.hosts = hosts;
        this.checkHosts = checkHosts;
        this.preflightMaxAgeSeconds = preflightMaxAgeSeconds;
        this.names = names;
    }

    /** Tornado: {@code check_origin(origin)}; False there is a 403 here, before any WebSocket exists. */
    public void checkUpgrade(Context ctx) {
        ctx.header(Header.VARY, Header.ORIGIN);
        checkHostAndOrigin(ctx);
    }

    /** For an HTTP request: refuses it, or adds the CORS headers an allowed cross-origin caller needs. */
    public void applyCors(Context ctx) {
        // Whether CORS headers come, or a 403, depends on the Origin: a cache must not hand one answer to another.
        ctx.header(Header.VARY, Header.ORIGIN);
        checkHostAndOrigin(ctx);
        String origin = ctx.header(Header.ORIGIN);
        if (!origins.needsCorsHeaders(origin, ctx.header(Header.HOST))) return;
        ctx.header(Header.ACCESS_CONTROL_ALLOW_ORIGIN, origins.allowsAny() ? "*" : origin);
        if (HandlerType.OPTIONS.equals(ctx.method())) {
            ctx.header(Header.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
            ctx.header(Header.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
            ctx.header(Header.ACCESS_CONTROL_MAX_AGE, Integer.toString(preflightMaxAgeSeconds));
        }
    }

    private void checkHostAndOrigin(Context ctx) {
        String host = ctx.header(Header.HOST);
        if (checkHosts && !hosts.allows(host)) {
            String name = HostPolicy.hostname(host);
            throw new ForbiddenResponse("Host " + (host == null ? "(none)" : "'" + host + "'") + " is not a name of this "
                    + "server; reach it as localhost, or " + names.howToList("allowedHosts", name == null ? "<name>" : name));
        }
        String origin = ctx.header(Header.ORIGIN);
        if (!origins.allows(origin, host)) {
            throw new ForbiddenResponse("origin " + origin + " is not allowed; " + names.howToList("allowedOrigins", origin)
                    + " to allow it");
        }
    }

    /** One line for the start-up log. */
    public String describe() {
        return origins.describe() + (checkHosts ? "; hosts: " + hosts.describe() : "");
    }
}
