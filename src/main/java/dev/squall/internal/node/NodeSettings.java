package dev.squall.internal.node;

import dev.squall.SettingNames;
import dev.squall.SlowConsumerPolicy;
import dev.squall.SquallPlugin;
import dev.squall.internal.auth.AuthSettings;
import dev.squall.internal.auth.ChannelRules;
import dev.squall.internal.auth.TokenSettings;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.redis.RedisBrokers;
import dev.squall.internal.broker.redis.RedisShards;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.policy.HostPolicy;
import dev.squall.internal.policy.OriginPolicy;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link SquallPlugin.Config} read once and checked: what a node runs with. Every error names the setting as its
 * user writes it ({@link SettingNames}) and says what is allowed.
 */
public record NodeSettings(
        Duration pingInterval,
        Duration pingTimeout,
        Duration writeTimeout,
        int maxMessageBytes,
        long maxQueueBytes,
        int maxQueueMessages,
        long maxPublishBytes,
        SlowConsumerPolicy slowConsumerPolicy,
        List<String> allowedOrigins,
        List<String> allowedHosts,
        boolean checkHosts,
        Optional<String> publishToken,
        @Nullable String publishPath,
        @Nullable String metricsPath,
        @Nullable String healthPath,
        @Nullable String readyPath,
        int historySize,
        Duration historyTtl,
        int maxRecovery,
        Duration idempotencyWindow,
        @Nullable String publishApiPath,
        @Nullable String channelsPath,
        @Nullable String ssePath,
        @Nullable String clientPath,
        @Nullable String disconnectPath,
        Duration drainWindow,
        Duration stopTimeout,
        Map<String, RouteHandlers> routes,
        Map<String, PublishOptions> namespaces,
        int maxChannelsPerConnection,
        Set<String> presenceNamespaces,
        List<String> redis,
        AuthSettings auth,
        int maxMessagesPerSecond,
        int maxConnections,
        int maxConnectionsPerIp,
        int maxConnectionsPerUser,
        Duration handshakeTimeout,
        int maxChannels,
        SettingNames names) {

    static final Duration MAX_DRAIN = Duration.ofHours(1);
    static final Duration MAX_HANDSHAKE_TIMEOUT = Duration.ofHours(1);
    public static final int MAX_HISTORY = SquallPlugin.Config.MAX_HISTORY;
    static final String DEFAULT_WS_PATH = "/ws";
    public static final int MAX_CHANNELS_PER_CONNECTION = SquallPlugin.Config.MAX_CHANNELS_PER_CONNECTION;
    static final String SSE_CHANNEL_PARAM = "{channel}";
    /** What a header or cookie name may be: an HTTP token (RFC 9110 5.6.2). */
    private static final String HTTP_TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
    /** A path parameter in Javalin's syntax: {@code {name}}, or {@code <name>} that may hold slashes. */
    private static final java.util.regex.Pattern PATH_PARAM = java.util.regex.Pattern.compile("[{<]([^{}<>/]+)[}>]");

    public static NodeSettings from(SquallPlugin.Config c, Declared declared, SettingNames names) {
        Check check = new Check(names);
        check.require(c.pingInterval != null && !c.pingInterval.isNegative(), "pingInterval", "must be 0 (off) or more seconds");
        check.require(c.pingTimeout != null && !c.pingTimeout.isNegative() && !c.pingTimeout.isZero(), "pingTimeout", "must be more than zero");
        check.require(c.writeTimeout != null && !c.writeTimeout.isNegative(), "writeTimeout", "must be 0 (off) or more seconds");
        check.require(c.maxMessageBytes >= 1, "maxMessageBytes", "must be at least 1, got " + c.maxMessageBytes);
        check.require(c.maxQueueMessages >= 1, "maxQueueMessages", "must be at least 1, got " + c.maxQueueMessages);
        check.require(c.maxQueueBytes >= 1024, "maxQueueBytes", "must be at least 1024, got " + c.maxQueueBytes);
        long maxPublishBytes = c.maxPublishBytes != null ? c.maxPublishBytes : c.maxQueueBytes / 4;
        // Two of the largest publishes must fit one client's queue, or back-to-back publishes close every reader.
        check.require(maxPublishBytes >= 1 && maxPublishBytes <= c.maxQueueBytes / 2, "maxPublishBytes",
                "(" + maxPublishBytes + ") must be between 1 and half of " + names.name("maxQueueBytes") + " ("
                        + c.maxQueueBytes + " / 2 = " + c.maxQueueBytes / 2 + ") so a client's queue holds two of the largest "
                        + "publishes: lower " + names.name("maxPublishBytes") + " or raise " + names.name("maxQueueBytes"));
        check.require(c.slowConsumerPolicy != null, "slowConsumerPolicy", "must be CLOSE or DROP_OLDEST");
        Optional<String> token = Optional.ofNullable(c.publishToken).filter(t -> !t.isEmpty());
        token.ifPresent(t -> check.require(t.length() >= 16, "publishToken", "must be at least 16 characters (try: openssl rand -hex 16)"));
        check.require(c.drainWindow != null && !c.drainWindow.isNegative() && c.drainWindow.compareTo(MAX_DRAIN) <= 0,
                "drainWindow", "must be from 0 to 3600 seconds, got " + c.drainWindow);
        check.require(c.stopTimeout != null && !c.stopTimeout.isNegative(), "stopTimeout", "must not be negative");
        check.require(c.historySize >= 0 && c.historySize <= MAX_HISTORY, "historySize",
                "must be from 0 (off) to " + MAX_HISTORY + ", got " + c.historySize);
        check.require(c.historyTtl != null && !c.historyTtl.isNegative() && !c.historyTtl.isZero(), "historyTtl", "must be at least 1 second");
        check.require(c.maxRecovery >= 0 && c.maxRecovery <= MAX_HISTORY, "maxRecovery",
                "must be from 0 to " + MAX_HISTORY + ", got " + c.maxRecovery);
        check.require(c.maxChannelsPerConnection >= 1 && c.maxChannelsPerConnection <= MAX_CHANNELS_PER_CONNECTION,
                "maxChannelsPerConnection", "must be from 1 to " + MAX_CHANNELS_PER_CONNECTION + ", got " + c.maxChannelsPerConnection);
        List<String> redis = c.redis == null ? List.of() : check.redis(c.redis);
        check.require(c.idempotencyWindow != null && !c.idempotencyWindow.isNegative(), "idempotencyWindow", "must not be negative");
        check.require(c.maxMessagesPerSecond >= 0, "maxMessagesPerSecond", "must be 0 (no limit) or more, got " + c.maxMessagesPerSecond);
        check.require(c.maxConnections >= 0, "maxConnections", "must be 0 (no limit) or more, got " + c.maxConnections);
        check.require(c.maxConnectionsPerIp >= 0, "maxConnectionsPerIp", "must be 0 (no limit) or more, got " + c.maxConnectionsPerIp);
        check.require(c.maxConnectionsPerUser >= 0, "maxConnectionsPerUser", "must be 0 (no limit) or more, got " + c.maxConnectionsPerUser);
        check.require(c.handshakeTimeout != null && !c.handshakeTimeout.isNegative() && c.handshakeTimeout.compareTo(MAX_HANDSHAKE_TIMEOUT) <= 0,
                "handshakeTimeout", "must be from 0 (off) to 3600 seconds, got " + c.handshakeTimeout);
        check.require(c.maxChannels >= 0, "maxChannels", "must be 0 (no limit) or more, got " + c.maxChannels);
        List<String> origins = OriginPolicy.normalizeAll(check.list(c.allowedOrigins, "allowedOrigins"), names.name("allowedOrigins"));
        List<String> hosts = HostPolicy.normalizeAll(check.list(c.allowedHosts, "allowedHosts"), names.name("allowedHosts"));

        Map<String, RouteHandlers> routes = new LinkedHashMap<>(declared.routes());
        if (!declared.duplicateRoutes().isEmpty()) {
            throw new IllegalArgumentException("SquallPlugin: two WebSocket routes on " + declared.duplicateRoutes().get(0)
                    + "; declare each path once with ws(path, handlers)");
        }
        if (routes.isEmpty()) routes.put(DEFAULT_WS_PATH, RouteHandlers.PUSH_ONLY);
        if (!declared.duplicateNamespaces().isEmpty()) {
            throw new IllegalArgumentException("SquallPlugin: namespace '" + declared.duplicateNamespaces().get(0)
                    + "' is declared twice; declare each namespace once with namespace(name, options)");
        }
        Map<String, PublishOptions> namespaces = new LinkedHashMap<>();
        declared.namespaces().forEach((name, options) -> namespaces.put(name, check.namespace(name, options, c)));
        Set<String> presence = new java.util.HashSet<>();
        declared.namespaces().forEach((name, options) -> {
            if (options.presence) presence.add(name);
        });
        List<String> paths = new ArrayList<>();
        for (String path : routes.keySet()) check.path(path, "ws(path, ...)", paths);
        routes.forEach(Check::channelFrom);
        check.path(c.publishPath, "publishPath", paths);
        check.path(c.metricsPath, "metricsPath", paths);
        check.path(c.healthPath, "healthPath", paths);
        check.path(c.readyPath, "readyPath", paths);
        check.path(c.publishApiPath, "publishApiPath", paths);
        check.path(c.channelsPath, "channelsPath", paths);
        check.path(c.ssePath, "ssePath", paths);
        check.path(c.clientPath, "clientPath", paths);
        check.path(c.disconnectPath, "disconnectPath", paths);
        check.require(c.ssePath == null || c.ssePath.contains(SSE_CHANNEL_PARAM), "ssePath",
                "must have the path parameter " + SSE_CHANNEL_PARAM + " that names the channel (such as /sse/{channel}), got '" + c.ssePath + "'");

        return new NodeSettings(c.pingInterval, c.pingTimeout, c.writeTimeout, c.maxMessageBytes, c.maxQueueBytes,
                c.maxQueueMessages, maxPublishBytes, c.slowConsumerPolicy, origins, hosts, c.checkHosts || !hosts.isEmpty(),
                token, c.publishPath, c.metricsPath, c.healthPath, c.readyPath, c.historySize, c.historyTtl, c.maxRecovery,
                c.idempotencyWindow, c.publishApiPath, c.channelsPath, c.ssePath, c.clientPath, c.disconnectPath, c.drainWindow, c.stopTimeout,
                Map.copyOf(routes), Map.copyOf(namespaces), c.maxChannelsPerConnection, Set.copyOf(presence), redis,
                check.auth(c, declared),
                c.maxMessagesPerSecond, c.maxConnections, c.maxConnectionsPerIp, c.maxConnectionsPerUser, c.handshakeTimeout,
                c.maxChannels, names);
    }

    /**
     * The Redis URIs of a {@code redis} setting: one, or several separated by commas, spaces around them ignored
     * (a comma in a password is written {@code %2C}).
     */
    public static List<String> redisUris(String setting) {
        return java.util.Arrays.stream(setting.split(",", -1)).map(String::strip).toList();
    }

    /** What is wrong with a Redis URI, or null: {@code redis://} or {@code rediss://}, a host, a port if any from 1 to 65535, a database number if any. */
    static @Nullable String redisProblem(String uri) {
        java.net.URI parsed;
        try {
            parsed = new java.net.URI(uri);
        } catch (java.net.URISyntaxException e) {
            return "must be a redis:// URI";
        }
        if (!"redis".equals(parsed.getScheme()) && !"rediss".equals(parsed.getScheme())) return "must be a redis:// or rediss:// URI";
        if (parsed.getHost() == null || parsed.getHost().isEmpty()) return "must name a host";
        if (parsed.getPort() == 0 || parsed.getPort() > 65535 || parsed.getPort() < -1) return "must have a port from 1 to 65535";
        String path = parsed.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/\\d{1,2}")) return "may only name a database number after the port";
        if (parsed.getRawQuery() != null || parsed.getRawFragment() != null) return "must have no query or fragment";
        return null;
    }

    public boolean heartbeatEnabled() {
        return !pingInterval.isZero();
    }

    /** Whether subscribers of {@code channel} hear who joins and leaves it (its namespace's {@code presence}). */
    public boolean presence(String channel) {
        return !presenceNamespaces.isEmpty() && presenceNamespaces.contains(ChannelName.namespace(channel));
    }

    /** How a publish to {@code channel} is kept: its namespace's history options, else the node's. */
    PublishOptions publishOptions(String channel, @Nullable String idempotencyKey) {
        PublishOptions namespace = namespaces.get(ChannelName.namespace(channel));
        PublishOptions kept = namespace != null ? namespace : new PublishOptions(historySize, historyTtl, null, Duration.ZERO);
        return kept.withIdempotencyKey(idempotencyKey, idempotencyWindow);
    }

    /** Validation that names the setting in its user's terms. */
    private record Check(SettingNames names) {
        void require(boolean condition, String field, String rule) {
            if (!condition) throw refusal(field, rule);
        }

        IllegalArgumentException refusal(String field, String rule) {
            return new IllegalArgumentException(names.name(field) + " " + rule);
        }

        List<String> list(@Nullable List<String> values, String field) {
            if (values == null) throw refusal(field, "must be a list (empty for none)");
            for (String value : values) require(value != null, field, "must not contain null");
            return values;
        }

        /**
         * The {@code redis} setting's URIs: each a good Redis URI, none empty, no Redis twice; first of all, Lettuce
         * on the classpath (an optional dependency of the library), or one sentence that says which to add.
         */
        List<String> redis(String setting) {
            require(RedisBrokers.clientPresent(), "redis", "is set, but the Redis client is not on the classpath: add the dependency "
                    + RedisBrokers.client() + " to the app (docs/embedding.md, \"Redis\")");
            List<String> uris = redisUris(setting);
            String example = " (such as redis://127.0.0.1:6379)";
            if (uris.size() == 1) {
                String problem = redisProblem(uris.get(0));
                require(problem == null, "redis", problem + example + shownIfSafe(setting));
                return uris;
            }
            // A comma inside a password splits it: with credentials in the setting, quote none of its pieces.
            boolean credentials = setting.contains("@");
            String hint = credentials ? "; a comma in a password is written %2C" : "";
            Map<String, Integer> entries = new java.util.HashMap<>();
            for (int i = 0; i < uris.size(); i++) {
                String uri = uris.get(i);
                String entry = "entry " + (i + 1) + " of " + uris.size();
                require(!uri.isEmpty(), "redis", "has an empty " + entry + (credentials ? "" : " in '" + setting + "'")
                        + "; separate the URIs with single commas" + hint);
                String problem = redisProblem(uri);
                require(problem == null, "redis", (credentials ? "" : "'" + uri + "' ") + "(" + entry + ") " + problem + example + hint);
                Integer first = entries.putIfAbsent(RedisShards.address(uri), i + 1);
                require(first == null, "redis", "names the same Redis (" + RedisShards.address(uri) + ") twice, as entries "
                        + first + " and " + (i + 1) + "; list each Redis once");
            }
            return uris;
        }

        /**
         * {@code , got 'URI'} with its password as {@code ***}, or, when the URI is too broken to tell where its
         * password ends (a '/' or a second '@' in it, unencoded), a hint instead of any of it.
         */
        private static String shownIfSafe(String uri) {
            String shown = RedisBrokers.shown(uri);
            int at = shown.indexOf('@');
            boolean safe = at < 0 || at == shown.lastIndexOf('@') && shown.startsWith(":***@", at - 4);
            return safe ? ", got '" + shown + "'" : "; in a password, '/' is written %2F, '@' %40 and ',' %2C";
        }

        /** A namespace's options, checked and completed from the node's. */
        /**
         * Who may connect and what they may do. Secured (every connection needs an identity) as soon as anything can
         * tell who a client is; an authorizer alone could only ever refuse, since no one would have an identity.
         */
        AuthSettings auth(SquallPlugin.Config c, Declared declared) {
            TokenSettings tokens = new TokenSettings(c.tokenHmacSecret, c.tokenPublicKey, c.tokenJwksUrl, c.tokenAudience, c.tokenIssuer);
            boolean identifies = tokens.anyKey() || declared.authenticator() != null || c.connectProxy != null;
            require(identifies || (declared.authorizer() == null && c.subscribeProxy == null),
                    declared.authorizer() != null ? "authorize" : "subscribeProxy",
                    "decides what a user may do, so something must say who the user is: set a token key, "
                            + names.name("connectProxy") + " or authenticate(...)");
            require(c.connectProxy == null || declared.authenticator() == null, "connectProxy",
                    "stands in for authenticate(...): set one of them");
            require(c.subscribeProxy == null || declared.authorizer() == null, "subscribeProxy",
                    "stands in for authorize(...): set one of them");
            require(c.proxyHeaders != null && c.proxyHeaders.stream().allMatch(h -> h != null && h.matches(HTTP_TOKEN)),
                    "proxyHeaders", "must be header names, got " + c.proxyHeaders);
            require(c.connectTimeout != null && !c.connectTimeout.isNegative() && !c.connectTimeout.isZero(), "connectTimeout",
                    "must be more than zero");
            require(c.hookTimeout != null && !c.hookTimeout.isNegative() && !c.hookTimeout.isZero(), "hookTimeout",
                    "must be more than zero");
            require(c.tokenCookie == null || tokens.anyKey(), "tokenCookie",
                    "names the cookie tokens come in, so it needs a token key to check them: set "
                            + names.name("tokenHmacSecret") + ", " + names.name("tokenPublicKey") + " or " + names.name("tokenJwksUrl"));
            require(c.tokenCookie == null || c.tokenCookie.matches(HTTP_TOKEN), "tokenCookie",
                    "must be a cookie name (letters, digits and !#$%&'*+.^_`|~-), got '" + c.tokenCookie + "'");
            ChannelRules.Rule server = ChannelRules.override(ChannelRules.defaults(identifies), c.subscribe, c.publish, c.read);
            Map<String, ChannelRules.Rule> rules = new LinkedHashMap<>();
            declared.namespaces().forEach((name, options) ->
                    rules.put(name, ChannelRules.override(server, options.subscribe, options.publish, options.read)));
            return new AuthSettings(identifies, new ChannelRules(server, rules), tokens, c.tokenCookie, c.connectTimeout,
                    c.hookTimeout, declared.authenticator(), declared.authorizer(), c.connectProxy, c.subscribeProxy,
                    List.copyOf(c.proxyHeaders));
        }

        PublishOptions namespace(String name, SquallPlugin.Namespace options, SquallPlugin.Config c) {
            String problem = ChannelName.problem(name);
            if (problem != null || name.contains(":")) {
                throw new IllegalArgumentException(names.namespace(name) + ": '" + name
                        + "' is not a namespace name: use 1-255 letters, digits and - _ . @ = , (no ':')");
            }
            int size = options.historySize != null ? options.historySize : c.historySize;
            Duration ttl = options.historyTtl != null ? options.historyTtl : c.historyTtl;
            if (size < 0 || size > MAX_HISTORY) {
                throw new IllegalArgumentException(names.inNamespace(name, "historySize") + " must be from 0 (off) to " + MAX_HISTORY + ", got " + size);
            }
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException(names.inNamespace(name, "historyTtl") + " must be at least 1 second");
            }
            return new PublishOptions(size, ttl, null, Duration.ZERO);
        }

        /**
         * A route's {@code channelFrom} names one of its path parameters ({@code {room}}, or {@code <room>} that takes
         * slashes too): otherwise every connect would fail, each with a 500.
         */
        static void channelFrom(String path, RouteHandlers route) {
            String param = route.channelParam();
            if (param == null) return;
            List<String> params = new ArrayList<>();
            java.util.regex.Matcher found = PATH_PARAM.matcher(path);
            while (found.find()) params.add(found.group(1));
            if (params.contains(param)) return;
            String example = (path.endsWith("/") ? path : path + "/") + "{" + param + "}";
            throw new IllegalArgumentException("SquallPlugin.Config.ws(\"" + path + "\", ...): channelFrom(\"" + param
                    + "\") names a path parameter the path does not have; put {" + param + "} in the path (such as "
                    + example + ")" + (params.isEmpty() ? "" : ", or take the channel from one it has: channelFrom(\""
                    + params.get(0) + "\")"));
        }

        /** A mount point: absolute, and not one another Squall route already has. */
        void path(@Nullable String path, String setting, List<String> taken) {
            if (path == null) return;
            String name = setting.startsWith("ws(") ? "SquallPlugin.Config." + setting : names.name(setting);
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException(name + " must be a path starting with '/', got '" + path + "'");
            }
            if (taken.contains(path)) {
                throw new IllegalArgumentException(name + ": " + path + " is already one of Squall's routes; give each its own path");
            }
            taken.add(path);
        }
    }

    /** Where channels live, for {@code redis} (the URIs): in this process, or through which Redis, passwords hidden. */
    public static String describeChannels(List<String> redis) {
        if (redis.isEmpty()) return "in this process";
        List<String> shown = redis.stream().map(RedisBrokers::shown).toList();
        if (shown.size() == 1) return "shared with other nodes through Redis at " + shown.get(0);
        return "shared with other nodes through " + shown.size() + " Redis instances, each channel on one of them: "
                + String.join(", ", shown);
    }
}
