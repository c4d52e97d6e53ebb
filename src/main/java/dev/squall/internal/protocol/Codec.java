package dev.squall.internal.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.hub.Recovery;
import dev.squall.internal.hub.Subscribed;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The one place that reads and writes {@code squall.v1} frames (documented in {@code asyncapi.yaml}). Every frame
 * is one JSON object in a text frame. A frame with an {@code id} is a command, and its reply carries the same id;
 * a push has none: with a {@code type} it is an event ({@code join}, {@code leave}, {@code dropped}), without one a
 * publication ({@code {"channel","offset","data"}}).
 *
 * <p>Decoding checks the shape of a command completely, so what comes out is well formed: ids, field types,
 * unknown fields, channel names and recovery positions. Whether the command is allowed (bounds, publish policy,
 * sizes) is for the connection that runs it. Thread-safe: one codec serves every connection of a node.
 */
public final class Codec {

    /** The largest id: 2^53 - 1, the largest integer a JavaScript number holds exactly. */
    public static final long MAX_ID = 9_007_199_254_740_991L;

    /** The command types, as the {@code type} field names them. */
    public static final List<String> COMMANDS = List.of("connect", "refresh", "subscribe", "unsubscribe", "publish", "presence",
            "ping");
    /** The reply types (besides {@code error}). */
    public static final List<String> REPLIES = List.of("connected", "refreshed", "subscribed", "unsubscribed", "published",
            "presence", "pong");
    /** The event types a server pushes. */
    public static final List<String> EVENTS = List.of("join", "leave", "dropped", "reset");

    private static final Map<String, Set<String>> FIELDS = Map.of(
            "connect", Set.of("id", "type", "token"),
            "refresh", Set.of("id", "type", "token", "channel"),
            "subscribe", Set.of("id", "type", "channel", "since", "epoch", "token"),
            "unsubscribe", Set.of("id", "type", "channel"),
            "publish", Set.of("id", "type", "channel", "data", "idempotency_key"),
            "presence", Set.of("id", "type", "channel"),
            "ping", Set.of("id", "type"));
    private static final Map<String, String> FIELD_LIST = Map.of(
            "connect", "id, type and token",
            "refresh", "id, type, token and channel",
            "subscribe", "id, type, channel, since, epoch and token",
            "unsubscribe", "id, type and channel",
            "publish", "id, type, channel, data and idempotency_key",
            "presence", "id, type and channel",
            "ping", "id and type");
    private static final String EXAMPLE = "{\"id\":1,\"type\":\"subscribe\",\"channel\":\"news\"}";

    private final ObjectMapper json;
    private final JsonFactory factory;
    private final Function<String, @Nullable String> channelProblem;
    private final int maxEpochLength;
    private final int maxIdempotencyKey;

    /**
     * @param channelProblem    why a name is not a channel name, or null when it is one (the node's naming rule)
     * @param maxEpochLength    the longest epoch a client may send back
     * @param maxIdempotencyKey the longest idempotency key, as for HTTP publishes
     */
    public Codec(Function<String, @Nullable String> channelProblem, int maxEpochLength, int maxIdempotencyKey) {
        this.json = new ObjectMapper();
        // {"id":1,"id":2}: which one did the client mean? Refuse rather than guess.
        this.json.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.factory = json.getFactory();
        this.channelProblem = channelProblem;
        this.maxEpochLength = maxEpochLength;
        this.maxIdempotencyKey = maxIdempotencyKey;
    }

    // ---- commands (client -> server)

