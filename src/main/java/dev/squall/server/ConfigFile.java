package dev.squall.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.squall.PublishAccess;
import dev.squall.ReadAccess;
import dev.squall.SubscribeAccess;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code --config squall.yaml}: the flags' settings in a file, under the same names without {@code --}, plus
 * {@code namespaces:}. A flag on the command line (or its environment variable) overrides the file. Anything the
 * file says that is not a setting is an error naming it, never ignored: a typo must not silently leave a default,
 * and neither may a key given twice.
 *
 * <pre>
 * port: 8000
 * allowed-origins: [https://app.example]
 * history-size: 100
 * namespaces:
 *   chat:
 *     history-size: 500
 *     history-ttl: 600
 *     presence: true
 *   private:
 *     subscribe: token      # public | token
 *     publish: subscribers  # none | subscribers
 *     read: subscribers     # public | subscribers
 * </pre>
 */
final class ConfigFile {

    private static final Set<String> NAMESPACE_KEYS = Set.of("history-size", "history-ttl", "presence", "subscribe", "publish", "read");
    private static final String NAMESPACE_KEY_LIST = "history-size, history-ttl, presence, subscribe, publish and read";
    private static final YAMLMapper YAML = new YAMLMapper();

    final Path path;
    /** Flag (with {@code --}) to the value the file gives it, as text. */
    final Map<String, String> values;
    final Map<String, SquallConfig.Namespace> namespaces;

    private ConfigFile(Path path, Map<String, String> values, Map<String, SquallConfig.Namespace> namespaces) {
        this.path = path;
        this.values = values;
        this.namespaces = namespaces;
    }

    static final ConfigFile NONE = new ConfigFile(Path.of(""), Map.of(), Map.of());

    /**
     * Reads and checks the file against the flags the command line has.
     *
     * @throws IllegalArgumentException naming the file, the key and what is allowed
     */
    static ConfigFile read(Path path, Set<String> flags) {
        String name = path.toString();
        @Nullable JsonNode root;
        try (JsonParser parser = YAML.createParser(Files.readAllBytes(path))) {
            root = parser.nextToken() == null ? null : node(parser, name, "");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--config " + name + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("--config " + name + ": not readable YAML" + whereAndWhy(e));
        }
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, SquallConfig.Namespace> namespaces = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) return new ConfigFile(path, values, namespaces);
        if (!root.isObject()) throw new IllegalArgumentException(name + ": must be a mapping of settings (key: value)");
        Set<String> keys = new TreeSet<>();
        for (String flag : flags) keys.add(flag.substring(2));
        keys.removeAll(Set.of("config", "help", "version"));
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey();
            if (key.equals("namespaces")) {
                readNamespaces(name, entry.getValue(), namespaces);
            } else if (keys.contains(key)) {
                values.put("--" + key, scalar(name + ": " + key, entry.getValue()));
            } else {
                throw new IllegalArgumentException(name + ": unknown key '" + key + "'; the keys are the flags without "
                        + "'--' (" + String.join(", ", keys) + ") and namespaces");
            }
        }
        return new ConfigFile(path, values, namespaces);
    }

    /**
     * The value at the parser's token, as a tree. A key given twice in one mapping is refused: YAML says keys are
     * unique, and a parser that lets the last one win would hide the mistake (two values, one silently ignored).
     */
    private static JsonNode node(JsonParser parser, String file, String at) throws IOException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) return NullNode.getInstance();
        if (parser.currentToken() != JsonToken.START_OBJECT) return YAML.readTree(parser);
        ObjectNode mapping = YAML.createObjectNode();
        Map<String, Integer> lines = new HashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            int line = parser.currentTokenLocation().getLineNr();
            Integer first = lines.putIfAbsent(key, line);
            if (first != null) {
                throw new IllegalArgumentException(file + ": " + at + key + " is given twice, on "
                        + (first == line ? "line " + line : "lines " + first + " and " + line) + "; keep one");
            }
            parser.nextToken();
            mapping.set(key, node(parser, file, at + key + "."));
        }
        return mapping;
    }

    /**
     * {@code  at line 3, column 13: what is wrong (while parsing what, from line 2, column 18)}: the YAML parser's
     * own message spreads that over several lines with a snippet, and an error here is one line.
     */
    private static String whereAndWhy(IOException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
                Mark problem = marked.getProblemMark();
                Mark context = marked.getContextMark();
                return " at line " + (problem.getLine() + 1) + ", column " + (problem.getColumn() + 1) + ": "
                        + marked.getProblem()
                        + (marked.getContext() == null ? "" : " (" + marked.getContext()
                        + (context == null ? "" : " from line " + (context.getLine() + 1) + ", column " + (context.getColumn() + 1)) + ")");
            }
        }
        if (e instanceof JsonProcessingException json && json.getLocation() != null) {
            JsonLocation at = json.getLocation();
            return " at line " + at.getLineNr() + ", column " + at.getColumnNr() + ": " + firstLine(json.getOriginalMessage());
        }
        return ": " + firstLine(e.getMessage());
    }

    private static void readNamespaces(String file, JsonNode node, Map<String, SquallConfig.Namespace> into) {
        if (!node.isObject()) throw new IllegalArgumentException(file + ": namespaces must map names to their settings");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> namespace = it.next();
            String where = file + ": namespaces." + namespace.getKey();
            JsonNode settings = namespace.getValue();
            if (!settings.isObject()) throw new IllegalArgumentException(where + " must be a mapping (" + NAMESPACE_KEY_LIST + ")");
            Integer size = null;
            Duration ttl = null;
            boolean presence = false;
            SubscribeAccess subscribe = null;
            PublishAccess publish = null;
            ReadAccess read = null;
            for (Iterator<Map.Entry<String, JsonNode>> keys = settings.fields(); keys.hasNext(); ) {
                Map.Entry<String, JsonNode> setting = keys.next();
                String key = setting.getKey();
                if (!NAMESPACE_KEYS.contains(key)) {
                    throw new IllegalArgumentException(where + ": unknown key '" + key + "'; a namespace takes " + NAMESPACE_KEY_LIST);
                }
                if (key.equals("presence")) {
                    if (!setting.getValue().isBoolean()) {
                        throw new IllegalArgumentException(where + ".presence must be true or false, got " + shown(setting.getValue()));
                    }
                    presence = setting.getValue().asBoolean();
                    continue;
                }
                switch (key) {
                    case "subscribe" -> subscribe = choice(where + ".subscribe", setting.getValue(), SubscribeAccess.class);
                    case "publish" -> publish = choice(where + ".publish", setting.getValue(), PublishAccess.class);
                    case "read" -> read = choice(where + ".read", setting.getValue(), ReadAccess.class);
                    default -> { }
                }
                if (key.equals("subscribe") || key.equals("publish") || key.equals("read")) continue;
                long value = wholeNumber(where + "." + key, setting.getValue());
                if (key.equals("history-size")) {
                    if (value > Integer.MAX_VALUE) throw new IllegalArgumentException(where + ".history-size is too large, got " + value);
                    size = (int) value;
                } else {
                    ttl = Duration.ofSeconds(value);
                }
            }
            into.put(namespace.getKey(), new SquallConfig.Namespace(size, ttl, presence, subscribe, publish, read));
        }
    }

    /** One of an enum's constants, written in lower case ({@code token}, {@code subscribers}). */
    private static <E extends Enum<E>> E choice(String where, JsonNode value, Class<E> type) {
        List<String> names = new java.util.ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            String name = constant.name().toLowerCase(java.util.Locale.ROOT);
            if (value.isTextual() && value.asText().equals(name)) return constant;
            names.add(name);
        }
        throw new IllegalArgumentException(where + " must be one of " + String.join(", ", names) + ", got " + shown(value));
    }

    private static long wholeNumber(String where, JsonNode value) {
        if (!value.isIntegralNumber() || value.asLong() < 0) {
            throw new IllegalArgumentException(where + " must be a whole number from 0, got " + shown(value));
        }
        return value.asLong();
    }

    /** A setting's value as the flag would take it: a list of scalars becomes comma-separated. */
    private static String scalar(String where, JsonNode value) {
        if (value.isNull()) throw new IllegalArgumentException(where + " has no value; remove the key or give one");
        if (value.isValueNode()) return value.asText();
        if (value.isArray()) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : value) {
                if (!item.isValueNode() || item.isNull()) throw new IllegalArgumentException(where + " must be a list of plain values");
                items.add(item.asText());
            }
            return String.join(",", items);
        }
        throw new IllegalArgumentException(where + " must be a single value (or a list for the *-origins and *-hosts keys and redis)");
    }

    /** How an error names a setting that came from this file: {@code squall.yaml: port}. */
    @Nullable String nameOf(String flag) {
        return values.containsKey(flag) ? path + ": " + flag.substring(2) : null;
    }

    private static String shown(JsonNode value) {
        String text = value.isTextual() ? "'" + value.asText() + "'" : value.toString();
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    private static String firstLine(@Nullable String message) {
        if (message == null) return "unknown error";
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }
}
