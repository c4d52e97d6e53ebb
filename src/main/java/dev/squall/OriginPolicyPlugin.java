package dev.squall;

import io.javalin.config.JavalinState;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.HandlerType;
import io.javalin.http.Header;
import io.javalin.http.HttpStatus;
import io.javalin.plugin.Plugin;

import java.util.List;
import java.util.function.Consumer;

/**
 * The origin policy as a Javalin plugin: the same allow-list guards WebSocket upgrades (Tornado's
 * {@code check_origin}: 403 before the handshake) and drives CORS on HTTP routes. Javalin's bundled CORS
 * plugin is not used because it never sees WebSocket upgrades, and it still runs the handler of a request
 * from a refused origin; here a refused origin gets 403 and nothing runs.
 *
 * <p>With {@link Config#checkHosts} it also refuses, the same way, every request whose {@code Host} is neither
 * a loopback name nor in {@link Config#allowedHosts}: a DNS-rebinding page then cannot read from the server.
 */
public final class OriginPolicyPlugin extends Plugin<OriginPolicyPlugin.Config> {

    /** The plugin's settings. */
    public static final class Config {
        /** Normalized origins ({@code scheme://host[:port]}), empty for same-origin only, or {@code ["*"]}. */
        public List<String> allowedOrigins = List.of();
        /** How long browsers may cache a preflight answer, in seconds. */
        public int preflightMaxAgeSeconds = 600;
        /** Whether every request's {@code Host} must be a loopback name or one of {@link #allowedHosts}. */
        public boolean checkHosts = false;
        /** Host names (lower-case, no port) allowed besides loopback ones when {@link #checkHosts} is on. */
        public List<String> allowedHosts = List.of();
    }

    private OriginPolicy policy;
    private HostPolicy hosts;

    public OriginPolicyPlugin(Consumer<Config> userConfig) {
        super(userConfig, new Config());
    }

    @Override
    public void onInitialize(JavalinState state) {
        if (pluginConfig.allowedOrigins.contains("*") && pluginConfig.allowedOrigins.size() > 1) {
            throw new IllegalArgumentException("OriginPolicyPlugin: '*' allows every origin and cannot be combined with others");
        }
        policy = new OriginPolicy(pluginConfig.allowedOrigins);
        hosts = new HostPolicy(pluginConfig.allowedHosts);
    }

    @Override
    public void onStart(JavalinState state) {
        state.routes.wsBeforeUpgrade(this::checkUpgrade);
        state.routes.before(this::applyCors);
        // Preflight requests need a route to land on; the before handler has already answered them.
        state.routes.addHttpHandler(HandlerType.OPTIONS, "/*", ctx -> ctx.status(HttpStatus.NO_CONTENT));
    }

    /** Tornado: {@code check_origin(origin)}; False there is a 403 here, before any WebSocket exists. */
    private void checkUpgrade(Context ctx) {
        ctx.header(Header.VARY, Header.ORIGIN);
        checkHostAndOrigin(ctx);
    }

    private void applyCors(Context ctx) {
        // Whether CORS headers come, or a 403, depends on the Origin: a cache must not hand one answer to another.
        ctx.header(Header.VARY, Header.ORIGIN);
        checkHostAndOrigin(ctx);
        String origin = ctx.header(Header.ORIGIN);
        if (!policy.needsCorsHeaders(origin, ctx.header(Header.HOST))) return;
        ctx.header(Header.ACCESS_CONTROL_ALLOW_ORIGIN, policy.allowsAny() ? "*" : origin);
        if (ctx.method() == HandlerType.OPTIONS) {
            ctx.header(Header.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
            ctx.header(Header.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
            ctx.header(Header.ACCESS_CONTROL_MAX_AGE, Integer.toString(pluginConfig.preflightMaxAgeSeconds));
        }
    }

    private void checkHostAndOrigin(Context ctx) {
        String host = ctx.header(Header.HOST);
        if (pluginConfig.checkHosts && !hosts.allows(host)) {
            String name = HostPolicy.hostname(host);
            throw new ForbiddenResponse("Host " + (host == null ? "(none)" : "'" + host + "'") + " is not a name of this "
                    + "server; reach it as localhost, or start Squall with --allowed-hosts "
                    + (name == null ? "<name>" : name) + " (comma-separated list)");
        }
        String origin = ctx.header(Header.ORIGIN);
        if (!policy.allows(origin, host)) {
            throw new ForbiddenResponse(refusal(origin));
        }
    }

    private static String refusal(String origin) {
        return "origin " + origin + " is not allowed; start Squall with --allowed-origins " + origin
                + " (comma-separated list) to allow it";
    }

    /** One line for the start-up log. */
    String describe() {
        return policy.describe() + (pluginConfig.checkHosts ? "; hosts: " + hosts.describe() : "");
    }
}
