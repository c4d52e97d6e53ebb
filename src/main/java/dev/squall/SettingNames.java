package dev.squall;

/**
 * How Squall's messages name a setting, so that refusals and validation errors tell a user what to change in their
 * own terms: an embedding app's developer sets fields of the plugin's config ({@code SquallPlugin.Config.allowedOrigins},
 * the default), while the users of an app that exposes Squall's settings its own way (the standalone server's flags,
 * such as {@code --allowed-origins}, or keys of a file) read those. Pass an implementation to
 * {@link SquallPlugin#SquallPlugin(java.util.function.Consumer, SettingNames)} and
 * {@link OriginPolicyPlugin#OriginPolicyPlugin(java.util.function.Consumer, SettingNames)}.
 *
 * <p>A {@code field} is the name of a field of {@link SquallPlugin.Config} (such as {@code maxQueueBytes}); a
 * {@code value} is text to put after the setting's name in advice.
 */
public abstract class SettingNames {

    /** For subclasses. */
    protected SettingNames() {
    }

    /** The fields of {@link SquallPlugin.Config}, as Java code names them: the default. */
    public static final SettingNames FIELDS = fieldsOf("SquallPlugin.Config");


    /** The fields of a plugin's config class, named as {@code configClass} (such as {@code SquallPlugin.Config}). */
    public static SettingNames fieldsOf(String configClass) {
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
