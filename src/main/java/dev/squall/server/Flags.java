package dev.squall.server;

import dev.squall.SettingNames;

import java.util.Map;

/**
 * The standalone server's names for Squall's settings: its flags ({@code --max-queue-bytes}), and the config file's
 * namespaces as the file writes them ({@code namespaces.chat}). Given to the plugins, so that their errors name
 * what a user of the server sets.
 */
final class Flags {

    private Flags() {
    }

    /** The command line's flags. */
    static final SettingNames NAMES = new SettingNames() {
        @Override
        public String name(String field) {
            return FLAG_OF.getOrDefault(field, field);   // the mount points have no flag: App sets them
        }

        @Override
        public String howToList(String field, String value) {
            return "start Squall with " + name(field) + " " + value + " (comma-separated list)";
        }

        @Override
        public String howToSet(String field, String value) {
            String variable = field.equals("publishToken") ? " (or SQUALL_PUBLISH_TOKEN)"
                    : field.equals("tokenHmacSecret") ? " (or SQUALL_TOKEN_HMAC_SECRET)" : "";
            return "start Squall with " + name(field) + " " + value + variable;
        }

        @Override
        public String howToSkipTheDrain() {
            return " (signal again to stop now)";
        }

        @Override
        public String namespace(String namespace) {
            return "namespaces." + namespace;                            // as the config file writes it
        }

        @Override
        public String inNamespace(String namespace, String field) {
            return namespace(namespace) + "." + name(field).substring(2);
        }
    };

    private static final Map<String, String> FLAG_OF = Map.ofEntries(
            Map.entry("pingInterval", "--ping-interval"),
            Map.entry("pingTimeout", "--ping-timeout"),
            Map.entry("writeTimeout", "--write-timeout"),
            Map.entry("maxMessageBytes", "--max-message-bytes"),
            Map.entry("maxQueueBytes", "--max-queue-bytes"),
            Map.entry("maxQueueMessages", "--max-queue-messages"),
            Map.entry("maxPublishBytes", "--max-publish-bytes"),
            Map.entry("slowConsumerPolicy", "--slow-consumer"),
            Map.entry("allowedOrigins", "--allowed-origins"),
            Map.entry("allowedHosts", "--allowed-hosts"),
            Map.entry("publishToken", "--publish-token"),
            Map.entry("drainWindow", "--drain-seconds"),
            Map.entry("historySize", "--history-size"),
            Map.entry("historyTtl", "--history-ttl"),
            Map.entry("maxRecovery", "--max-recovery"),
            Map.entry("maxChannelsPerConnection", "--max-channels-per-connection"),
            Map.entry("redis", "--redis"),
            Map.entry("tokenHmacSecret", "--token-hmac-secret"),
            Map.entry("tokenPublicKey", "--token-public-key"),
            Map.entry("tokenJwksUrl", "--token-jwks-url"),
            Map.entry("tokenAudience", "--token-audience"),
            Map.entry("tokenIssuer", "--token-issuer"),
            Map.entry("tokenCookie", "--token-cookie"),
            Map.entry("connectProxy", "--connect-proxy"),
            Map.entry("subscribeProxy", "--subscribe-proxy"),
            Map.entry("proxyHeaders", "--proxy-headers"),
            Map.entry("hookTimeout", "--proxy-timeout"),
            Map.entry("connectTimeout", "--connect-timeout"),
            Map.entry("maxMessagesPerSecond", "--max-messages-per-second"),
            Map.entry("maxConnections", "--max-connections"),
            Map.entry("maxConnectionsPerIp", "--max-connections-per-ip"),
            Map.entry("maxConnectionsPerUser", "--max-connections-per-user"),
            Map.entry("handshakeTimeout", "--handshake-timeout"),
            Map.entry("maxChannels", "--max-channels"));
}
