package dev.squall;

import dev.squall.internal.policy.HostPolicy;
import dev.squall.internal.policy.OriginPolicy;
import dev.squall.internal.web.RequestGuard;
import io.javalin.config.JavalinState;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpStatus;
import io.javalin.plugin.Plugin;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.function.Consumer;

/**
 * The origin policy as a Javalin plugin for every route of an app: the same allow-list guards WebSocket upgrades (Tornado's
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
        /** Origins ({@code scheme://host[:port]}) besides the page's own, or {@code "*"} alone for any; empty: same origin only. */
        public List<String> allowedOrigins = List.of();
        /** How long browsers may cache a preflight answer, in seconds. */
        public int preflightMaxAgeSeconds = 600;
        /** Whether every request's {@code Host} must be a loopback name or one of {@link #allowedHosts}; on when that is set. */
        public boolean checkHosts = false;
        /** Host names (any port) allowed besides loopback ones. */
        public List<String> allowedHosts = List.of();
    }

    private final SettingNames names;
    private @Nullable RequestGuard guard;

    /** A policy configured by {@code userConfig}, starting from the defaults documented on {@link Config}. */
    public OriginPolicyPlugin(Consumer<Config> userConfig) {
        this(userConfig, SettingNames.fieldsOf("OriginPolicyPlugin.Config"));
    }

    /** As {@link #OriginPolicyPlugin(Consumer)}, with errors naming the settings as {@code names} does (see {@link SettingNames}). */
    public OriginPolicyPlugin(Consumer<Config> userConfig, SettingNames names) {
        super(userConfig, new Config());
        this.names = names;
    }

    @Override
    public void onInitialize(JavalinState state) {
        List<String> origins = OriginPolicy.normalizeAll(pluginConfig.allowedOrigins, names.name("allowedOrigins"));
        List<String> hosts = HostPolicy.normalizeAll(pluginConfig.allowedHosts, names.name("allowedHosts"));
        guard = new RequestGuard(new OriginPolicy(origins), new HostPolicy(hosts), pluginConfig.checkHosts || !hosts.isEmpty(),
                pluginConfig.preflightMaxAgeSeconds, names);
    }

    @Override
    public void onStart(JavalinState state) {
        RequestGuard checks = java.util.Objects.requireNonNull(guard, "registered, so initialized");
        state.routes.wsBeforeUpgrade(checks::checkUpgrade);
        state.routes.before(checks::applyCors);
        // Preflight requests need a route to land on; the before handler has already answered them.
        state.routes.addHttpHandler(HandlerType.OPTIONS, "/*", ctx -> ctx.status(HttpStatus.NO_CONTENT));
    }

    /** The policy in one line, for a start-up log; empty before the plugin is registered. */
    public String describe() {
        return guard == null ? "" : guard.describe();
    }
}
