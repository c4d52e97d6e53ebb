package dev.squall.internal.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.channel.ChannelName;
import dev.squall.internal.hub.Subscribed;
import dev.squall.internal.protocol.Codec;
import dev.squall.internal.protocol.ErrorCode;
import dev.squall.internal.web.PublishDecoder;
import dev.squall.internal.web.RecoveryParams;
import dev.squall.server.SquallConfig;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * asyncapi.yaml describes squall.v1 exactly as built: its channels are the server's WebSocket routes, its error
 * codes the codec's, every command, reply and push has a message, and what the real server sends (and accepts)
 * validates against the message schemas, checked by a small JSON Schema checker of the keywords the document uses.
 */
@Timeout(60)
class AsyncApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode doc;

    private TestServer server;
    private final List<WsTestClient> clients = new ArrayList<>();
    /** A server that needs tokens, for the commands only such a server answers. */
    private io.javalin.@org.jspecify.annotations.Nullable Javalin secured;
    private static final String SECRET = "an-example-secret-of-at-least-32-bytes";

    @BeforeAll
    static void load() throws Exception {
        doc = new ObjectMapper(new YAMLFactory()).readTree(Path.of("asyncapi.yaml").toFile());
    }

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::close);
        if (server != null) server.close();
        if (secured != null) secured.stop();
    }

    /** A squall.v1 client of a server that needs tokens; it has not connected. */
    private WsTestClient securedV1() {
        if (secured == null) {
            dev.squall.SquallPlugin plugin = new dev.squall.SquallPlugin(cfg -> {
                cfg.drainWindow = java.time.Duration.ZERO;
                cfg.tokenHmacSecret = SECRET;
            });
            secured = io.javalin.Javalin.create(javalin -> javalin.registerPlugin(plugin)).start("127.0.0.1", 0);
        }
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + secured.port() + "/ws"), Map.of(), List.of("squall.v1"));
        clients.add(client);
        return client;
    }

    /** A token for user 42 signed with the secured server's secret: a connection token, or one channel's. */
    private static String token(long seconds, @org.jspecify.annotations.Nullable String channel) {
        com.nimbusds.jwt.JWTClaimsSet.Builder claims = dev.squall.support.Tokens.claims("42", java.time.Instant.now(), seconds);
        if (channel != null) claims.claim("channel", channel);
        else claims.claim("channels", List.of("*"));
        return dev.squall.support.Tokens.hmac(com.nimbusds.jose.JWSAlgorithm.HS256, SECRET, claims.build());
    }

    /** The example with its placeholder token replaced by a real one for the same use. */
    private static JsonNode withRealToken(JsonNode payload) {
        if (!payload.has("token")) return payload;
        com.fasterxml.jackson.databind.node.ObjectNode real = payload.deepCopy();
        real.put("token", token(3600, payload.path("type").asText().equals("refresh") && payload.has("channel")
                ? payload.path("channel").asText() : null));
        return real;
    }

    private WsTestClient v1(Map<String, String> headers) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://localhost:" + server.port() + "/ws"), headers, List.of("squall.v1"));
        clients.add(client);
        return client;
    }

    private static JsonNode read(String frame) {
        try {
            return JSON.readTree(frame);
        } catch (Exception e) {
            throw new AssertionError(frame, e);
        }
    }

    // ---- the document against the code

    @Test
    void the_document_is_asyncapi_3_and_its_channels_are_the_servers_websocket_routes() {
        assertThat(doc.path("asyncapi").asText()).startsWith("3.0");
        server = TestServer.start();
        Set<String> routes = server.app.endpoints().stream().filter(e -> e.startsWith("WS "))
                .map(e -> e.substring(3).replaceAll("<([^>]+)>", "{$1}")).collect(Collectors.toCollection(TreeSet::new));
        Set<String> addresses = new TreeSet<>();
        doc.path("channels").forEach(channel -> addresses.add(channel.path("address").asText()));
        assertThat(routes).as("guards the comparison").contains("/ws", "/ws/{channel}");
        assertThat(addresses).isEqualTo(routes);
    }

    @Test
    void every_channel_carries_every_message_and_every_reference_resolves() {
        Set<String> messages = names(doc.path("components").path("messages"));
        doc.path("channels").forEach(channel -> {
            Set<String> carried = new TreeSet<>();
            channel.path("messages").forEach(ref -> carried.add(resolve(ref).path("name").asText() + " " + ref.path("$ref").asText()));
            assertThat(carried).as(channel.path("address").asText()).hasSize(messages.size());
        });
        references(doc, "");
    }

    private static void references(JsonNode node, String where) {
        if (node.isObject()) {
            if (node.has("$ref")) assertThat(resolve(node).isMissingNode()).as("dangling $ref at " + where).isFalse();
            node.fields().forEachRemaining(field -> references(field.getValue(), where + "/" + field.getKey()));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) references(node.get(i), where + "/" + i);
        }
    }

    @Test
    void the_error_code_enum_is_the_codecs() {
        List<String> documented = new ArrayList<>();
        doc.at("/components/schemas/ErrorCode/enum").forEach(code -> documented.add(code.asText()));
        assertThat(documented).containsExactlyElementsOf(Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).toList());
        String description = doc.at("/components/schemas/ErrorCode/description").asText();
        for (ErrorCode code : ErrorCode.values()) assertThat(description).as("each code explained").contains("`" + code.wire() + "`");
    }

    @Test
    void every_command_reply_and_event_type_has_its_message() {
        Set<String> commands = new TreeSet<>();
        Set<String> replies = new TreeSet<>();
        Set<String> received = new TreeSet<>();
        doc.path("operations").forEach(operation -> {
            boolean send = operation.path("action").asText().equals("send");
            operation.path("messages").forEach(ref -> (send ? commands : received).add(typeOf(resolve(ref))));
            operation.path("reply").path("messages").forEach(ref -> replies.add(typeOf(resolve(ref))));
        });
        assertThat(commands).containsExactlyInAnyOrderElementsOf(Codec.COMMANDS);
        Set<String> expectedReplies = new TreeSet<>(Codec.REPLIES);
        expectedReplies.add("error");
        assertThat(replies).isEqualTo(expectedReplies);
        Set<String> expectedPushes = new TreeSet<>(Codec.EVENTS);
        expectedPushes.add("(publication)");
        assertThat(received).isEqualTo(expectedPushes);
    }

    /** The {@code type} const of a message's payload, or "(publication)" for the push that has none. */
    private static String typeOf(JsonNode message) {
        JsonNode type = resolve(message.path("payload")).path("properties").path("type").path("const");
        return type.isMissingNode() ? "(publication)" : type.asText();
    }

    @Test
    void every_example_validates_against_its_message() {
        doc.path("components").path("messages").fields().forEachRemaining(message -> {
            JsonNode examples = message.getValue().path("examples");
            assertThat(examples.size()).as(message.getKey() + " has examples").isPositive();
            examples.forEach(example -> assertThat(problems(message.getValue().path("payload"), example.path("payload"), ""))
                    .as(message.getKey() + " example " + example.path("name").asText()).isEmpty());
        });
    }

    @Test
    void the_checker_finds_what_is_wrong() {
        JsonNode subscribed = doc.at("/components/messages/Subscribed/payload");
        assertThat(problems(subscribed, read("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"a\",\"offset\":0}"), "")).isNotEmpty();
        assertThat(problems(subscribed, read("{\"id\":0,\"type\":\"subscribed\",\"channel\":\"a\",\"offset\":0,\"epoch\":\"e\"}"), "")).isNotEmpty();
        assertThat(problems(subscribed, read("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"a b\",\"offset\":0,\"epoch\":\"e\"}"), "")).isNotEmpty();
        assertThat(problems(subscribed, read("{\"id\":1,\"type\":\"pong\",\"channel\":\"a\",\"offset\":0,\"epoch\":\"e\"}"), "")).isNotEmpty();
        assertThat(problems(subscribed, read("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"a\",\"offset\":0,\"epoch\":\"e\",\"x\":1}"), "")).isNotEmpty();
        assertThat(problems(doc.at("/components/messages/Error/payload"),
                read("{\"id\":null,\"type\":\"error\",\"code\":\"oops\",\"message\":\"m\"}"), "")).isNotEmpty();
        assertThat(problems(subscribed, read("{\"id\":1,\"type\":\"subscribed\",\"channel\":\"a\",\"offset\":0,\"epoch\":\"e\"}"), "")).isEmpty();
    }

    // ---- the real server against the document

    @Test
    void the_command_examples_are_accepted_by_the_real_server_and_answered_as_documented() {
        server = TestServer.start();
        WsTestClient client = v1(Map.of());
        // connect and refresh are only answered by a server that needs tokens; their examples' placeholder tokens
        // are replaced by real ones, and refresh comes once the example's private channel is subscribed.
        WsTestClient tokened = securedV1();
        List<String> needTokens = List.of("connect", "refresh");
        List<JsonNode> operations = new ArrayList<>();
        doc.path("operations").forEach(operations::add);
        operations.sort(java.util.Comparator.comparing(operation -> typeOf(resolve(operation.path("messages").get(0))).equals("refresh")));
        for (JsonNode operation : operations) {
            if (!operation.path("action").asText().equals("send")) continue;
            List<JsonNode> replies = new ArrayList<>();
            operation.path("reply").path("messages").forEach(ref -> {
                if (!typeOf(resolve(ref)).equals("error")) replies.add(resolve(ref).path("payload"));
            });
            operation.path("messages").forEach(ref -> resolve(ref).path("examples").forEach(example -> {
                JsonNode payload = example.path("payload");
                WsTestClient to = client;
                if (needTokens.contains(payload.path("type").asText())) {
                    to = tokened;
                    payload = withRealToken(payload);
                    if (payload.has("channel")) {
                        tokened.send("{\"id\":99,\"type\":\"subscribe\",\"channel\":\"" + payload.path("channel").asText() + "\"}");
                        assertThat(nextReply(tokened).path("type").asText()).isEqualTo("subscribed");
                    }
                }
                to.send(payload.toString());
                JsonNode reply = nextReply(to);
                assertThat(reply.path("type").asText()).as(example + " -> " + reply).isNotEqualTo("error");
                assertThat(reply.path("id")).isEqualTo(payload.path("id"));
                assertThat(replies).as(example + " -> " + reply).anySatisfy(schema -> assertThat(problems(schema, reply, "")).isEmpty());
            }));
        }
    }

    /** The next reply, past publications the client's own publishes sent it. */
    private static JsonNode nextReply(WsTestClient client) {
        while (true) {
            JsonNode frame = read(client.takeText());
            if (frame.has("id")) return frame;
        }
    }

    @Test
    void every_frame_the_real_server_sends_validates_against_its_message() throws Exception {
        server = TestServer.start(TestServer.config().allowedOrigins(List.of("*")).maxPublishBytes(1000L).historySize(10)
                .maxChannelsPerConnection(4).maxChannels(4).namespaces(Map.of("chat", new SquallConfig.Namespace(null, null, true))).build());
        WsTestClient alice = v1(Map.of());
        WsTestClient bob = v1(Map.of());
        WsTestClient crossSite = v1(Map.of("Origin", "https://elsewhere.example"));
        List<String> frames = new ArrayList<>();

        frames.add(call(alice, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"chat:room\"}"));
        String epoch = read(frames.get(0)).path("epoch").asText();
        frames.add(call(bob, "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"chat:room\"}"));
        frames.add(alice.takeText());                                                       // join
        frames.add(call(bob, "{\"id\":2,\"type\":\"publish\",\"channel\":\"chat:room\",\"data\":{\"text\":\"hi\"},\"idempotency_key\":\"k\"}"));
        frames.add(alice.takeText());                                                       // publication
        frames.add(bob.takeText());
        frames.add(call(bob, "{\"id\":3,\"type\":\"publish\",\"channel\":\"chat:room\",\"data\":{\"text\":\"hi\"},\"idempotency_key\":\"k\"}"));
        server.post("/receive?channel=chat:room", "application/octet-stream", new byte[]{1, 2, 3});
        frames.add(alice.takeText());                                                       // binary publication
        frames.add(bob.takeText());
        frames.add(call(bob, "{\"id\":4,\"type\":\"unsubscribe\",\"channel\":\"chat:room\"}"));
        frames.add(alice.takeText());                                                       // leave
        frames.add(call(bob, "{\"id\":5,\"type\":\"subscribe\",\"channel\":\"chat:room\",\"since\":1,\"epoch\":\"" + epoch + "\"}"));
        frames.add(bob.takeText());                                                         // the replay
        frames.add(alice.takeText());                                                       // join again
        frames.add(call(bob, "{\"id\":6,\"type\":\"subscribe\",\"channel\":\"news\",\"since\":\"latest\"}"));
        frames.add(call(bob, "{\"id\":7,\"type\":\"presence\",\"channel\":\"chat:room\"}"));
        frames.add(call(bob, "{\"id\":8,\"type\":\"ping\"}"));
        frames.add(call(bob, "{\"id\":9,\"type\":\"subscribe\",\"channel\":\"old\",\"since\":0,\"epoch\":\"gone\"}"));

        Map<String, String> errors = new LinkedHashMap<>();
        errors.put("{", "bad_json");
        errors.put("{\"id\":10}", "bad_command");
        errors.put("{\"id\":11,\"type\":\"dance\"}", "unknown_type");
        errors.put("{\"id\":12,\"type\":\"subscribe\",\"channel\":\"a b\"}", "bad_channel");
        errors.put("{\"id\":13,\"type\":\"subscribe\",\"channel\":\"news\"}", "already_subscribed");
        errors.put("{\"id\":14,\"type\":\"unsubscribe\",\"channel\":\"never\"}", "not_subscribed");
        errors.put("{\"id\":15,\"type\":\"subscribe\",\"channel\":\"one-more\"}", "too_many_channels");
        errors.put("{\"id\":16,\"type\":\"publish\",\"channel\":\"a\",\"data\":\"" + "x".repeat(1001) + "\"}", "too_large");
        errors.put("{\"id\":17,\"type\":\"publish\",\"channel\":\"a\",\"data\":{\"squall\":1}}", "reserved");
        bob.send("{\"id\":18,\"type\":\"subscribe\",\"channel\":\"fourth\"}");
        frames.add(bob.takeText());
        Set<String> codes = new TreeSet<>();
        errors.forEach((command, code) -> {
            String frame = call(bob, command);
            assertThat(read(frame).path("code").asText()).as(command).isEqualTo(code);
            frames.add(frame);
            codes.add(code);
        });
        String channelLimit = call(alice, "{\"id\":2,\"type\":\"subscribe\",\"channel\":\"fifth\"}");   // the node holds 4
        assertThat(read(channelLimit).path("code").asText()).isEqualTo("channel_limit");
        frames.add(channelLimit);
        codes.add("channel_limit");
        String forbidden = call(crossSite, "{\"id\":1,\"type\":\"publish\",\"channel\":\"a\",\"data\":1}");
        assertThat(read(forbidden).path("code").asText()).isEqualTo("forbidden");
        frames.add(forbidden);
        crossSite.sendBinary(new byte[]{1});
        frames.add(crossSite.takeText());
        Codec codec = new Codec(ChannelName::problem, RecoveryParams.MAX_EPOCH_LENGTH, PublishDecoder.MAX_IDEMPOTENCY_KEY);
        WsTestClient tokened = securedV1();
        String unauthorized = call(tokened, "{\"id\":1,\"type\":\"ping\"}");
        assertThat(read(unauthorized).path("code").asText()).isEqualTo("unauthorized");
        frames.add(unauthorized);
        WsTestClient late = securedV1();
        String expired = call(late, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + token(-60, null) + "\"}");
        assertThat(read(expired).path("code").asText()).isEqualTo("token_expired");
        frames.add(expired);
        WsTestClient connecting = securedV1();
        frames.add(call(connecting, "{\"id\":1,\"type\":\"connect\",\"token\":\"" + token(3600, null) + "\"}"));
        frames.add(call(connecting, "{\"id\":2,\"type\":\"refresh\",\"token\":\"" + token(3600, null) + "\"}"));
        codes.add("unauthorized");
        codes.add("token_expired");
        frames.add(text(codec.dropped(3)));                                                   // what drop-oldest sends
        frames.add(text(codec.reset(new dev.squall.internal.hub.Subscribed("news",                     // what a lost gap (Redis) sends
                new dev.squall.internal.broker.StreamPosition(41, epoch), 41, false))));
        frames.add(text(codec.presenceEvent(true, "chat:room",                                // an identified user's join
                new dev.squall.internal.broker.Member("c-1", "42", "{\"name\":\"Ada\"}"))));

        Set<String> kinds = new TreeSet<>();
        for (String frame : frames) {
            JsonNode value = read(frame);
            String message = messageFor(value);
            kinds.add(message);
            assertThat(problems(doc.at("/components/messages/" + message + "/payload"), value, ""))
                    .as(message + ": " + frame).isEmpty();
        }
        Set<String> sent = new TreeSet<>(names(doc.path("components").path("messages")));
        sent.removeAll(Set.of("Connect", "Refresh", "Subscribe", "Unsubscribe", "Publish", "Presence", "Ping"));
        assertThat(kinds).as("every message a server sends was seen").isEqualTo(sent);
        codes.add("forbidden");
        codes.add("bad_json");
        assertThat(codes).as("every code but unavailable and internal was produced")
                .containsAll(Arrays.stream(ErrorCode.values()).map(ErrorCode::wire)
                        .filter(code -> !code.equals("unavailable") && !code.equals("internal")).toList());
    }

    private static String text(Message message) {
        return message.textPayload();
    }

    private static String call(WsTestClient client, String command) {
        client.send(command);
        return client.takeText();
    }

    /** How a client tells frames apart: id -> reply (by type), else type -> event, else a publication. */
    private static String messageFor(JsonNode frame) {
        String type = frame.path("type").asText();
        if (frame.has("id")) {
            return switch (type) {
                case "connected" -> "Connected";
                case "refreshed" -> "Refreshed";
                case "subscribed" -> "Subscribed";
                case "unsubscribed" -> "Unsubscribed";
                case "published" -> "Published";
                case "presence" -> "PresenceReply";
                case "pong" -> "Pong";
                case "error" -> "Error";
                default -> throw new AssertionError("a reply of no documented type: " + frame);
            };
        }
        if (frame.has("type")) return Character.toUpperCase(type.charAt(0)) + type.substring(1);
        return "Publication";
    }

    private static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The node a {@code $ref} points to, following references to references (a channel's message to the component). */
    private static JsonNode resolve(JsonNode node) {
        JsonNode resolved = node;
        for (int hops = 0; resolved.has("$ref"); hops++) {
            if (hops > 5) throw new AssertionError("a $ref loop at " + node);
            resolved = doc.at(resolved.get("$ref").asText().substring(1));
        }
        return resolved;
    }

    // ---- a JSON Schema checker for the keywords asyncapi.yaml uses, and no others

    private static final Set<String> KEYWORDS = Set.of("$ref", "type", "required", "properties", "additionalProperties",
            "const", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "oneOf", "description", "title");

    /** What is wrong with {@code value} under {@code schema}; empty when it validates. */
    static List<String> problems(JsonNode given, JsonNode value, String at) {
        JsonNode schema = resolve(given);
        List<String> problems = new ArrayList<>();
        for (Iterator<String> keys = schema.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!KEYWORDS.contains(key)) throw new AssertionError("the checker does not know '" + key + "' (at " + at + ")");
        }
        JsonNode type = schema.get("type");
        if (type != null) {
            List<String> types = new ArrayList<>();
            if (type.isArray()) type.forEach(t -> types.add(t.asText()));
            else types.add(type.asText());
            if (types.stream().noneMatch(t -> hasType(value, t))) problems.add(at + ": not " + types + ": " + value);
        }
        if (schema.has("const") && !schema.get("const").equals(value)) problems.add(at + ": not " + schema.get("const"));
        if (schema.has("enum")) {
            boolean listed = false;
            for (JsonNode option : schema.get("enum")) listed |= option.equals(value);
            if (!listed) problems.add(at + ": " + value + " is not one of " + schema.get("enum"));
        }
        if (value.isNumber()) {
            if (schema.has("minimum") && value.asDouble() < schema.get("minimum").asDouble()) problems.add(at + ": below minimum");
            if (schema.has("maximum") && value.decimalValue().compareTo(schema.get("maximum").decimalValue()) > 0) {
                problems.add(at + ": above maximum");
            }
        }
        if (value.isTextual()) {
            String text = value.asText();
            if (schema.has("minLength") && text.length() < schema.get("minLength").asInt()) problems.add(at + ": too short");
            if (schema.has("maxLength") && text.length() > schema.get("maxLength").asInt()) problems.add(at + ": too long");
            if (schema.has("pattern") && !Pattern.compile(schema.get("pattern").asText()).matcher(text).find()) {
                problems.add(at + ": does not match " + schema.get("pattern").asText());
            }
        }
        if (schema.has("oneOf")) {
            int matching = 0;
            for (JsonNode option : schema.get("oneOf")) if (problems(option, value, at).isEmpty()) matching++;
            if (matching != 1) problems.add(at + ": matches " + matching + " of oneOf, not exactly one: " + value);
        }
        if (value.isObject()) {
            for (JsonNode required : schema.path("required")) {
                if (!value.has(required.asText())) problems.add(at + ": '" + required.asText() + "' is missing");
            }
            JsonNode properties = schema.path("properties");
            value.fields().forEachRemaining(field -> {
                JsonNode property = properties.get(field.getKey());
                if (property != null) {
                    problems.addAll(problems(property, field.getValue(), at + "/" + field.getKey()));
                } else if (schema.path("additionalProperties").isBoolean() && !schema.path("additionalProperties").asBoolean()) {
                    problems.add(at + ": '" + field.getKey() + "' is not a documented field");
                }
            });
        }
        return problems;
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "integer" -> value.isIntegralNumber();
            case "number" -> value.isNumber();
            case "boolean" -> value.isBoolean();
            case "null" -> value.isNull();
            default -> throw new AssertionError("unknown type " + type);
        };
    }
}
