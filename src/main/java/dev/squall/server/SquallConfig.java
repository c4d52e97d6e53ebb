package dev.squall.server;

import dev.squall.PublishAccess;
import dev.squall.ReadAccess;
import dev.squall.SlowConsumerPolicy;
import dev.squall.SquallPlugin;
import dev.squall.SubscribeAccess;
import org.jspecify.annotations.Nullable;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of a Squall node, validated once. Flags and environment variables are read in {@link Main}
 * only; everything else receives this record.
 *
 * @param allowedOrigins empty: same-origin only (Tornado's default {@code check_origin}); {@code ["*"]}: any
 * @param publishToken   empty: {@code /receive} only from loopback; present: bearer token required from everyone
 * @param publicDir      empty: {@code ./public} when it exists, else the copy packaged in the jar
 * @param allowedHosts   {@code Host} names besides loopback ones that name this server (lower-case, no port)
 * @param maxPublishBytes largest message (and {@code POST /receive} body) a publish may carry
 * @param drainWindow    how long a stopping node answers 503 on {@code /ready} and {@code /receive} with its
 *                       connectors still open, before it closes them (0 to 3600 seconds)
 * @param historySize    publications each channel keeps for recovery (0: none)
 * @param historyTtl     how long each of them is kept
 * @param maxRecovery    the most one reconnecting client gets replayed
 * @param maxChannelsPerConnection the most channels one {@code squall.v1} connection may be subscribed to
 * @param redis          the Redis several nodes share channels through ({@code redis://host:port}), or several
 *                       separated by commas that the channels are spread over; empty: in memory
 * @param tokenHmacSecret the secret of HS256/384/512 tokens; never shown ({@link #toString()} neither)
 * @param tokenPublicKey a PEM file with the RSA or EC public key tokens are signed for
 * @param tokenJwksUrl   a JWKS endpoint with the keys tokens are signed with
 * @param tokenAudience  what a token's {@code aud} must contain
 * @param tokenIssuer    what a token's {@code iss} must be
 * @param tokenCookie    a cookie a connection token may come in
 * @param connectProxy   the app's endpoint that says who a client without a token is
 * @param subscribeProxy the app's endpoint that decides private subscriptions
 * @param proxyHeaders   the request headers the connect proxy is sent
 * @param proxyTimeout   how long a proxy may take
 * @param connectTimeout how long a squall.v1 connection without a token has to send {@code connect}
 * @param maxMessagesPerSecond  messages one WebSocket client may send per second, in bursts of as many (0: no limit)
 * @param maxConnections        connections (WebSockets and SSE streams) the node holds at once (0: no limit)
 * @param maxConnectionsPerIp   connections one client address may hold (0: no limit)
 * @param maxConnectionsPerUser connections one user may hold; anonymous ones never count (0: no limit)
 * @param handshakeTimeout      how long a client has to send a request's head (0: off)
 * @param maxChannels           channels with subscribers the node holds at once (0: no limit)
 */
public record SquallConfig(
        String host,
        int port,
        List<String> allowedOrigins,
        Duration pingInterval,
        Duration pingTimeout,
        int maxMessageBytes,
        Optional<String> publishToken,
        Optional<Path> publicDir,
        long maxQueueBytes,
        int maxQueueMessages,
        SlowConsumerPolicy slowConsumerPolicy,
        Duration stopTimeout,
        Duration writeTimeout,
        List<String> allowedHosts,
        long maxPublishBytes,
        Duration drainWindow,
        int historySize,
        Duration historyTtl,
        int maxRecovery,
        Map<String, Namespace> namespaces,
        int maxChannelsPerConnection,
        Optional<String> redis,
        Optional<String> tokenHmacSecret,
        Optional<Path> tokenPublicKey,
        Optional<String> tokenJwksUrl,
        Optional<String> tokenAudience,
        Optional<String> tokenIssuer,
        Optional<String> tokenCookie,
        Optional<String> connectProxy,
        Optional<String> subscribeProxy,
        List<String> proxyHeaders,
        Duration proxyTimeout,
        Duration connectTimeout,
        int maxMessagesPerSecond,
        int maxConnections,
        int maxConnectionsPerIp,
        int maxConnectionsPerUser,
        Duration handshakeTimeout,
        int maxChannels) {

    /**
     * One namespace's settings from the config file; null: the node's.
     *
     * @param presence  whether {@code squall.v1} subscribers of its channels get join and leave events
     * @param subscribe who may subscribe to its channels; null: the server's rule
     * @param publish   who may publish to them from a connection; null: the server's rule
     * @param read      who may read their history and presence; null: the server's rule
     */
    public record Namespace(@Nullable Integer historySize, @Nullable Duration historyTtl, boolean presence,
                            @Nullable SubscribeAccess subscribe, @Nullable PublishAccess publish, @Nullable ReadAccess read) {
        /** History settings only, presence off. */
        public Namespace(@Nullable Integer historySize, @Nullable Duration historyTtl) {
            this(historySize, historyTtl, false);
        }

        /** History and presence settings, the server's access rules. */
        public Namespace(@Nullable Integer historySize, @Nullable Duration historyTtl, boolean presence) {
            this(historySize, historyTtl, presence, null, null, null);
        }
    }

    /** Bytes that {@code new message :} adds to an echoed message; the echo must fit a client's queue. */
    static final int ECHO_PREFIX_BYTES = "new message :".length();

    static final Duration MAX_DRAIN = Duration.ofHours(1);
    static final Duration MAX_HANDSHAKE_TIMEOUT = Duration.ofHours(1);

    public SquallConfig {
        require(host != null && !host.isBlank(), "--host must not be empty");
        require(port >= 0 && port <= 65535, "--port must be between 0 and 65535, got " + port);
        allowedOrigins = entries(allowedOrigins);            // checked by the plugins, whose errors name the flag
        require(!pingInterval.isNegative(), "--ping-interval must be 0 (off) or more seconds");
        require(!pingTimeout.isNegative() && !pingTimeout.isZero(), "--ping-timeout must be at least 1 second");
        require(maxMessageBytes >= 1, "--max-message-bytes must be at least 1, got " + maxMessageBytes);
        require(maxQueueMessages >= 1, "--max-queue-messages must be at least 1, got " + maxQueueMessages);
        require(maxQueueBytes >= 1024, "--max-queue-bytes must be at least 1024, got " + maxQueueBytes);
        require(maxMessageBytes + (long) ECHO_PREFIX_BYTES <= maxQueueBytes,
                "--max-message-bytes (" + maxMessageBytes + ") plus the echo prefix must fit in --max-queue-bytes ("
                        + maxQueueBytes + "): raise --max-queue-bytes or lower --max-message-bytes");
        publishToken = publishToken.filter(t -> !t.isEmpty());
        publishToken.ifPresent(t -> require(t.length() >= 16,
                "--publish-token must be at least 16 characters (try: openssl rand -hex 16)"));
        publicDir.ifPresent(dir -> require(Files.isDirectory(dir),
                "--public " + dir + " is not a directory: create it or leave the flag out to use the bundled client"));
        require(slowConsumerPolicy != null, "--slow-consumer must be given");
        require(!stopTimeout.isNegative(), "stop timeout must not be negative");
        require(!writeTimeout.isNegative(), "--write-timeout must be 0 (off) or more seconds");
        allowedHosts = entries(allowedHosts);
        // Two of the largest publishes must fit one client's queue, or back-to-back publishes close every reader.
        require(maxPublishBytes >= 1 && maxPublishBytes <= maxQueueBytes / 2,
                "--max-publish-bytes (" + maxPublishBytes + ") must be between 1 and half of --max-queue-bytes ("
                        + maxQueueBytes + " / 2 = " + maxQueueBytes / 2 + ") so a client's queue holds two of the largest "
                        + "publishes: lower --max-publish-bytes or raise --max-queue-bytes");
        require(historySize >= 0 && historySize <= SquallPlugin.Config.MAX_HISTORY,
                "--history-size must be from 0 (off) to " + SquallPlugin.Config.MAX_HISTORY + ", got " + historySize);
        require(!historyTtl.isNegative() && !historyTtl.isZero(), "--history-ttl must be at least 1 second");
        require(maxRecovery >= 0 && maxRecovery <= SquallPlugin.Config.MAX_HISTORY,
                "--max-recovery must be from 0 to " + SquallPlugin.Config.MAX_HISTORY + ", got " + maxRecovery);
        namespaces = Map.copyOf(namespaces);
        require(maxChannelsPerConnection >= 1 && maxChannelsPerConnection <= SquallPlugin.Config.MAX_CHANNELS_PER_CONNECTION,
                "--max-channels-per-connection must be from 1 to " + SquallPlugin.Config.MAX_CHANNELS_PER_CONNECTION + ", got "
                        + maxChannelsPerConnection);
        require(!drainWindow.isNegative() && drainWindow.compareTo(MAX_DRAIN) <= 0,
                "--drain-seconds must be a whole number of seconds from 0 to 3600, got " + drainWindow.toSeconds());
        require(maxMessagesPerSecond >= 0, "--max-messages-per-second must be 0 (no limit) or more, got " + maxMessagesPerSecond);
        require(maxConnections >= 0, "--max-connections must be 0 (no limit) or more, got " + maxConnections);
        require(maxConnectionsPerIp >= 0, "--max-connections-per-ip must be 0 (no limit) or more, got " + maxConnectionsPerIp);
        require(maxConnectionsPerUser >= 0, "--max-connections-per-user must be 0 (no limit) or more, got " + maxConnectionsPerUser);
        require(!handshakeTimeout.isNegative() && handshakeTimeout.compareTo(MAX_HANDSHAKE_TIMEOUT) <= 0,
                "--handshake-timeout must be from 0 (off) to 3600 seconds, got " + handshakeTimeout.toSeconds());
        require(maxChannels >= 0, "--max-channels must be 0 (no limit) or more, got " + maxChannels);
    }

    /** Every setting, the secrets ({@code publishToken}, {@code tokenHmacSecret}) as {@code ***} when set. */
    @Override
    public String toString() {
        java.util.StringJoiner shown = new java.util.StringJoiner(", ", "SquallConfig[", "]");
        for (java.lang.reflect.RecordComponent component : SquallConfig.class.getRecordComponents()) {
            Object value;
            try {
                value = component.getAccessor().invoke(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            boolean secret = SECRETS.contains(component.getName()) && value instanceof Optional<?> given && given.isPresent();
            shown.add(component.getName() + "=" + (secret ? "***" : value));
        }
        return shown.toString();
    }

    private static final java.util.Set<String> SECRETS = java.util.Set.of("publishToken", "tokenHmacSecret");

    /** Settings for tests and embedding: port 0 (any free port), everything else as the command line defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** True when {@code --allowed-origins '*'} was given. */
    public boolean allowsAnyOrigin() {
        return allowedOrigins.equals(List.of("*"));
    }

    /** True when server pings (and so dead-peer detection) are on. */
    public boolean heartbeatEnabled() {
        return !pingInterval.isZero();
    }

    /** A builder that starts from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** True when {@code --host} is a loopback address: then every request's {@code Host} is checked. */
    public boolean boundToLoopback() {
        try {
            return InetAddress.getByName(host.trim()).isLoopbackAddress();
        } catch (UnknownHostException notAnAddress) {
            return false;                                   // nothing to bind to: the start refuses it anyway
        }
    }

    /** A list flag's entries as given, blank ones dropped ({@code --allowed-origins ''}, a trailing comma). */
    private static List<String> entries(List<String> given) {
        return given.stream().map(String::trim).filter(entry -> !entry.isEmpty()).toList();
    }

    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalArgumentException(message);
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private String host = "0.0.0.0";
        private int port = 0;
        private List<String> allowedOrigins = List.of();
        private Duration pingInterval = Duration.ofSeconds(25);
        private Duration pingTimeout = Duration.ofSeconds(10);
        private int maxMessageBytes = 65536;
        private Optional<String> publishToken = Optional.empty();
        private Optional<Path> publicDir = Optional.empty();
        private long maxQueueBytes = 1024 * 1024;
        private int maxQueueMessages = 1000;
        private SlowConsumerPolicy slowConsumerPolicy = SlowConsumerPolicy.CLOSE;
        private Duration stopTimeout = Duration.ofSeconds(5);
        private Duration writeTimeout = Duration.ofSeconds(30);
        private List<String> allowedHosts = List.of();
        private @Nullable Long maxPublishBytes;
        private Duration drainWindow = Duration.ofSeconds(3);
        private int historySize = 100;
        private Duration historyTtl = Duration.ofSeconds(300);
        private int maxRecovery = 300;
        private Map<String, Namespace> namespaces = Map.of();
        private int maxChannelsPerConnection = 128;
        private Optional<String> redis = Optional.empty();
        private Optional<String> tokenHmacSecret = Optional.empty();
        private Optional<Path> tokenPublicKey = Optional.empty();
        private Optional<String> tokenJwksUrl = Optional.empty();
        private Optional<String> tokenAudience = Optional.empty();
        private Optional<String> tokenIssuer = Optional.empty();
        private Optional<String> tokenCookie = Optional.empty();
        private Optional<String> connectProxy = Optional.empty();
        private Optional<String> subscribeProxy = Optional.empty();
        private List<String> proxyHeaders = List.of();
        private Duration proxyTimeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private int maxMessagesPerSecond = 200;
        private int maxConnections = 10_000;
        private int maxConnectionsPerIp = 0;
        private int maxConnectionsPerUser = 100;
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private int maxChannels = 100_000;

        private Builder() {
        }

        private Builder(SquallConfig c) {
            host = c.host;
            port = c.port;
            allowedOrigins = c.allowedOrigins;
            pingInterval = c.pingInterval;
            pingTimeout = c.pingTimeout;
            maxMessageBytes = c.maxMessageBytes;
            publishToken = c.publishToken;
            publicDir = c.publicDir;
            maxQueueBytes = c.maxQueueBytes;
            maxQueueMessages = c.maxQueueMessages;
            slowConsumerPolicy = c.slowConsumerPolicy;
            stopTimeout = c.stopTimeout;
            writeTimeout = c.writeTimeout;
            allowedHosts = c.allowedHosts;
            maxPublishBytes = c.maxPublishBytes;
            drainWindow = c.drainWindow;
            historySize = c.historySize;
            historyTtl = c.historyTtl;
            maxRecovery = c.maxRecovery;
            namespaces = c.namespaces;
            maxChannelsPerConnection = c.maxChannelsPerConnection;
            redis = c.redis;
            tokenHmacSecret = c.tokenHmacSecret;
            tokenPublicKey = c.tokenPublicKey;
            tokenJwksUrl = c.tokenJwksUrl;
            tokenAudience = c.tokenAudience;
            tokenIssuer = c.tokenIssuer;
            tokenCookie = c.tokenCookie;
            connectProxy = c.connectProxy;
            subscribeProxy = c.subscribeProxy;
            proxyHeaders = c.proxyHeaders;
            proxyTimeout = c.proxyTimeout;
            connectTimeout = c.connectTimeout;
            maxMessagesPerSecond = c.maxMessagesPerSecond;
            maxConnections = c.maxConnections;
            maxConnectionsPerIp = c.maxConnectionsPerIp;
            maxConnectionsPerUser = c.maxConnectionsPerUser;
            handshakeTimeout = c.handshakeTimeout;
            maxChannels = c.maxChannels;
        }

        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder allowedOrigins(List<String> v) { allowedOrigins = List.copyOf(v); return this; }
        public Builder pingInterval(Duration v) { pingInterval = v; return this; }
        public Builder pingTimeout(Duration v) { pingTimeout = v; return this; }
        public Builder maxMessageBytes(int v) { maxMessageBytes = v; return this; }
        public Builder publishToken(@Nullable String v) { publishToken = Optional.ofNullable(v); return this; }
        public Builder publicDir(@Nullable Path v) { publicDir = Optional.ofNullable(v); return this; }
        public Builder maxQueueBytes(long v) { maxQueueBytes = v; return this; }
        public Builder maxQueueMessages(int v) { maxQueueMessages = v; return this; }
        public Builder slowConsumerPolicy(SlowConsumerPolicy v) { slowConsumerPolicy = v; return this; }
        public Builder stopTimeout(Duration v) { stopTimeout = v; return this; }
        public Builder writeTimeout(Duration v) { writeTimeout = v; return this; }
        public Builder allowedHosts(List<String> v) { allowedHosts = List.copyOf(v); return this; }
        /** Null: a quarter of {@code maxQueueBytes}, whatever that ends up being. */
        public Builder maxPublishBytes(@Nullable Long v) { maxPublishBytes = v; return this; }
        public Builder drainWindow(Duration v) { drainWindow = v; return this; }
        public Builder historySize(int v) { historySize = v; return this; }
        public Builder historyTtl(Duration v) { historyTtl = v; return this; }
        public Builder maxRecovery(int v) { maxRecovery = v; return this; }
        public Builder namespaces(Map<String, Namespace> v) { namespaces = Map.copyOf(v); return this; }
        public Builder maxChannelsPerConnection(int v) { maxChannelsPerConnection = v; return this; }
        public Builder redis(@Nullable String v) { redis = Optional.ofNullable(v); return this; }
        public Builder tokenHmacSecret(@Nullable String v) { tokenHmacSecret = Optional.ofNullable(v); return this; }
        public Builder tokenPublicKey(@Nullable Path v) { tokenPublicKey = Optional.ofNullable(v); return this; }
        public Builder tokenJwksUrl(@Nullable String v) { tokenJwksUrl = Optional.ofNullable(v); return this; }
        public Builder tokenAudience(@Nullable String v) { tokenAudience = Optional.ofNullable(v); return this; }
        public Builder tokenIssuer(@Nullable String v) { tokenIssuer = Optional.ofNullable(v); return this; }
        public Builder tokenCookie(@Nullable String v) { tokenCookie = Optional.ofNullable(v); return this; }
        public Builder connectProxy(@Nullable String v) { connectProxy = Optional.ofNullable(v); return this; }
        public Builder subscribeProxy(@Nullable String v) { subscribeProxy = Optional.ofNullable(v); return this; }
        public Builder proxyHeaders(List<String> v) { proxyHeaders = List.copyOf(v); return this; }
        public Builder proxyTimeout(Duration v) { proxyTimeout = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder maxMessagesPerSecond(int v) { maxMessagesPerSecond = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder maxConnectionsPerIp(int v) { maxConnectionsPerIp = v; return this; }
        public Builder maxConnectionsPerUser(int v) { maxConnectionsPerUser = v; return this; }
        public Builder handshakeTimeout(Duration v) { handshakeTimeout = v; return this; }
        public Builder maxChannels(int v) { maxChannels = v; return this; }

        public SquallConfig build() {
            return new SquallConfig(host, port, allowedOrigins, pingInterval, pingTimeout, maxMessageBytes,
                    publishToken, publicDir, maxQueueBytes, maxQueueMessages, slowConsumerPolicy, stopTimeout, writeTimeout,
                    allowedHosts, maxPublishBytes != null ? maxPublishBytes : maxQueueBytes / 4, drainWindow,
                    historySize, historyTtl, maxRecovery, namespaces, maxChannelsPerConnection, redis, tokenHmacSecret,
                    tokenPublicKey, tokenJwksUrl, tokenAudience, tokenIssuer, tokenCookie, connectProxy, subscribeProxy,
                    proxyHeaders, proxyTimeout, connectTimeout,
                    maxMessagesPerSecond, maxConnections, maxConnectionsPerIp, maxConnectionsPerUser, handshakeTimeout,
                    maxChannels);
        }
    }
}