    /**
     * The command in one text frame.
     *
     * @throws ProtocolError with the command's id when it has a usable one, else with none
     */
    public Command decode(String text) {
        JsonNode frame = parse(text);
        Long id = id(frame);
        JsonNode type = frame.get("type");
        if (type == null || type.isNull()) throw bad(id, "type is missing: a command looks like " + EXAMPLE);
        if (!type.isTextual()) throw bad(id, "type must be a string: one of " + String.join(", ", COMMANDS));
        String name = type.asText();
        Set<String> fields = FIELDS.get(name);
        if (fields == null) {
            throw new ProtocolError(id, ErrorCode.UNKNOWN_TYPE, "unknown type '" + shown(name) + "'; the commands are "
                    + String.join(", ", COMMANDS));
        }
        for (Iterator<String> names = frame.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!fields.contains(field)) {
                throw bad(id, "unknown field '" + shown(field) + "'; a " + name + " takes " + FIELD_LIST.get(name));
            }
        }
        return switch (name) {
            case "connect" -> new Command.Connect(id, requiredToken(frame, id));
            case "refresh" -> new Command.Refresh(id, requiredToken(frame, id), frame.has("channel") ? channel(frame, id) : null);
            case "subscribe" -> new Command.Subscribe(id, channel(frame, id), recovery(frame, id), token(frame, id));
            case "unsubscribe" -> new Command.Unsubscribe(id, channel(frame, id));
            case "publish" -> publish(frame, id);
            case "presence" -> new Command.Presence(id, channel(frame, id));
            default -> new Command.Ping(id);
        };
    }

    private JsonNode parse(String text) {
        JsonNode frame;
        try (JsonParser parser = factory.createParser(text)) {
            frame = json.readTree(parser);
            if (frame != null && !frame.isMissingNode() && parser.nextToken() != null) {
                throw new ProtocolError(null, ErrorCode.BAD_JSON, "more follows the JSON object, at column "
                        + parser.currentTokenLocation().getColumnNr() + "; send one command per frame");
            }
        } catch (JsonProcessingException e) {
            throw new ProtocolError(null, ErrorCode.BAD_JSON, "the frame is not valid JSON" + where(e)
                    + "; a command looks like " + EXAMPLE);
        } catch (IOException e) {
            throw new ProtocolError(null, ErrorCode.BAD_JSON, "the frame could not be read as JSON");
        }
        if (frame == null || frame.isMissingNode()) {
            throw new ProtocolError(null, ErrorCode.BAD_JSON, "the frame is empty; a command looks like " + EXAMPLE);
        }
        if (!frame.isObject()) {
            throw new ProtocolError(null, ErrorCode.BAD_JSON, "a command is a JSON object, not " + kind(frame)
                    + "; it looks like " + EXAMPLE);
        }
        return frame;
    }

    private static String where(JsonProcessingException e) {
        String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (original.startsWith("Duplicate field '")) {
            int end = original.indexOf('\'', 17);
            if (end > 17) return ": field '" + original.substring(17, end) + "' appears twice";
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getColumnNr() < 1 ? "" : " (at column " + at.getColumnNr() + ")";
    }

    private static Long id(JsonNode frame) {
        JsonNode id = frame.get("id");
        if (id == null || id.isNull()) throw bad(null, "id is missing: give every command an id from 1 to " + MAX_ID + ", as in " + EXAMPLE);
        if (!id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 1 || id.asLong() > MAX_ID) {
            throw bad(null, "id must be a whole number from 1 to " + MAX_ID + ", got " + shown(id.toString()));
        }
        return id.asLong();
    }

    private String channel(JsonNode frame, long id) {
        JsonNode channel = frame.get("channel");
        if (channel == null || channel.isNull()) throw bad(id, "channel is missing");
        if (!channel.isTextual()) throw bad(id, "channel must be a string, got " + kind(channel));
        String problem = channelProblem.apply(channel.asText());
        if (problem != null) throw new ProtocolError(id, ErrorCode.BAD_CHANNEL, problem);
        return channel.asText();
    }

    /** The {@code token} field: a non-empty string, never shown in an error. */
    private static String requiredToken(JsonNode frame, long id) {
        String token = token(frame, id);
        if (token == null) throw bad(id, "token is missing: send \"token\": \"<the token your app issued>\"");
        return token;
    }

    /** The optional {@code token} field. */
    private static @Nullable String token(JsonNode frame, long id) {
        JsonNode token = frame.get("token");
        if (token == null || token.isNull()) return null;
        if (!token.isTextual() || token.asText().isEmpty()) throw bad(id, "token must be a non-empty string, got " + kind(token));
        return token.asText();
    }

    /** Absent since: from now on; {@code "latest"}: the newest still in history first; a number: what came after it. */
    private Recovery recovery(JsonNode frame, long id) {
        JsonNode since = frame.get("since");
        JsonNode epoch = frame.get("epoch");
        String epochText = null;
        if (epoch != null && !epoch.isNull()) {
            if (!epoch.isTextual() || epoch.asText().isEmpty() || epoch.asText().length() > maxEpochLength) {
                throw bad(id, "epoch must be the channel's epoch as the server sent it (a string of 1-" + maxEpochLength
                        + " characters), got " + shown(epoch.toString()));
            }
            epochText = epoch.asText();
        }
        if (since == null || since.isNull()) {
            if (epochText != null) throw bad(id, "epoch goes with since: send \"since\": OFFSET, \"epoch\": \"" + shown(epochText) + "\"");
            return Recovery.FROM_NOW;
        }
        if (since.isTextual() && since.asText().equals("latest")) {
            if (epochText != null) throw bad(id, "since \"latest\" takes no epoch");
            return Recovery.LATEST;
        }
        if (!since.isIntegralNumber() || !since.canConvertToLong() || since.asLong() < 0) {
            throw bad(id, "since must be an offset (a whole number from 0) or \"latest\", got " + shown(since.toString()));
        }
        return Recovery.since(since.asLong(), epochText);
    }

    private Command.Publish publish(JsonNode frame, long id) {
        String channel = channel(frame, id);
        JsonNode data = frame.get("data");
        if (data == null) throw bad(id, "data is missing: send \"data\": <any JSON>");
        // As POST /publish: a string goes to plain clients as its text, any other value as compact JSON.
        Message message = data.isTextual() ? Message.text(data.asText()) : Message.json(compact(data));
        JsonNode key = frame.get("idempotency_key");
        String idempotencyKey = null;
        if (key != null && !key.isNull()) {
            if (!key.isTextual() || key.asText().isEmpty() || key.asText().length() > maxIdempotencyKey) {
                throw bad(id, "idempotency_key must be a string of 1-" + maxIdempotencyKey + " characters");
            }
            idempotencyKey = key.asText();
        }
        return new Command.Publish(id, channel, message, idempotencyKey);
    }

    private String compact(JsonNode tree) {
        try {
            return json.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON tree could not be written", e);
        }
    }

    private static ProtocolError bad(@Nullable Long id, String message) {
        return new ProtocolError(id, ErrorCode.BAD_COMMAND, message);
    }

    private static String kind(JsonNode node) {
        if (node.isArray()) return "an array";
        if (node.isTextual()) return "a string";
        if (node.isNumber()) return "a number";
        if (node.isBoolean()) return "a boolean";
        if (node.isNull()) return "null";
        return "an object";
    }

    /** A client's value as it can be shown in an error: at most 64 characters, control characters replaced. */
    private static String shown(String value) {
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < value.length() && i < 64; i++) {
            char c = value.charAt(i);
            shown.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return value.length() > 64 ? shown + "..." : shown.toString();
    }

    // ---- replies (server -> client, with the command's id)

    /**
     * {@code {"id","type":"connected","user"[,"expires"]}}: who the connection now is, and when its token expires (Unix
     * seconds; absent: never).
     */
    public Message connected(long id, String user, @Nullable Instant expires) {
        return write(g -> {
            reply(g, id, "connected");
            g.writeStringField("user", user);
            if (expires != null) g.writeNumberField("expires", expires.getEpochSecond());
        });
    }

    /** {@code {"id","type":"refreshed"[,"channel"][,"expires"]}}: the connection's, or a subscription's, new expiry. */
    public Message refreshed(long id, @Nullable String channel, @Nullable Instant expires) {
        return write(g -> {
            reply(g, id, "refreshed");
            if (channel != null) g.writeStringField("channel", channel);
            if (expires != null) g.writeNumberField("expires", expires.getEpochSecond());
        });
    }

    /** {@code {"id","type":"subscribed","channel","offset","epoch"[,"recovered"]}}: the first frame on the channel. */
    public Message subscribed(long id, Subscribed started) {
        return write(g -> {
            reply(g, id, "subscribed");
            g.writeStringField("channel", started.channel());
            g.writeNumberField("offset", started.after());
            g.writeStringField("epoch", started.position().epoch());
            if (started.recovered() != null) g.writeBooleanField("recovered", started.recovered());
        });
    }

    /** {@code {"id","type":"unsubscribed","channel"}}. */
    public Message unsubscribed(long id, String channel) {
        return write(g -> {
            reply(g, id, "unsubscribed");
            g.writeStringField("channel", channel);
        });
    }

    /** {@code {"id","type":"published","channel","offset","epoch","delivered","duplicate"}}. */
    public Message published(long id, String channel, StreamPosition position, int delivered, boolean duplicate) {
        return write(g -> {
            reply(g, id, "published");
            g.writeStringField("channel", channel);
            g.writeNumberField("offset", position.offset());
            g.writeStringField("epoch", position.epoch());
            g.writeNumberField("delivered", delivered);
            g.writeBooleanField("duplicate", duplicate);
        });
    }

    /** {@code {"id","type":"presence","channel","subscribers","users","offset","epoch"}}. */
    public Message presence(long id, String channel, Presence presence, StreamPosition position) {
        return write(g -> {
            reply(g, id, "presence");
            g.writeStringField("channel", channel);
            g.writeNumberField("subscribers", presence.subscribers());
            g.writeNumberField("users", presence.users());
            g.writeNumberField("offset", position.offset());
            g.writeStringField("epoch", position.epoch());
        });
    }

    /** {@code {"id","type":"pong"}}. */
    public Message pong(long id) {
        return write(g -> reply(g, id, "pong"));
    }

    /** {@code {"id","type":"error","code","message"}}, with {@code "id": null} for a frame that had no usable id. */
    public Message error(ProtocolError error) {
        return write(g -> {
            if (error.id() == null) g.writeNullField("id");
            else g.writeNumberField("id", error.id());
            g.writeStringField("type", "error");
            g.writeStringField("code", error.code().wire());
            g.writeStringField("message", error.getMessage());
        });
    }

    private static void reply(JsonGenerator g, long id, String type) throws IOException {
        g.writeNumberField("id", id);
        g.writeStringField("type", type);
    }

    // ---- pushes (server -> client, no id)

    /**
     * {@code {"channel","offset","data"}}: a value published as JSON is that value, text a string, and bytes their
     * base64 with {@code "encoding":"base64"} (as {@code /channels/{c}/history} shows them).
     */
    public Message publication(String channel, Publication publication) {
        Message message = publication.message();
        return write(g -> {
            g.writeStringField("channel", channel);
            g.writeNumberField("offset", publication.offset());
            writeData(g, message);
        });
    }

    /** What {@code {"channel":"","offset":,"data":,"encoding":"base64"}} and the longest offset add to the data. */
    private static final int PUBLICATION_OVERHEAD = 80;

    /**
     * At least the size of {@link #publication}'s frame for {@code message} on {@code channel}, whatever its offset:
     * text as Jackson escapes it ({@code \" \\ \b \t \n \f \r} two bytes, other control characters six), JSON as
     * it is, bytes as base64.
     */
    public long publicationBound(String channel, Message message) {
        long data;
        if (message.kind() == Message.Kind.BINARY) {
            data = 2 + 4L * ((message.size() + 2) / 3);
        } else if (message.isJson()) {
            data = message.size();
        } else {
            data = 2;
            ByteBuffer payload = message.payload();
            while (payload.hasRemaining()) data += escapedLength(payload.get());
        }
        return PUBLICATION_OVERHEAD + channel.length() + data;
    }

    private static int escapedLength(byte b) {
        if (b == '"' || b == '\\') return 2;
        if (b < 0 || b >= 0x20) return 1;                     // negative: a byte of a multi-byte UTF-8 character
        return b == '\b' || b == '\t' || b == '\n' || b == '\f' || b == '\r' ? 2 : 6;
    }

    /**
     * A publication's {@code data} field, the one rule for every JSON view of a publication (this protocol, and
     * {@code /channels/{c}/history}): a value published as JSON is that value, text a string, and bytes their
     * base64 with {@code "encoding":"base64"} beside it.
     */
    public static void writeData(JsonGenerator g, Message message) throws IOException {
        g.writeFieldName("data");
        if (message.kind() == Message.Kind.BINARY) {
            ByteBuffer payload = message.payload();
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            g.writeString(Base64.getEncoder().encodeToString(bytes));
            g.writeStringField("encoding", "base64");
        } else if (message.isJson()) {
            g.writeRawValue(message.textPayload());   // written compactly by Jackson when it was published
        } else {
            g.writeString(message.textPayload());
        }
    }

    /** {@code {"type":"dropped","count"}}: drop-oldest dropped this many frames just before the next one. */
    public Message dropped(int count) {
        return write(g -> {
            g.writeStringField("type", "dropped");
            g.writeNumberField("count", count);
        });
    }

    /**
     * {@code {"type":"reset","channel","offset","epoch","recovered":false}}: the node lost publications it could not
     * read back (Broker.Handler#reset); what follows comes after {@code offset}.
     */
    public Message reset(Subscribed restarted) {
        return write(g -> {
            g.writeStringField("type", "reset");
            g.writeStringField("channel", restarted.channel());
            g.writeNumberField("offset", restarted.after());
            g.writeStringField("epoch", restarted.position().epoch());
            g.writeBooleanField("recovered", false);
        });
    }

    /**
     * {@code {"type":"join"|"leave","channel","client","user","info"}}: a subscriber came to or left a channel with
     * presence on; {@code user} is {@code ""} for an anonymous one, and {@code info} (the JSON object its identity
     * carries) is there only when it has one.
     */
    public Message presenceEvent(boolean joined, String channel, Member who) {
        return write(g -> {
            g.writeStringField("type", joined ? "join" : "leave");
            g.writeStringField("channel", channel);
            g.writeStringField("client", who.client());
            g.writeStringField("user", who.user());
            String info = who.info();
            if (info != null) {
                g.writeFieldName("info");
                g.writeRawValue(info);                   // compact JSON object text, checked when the identity was made
            }
        });
    }

    @FunctionalInterface
    private interface Fields {
        void write(JsonGenerator generator) throws IOException;
    }

    /** One JSON object as a text frame, written straight to UTF-8 bytes. */
    private Message write(Fields fields) {
        try (ByteArrayBuilder bytes = new ByteArrayBuilder(128)) {
            try (JsonGenerator g = factory.createGenerator(bytes)) {
                g.writeStartObject();
                fields.write(g);
                g.writeEndObject();
            }
            return Message.utf8(bytes.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory cannot fail", e);
        }
    }
}
