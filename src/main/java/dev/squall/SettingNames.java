package dev.squall;

import java.util.Map;

/**
 * How messages name a setting: the standalone server's users set flags ({@code --allowed-origins}), an embedding
 * app sets fields of a plugin's config ({@code SquallPlugin.Config.allowedOrigins}). Refusals and validation
 * errors tell each of them what to change in their own terms.
 */
public abstract class SettingNames {

    /** The command line's flags. */
    public static final SettingNames FLAGS = new SettingNames() {
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
            return "start Squall with " + name(field) + " " + value + (field.equals("publishToken") ? " (or SQUALL_PUBLISH_TOKEN)" : "");
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

    /** The fields of {@link SquallPlugin.Config}. */
    static final SettingNames FIELDS = fieldsOf("SquallPlugin.Config");

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
            Map.entry("redis", "--redis"));

    /** The fields of a plugin's config class, named as {@code SquallPlugin.Config}. */
    static SettingNames fieldsOf(String configClass) {
        return new SettingNames() {
            @Override
            public String name(String field) {
                return configClass + "." + field;
            }

            @Override
            public String howToList(String field, String value) {
                return "add " + value + " to " + name(field);
            }

            @Override
            public String howToSet(String field, String value) {
                return "set " + name(field) + " to " + value;
            }

            @Override
            public String howToSkipTheDrain() {
                return "";
            }

            @Override
            public String namespace(String namespace) {
                return configClass + ".namespace(\"" + namespace + "\")";
            }

            @Override
            public String inNamespace(String namespace, String field) {
                return namespace(namespace) + "." + field;
            }
        };
    }

    /** The setting as its users write it: {@code --max-queue-bytes} or {@code SquallPlugin.Config.maxQueueBytes}. */
    public abstract String name(String field);

    /** Advice to add {@code value} to a list setting. */
    public abstract String howToList(String field, String value);

    /** Advice to set a setting to {@code value}. */
    public abstract String howToSet(String field, String value);

    /** How a stop that is draining is made to go on at once, if its user has a way (the CLI: a second signal). */
    public abstract String howToSkipTheDrain();

    /** One namespace's settings: {@code namespaces.chat} or {@code SquallPlugin.Config.namespace("chat")}. */
    public abstract String namespace(String namespace);

    /** A setting of one namespace: {@code namespaces.chat.history-size} or {@code ...namespace("chat").historySize}. */
    public abstract String inNamespace(String namespace, String field);
}
