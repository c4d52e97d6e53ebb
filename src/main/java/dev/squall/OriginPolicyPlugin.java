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
 */
public final class OriginPolicyPlugin extends Plugin<OriginPolicyPlugin.Config> {

    /** The plugin's settings. */
    public static final class Config {
        /** Normalized origins ({@code scheme://host[:port]}), empty for same-origin only, or {@code ["*"]}. */
        public List<String> allowedOrigins = List.of();
        /** How long browsers may cache a preflight answer, in seconds. */
        public int preflightMaxAgeSeconds = 600;
    }

    private OriginPolicy policy;

    public OriginPolicyPlugin(Consumer<Config> userConfig) {
        super(userConfig, new Config());
    }

    @Override
    public void onInitialize(JavalinState state) {
        if (pluginConfig.allowedOrigins.contains("*") && pluginConfig.allowedOrigins.size() > 1) {
            throw new IllegalArgumentException("OriginPolicyPlugin: '*' allows every origin and cannot be combined with others");
        }
        policy = new OriginPolicy(pluginConfig.allowedOrigins);
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
        String origin = ctx.header(Header.ORIGIN);
        if (!policy.allows(origin, ctx.header(Header.HOST))) {
            throw new ForbiddenResponse(refusal(origin));
        }
    }

    private void applyCors(Context ctx) {
        String origin = ctx.header(Header.ORIGIN);
        String host = ctx.header(Header.HOST);
        if (!policy.allows(origin, host)) {
            throw new ForbiddenResponse(refusal(origin));
        }
        if (!policy.needsCorsHeaders(origin, host)) return;
        ctx.header(Header.ACCESS_CONTROL_ALLOW_ORIGIN, policy.allowsAny() ? "*" : origin);
        ctx.header(Header.VARY, Header.ORIGIN);
        if (ctx.method() == HandlerType.OPTIONS) {
            ctx.header(Header.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
            ctx.header(Header.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
            ctx.header(Header.ACCESS_CONTROL_MAX_AGE, Integer.toString(pluginConfig.preflightMaxAgeSeconds));
        }
    }

    private static String refusal(String origin) {
        return "origin " + origin + " is not allowed; start Squall with --allowed-origins " + origin
                + " (comma-separated list) to allow it";
    }

    /** One line for the start-up log. */
    String describe() {
        return policy.describe();
    }
}
