package dev.squall.internal.web;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squall.SettingNames;
import dev.squall.internal.broker.Message;
import dev.squall.internal.channel.ChannelName;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Part;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.jspecify.annotations.Nullable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a {@code /receive} request into the message to broadcast. {@code GET} takes {@code ?msg=}; {@code POST}
 * takes its body: text as a text frame, JSON re-encoded compactly as text (Tornado's
 * {@code write_message(dict)}), octet-stream as a binary frame ({@code write_message(..., binary=True)}), a form's
 * {@code msg} field as text. Nothing larger than {@code --max-publish-bytes} gets through, body or message.
 */
public final class PublishDecoder {

    static final String SUPPORTED = "text/plain, application/json, application/octet-stream, "
            + "application/x-www-form-urlencoded, multipart/form-data";

    private final ObjectMapper json;
    private final long maxBytes;
    private final MultipartConfigElement multipart;

    private final SettingNames names;

    PublishDecoder(ObjectMapper json, long maxBytes, SettingNames names) {
        this.json = json;
        this.names = names;
        this.maxBytes = maxBytes;
        // Every part is kept in memory up to the limit, and nothing larger is accepted: no upload reaches the disk.
        int inMemory = (int) Math.min(Integer.MAX_VALUE, maxBytes);
        this.multipart = new MultipartConfigElement(System.getProperty("java.io.tmpdir"), maxBytes, maxBytes, inMemory);
    }

    Message fromQuery(Context ctx) {
        byte[] raw = rawQuery(ctx);
        return text(requireMsg(FormFields.single(raw, "msg", "query parameter"), "query parameter 'msg'"));
    }

    Message fromBody(Context ctx) {
        // The raw header: the servlet's getContentType() throws (a 500) on a charset the JVM does not know.
        String contentType = ctx.header(Header.CONTENT_TYPE);
        if (contentType == null || contentType.isBlank()) {
            throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                    "POST " + ctx.path() + " needs a Content-Type header: one of " + SUPPORTED);
        }
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return switch (mediaType) {
            case "text/plain" -> {
                Charset charset = charsetOf(contentType);
                yield text(decode(requireBody(body(ctx)), charset, "msg: the body"));
            }
            case "application/json" -> json(requireBody(body(ctx)));
            case "application/octet-stream" -> Message.binary(requireBody(body(ctx)));
            case "application/x-www-form-urlencoded" ->
                    text(requireMsg(FormFields.single(body(ctx), "msg", "form field"), "form field 'msg'"));
            case "multipart/form-data" -> multipart(ctx);
            default -> throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                    "Content-Type " + mediaType + " is not supported for POST " + ctx.path() + "; use one of: " + SUPPORTED);
        };
    }

    /** The body, refused with 413 as soon as it is known to be too large (by Content-Length or while reading). */
    private byte[] body(Context ctx) {
        requireDeclaredLengthFits(ctx);
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int read;
            while ((read = in.read(chunk)) != -1) {
                if (body.size() + (long) read > maxBytes) throw tooLarge("the body");
                body.write(chunk, 0, read);
            }
            return body.toByteArray();
        } catch (IOException e) {
            throw new BadRequestResponse("msg: the body could not be read");
        }
    }

    private void requireDeclaredLengthFits(Context ctx) {
        if (ctx.req().getContentLengthLong() > maxBytes) throw tooLarge("the body");
    }

    /** A text frame, unless its UTF-8 form (what clients receive) is over the limit. */
    private Message text(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        // Decoded size is what counts: an ISO-8859-1 body grows when re-encoded as UTF-8.
        if (utf8.length > maxBytes) throw tooLarge("the message");
        return Message.utf8(utf8);
    }

    private Message json(byte[] body) {
        JsonNode tree = parseOne(body, "msg");
        Message text = text(compact(tree));
        return tree.isTextual() ? text : Message.json(text.textPayload());
    }

    /** What {@code POST /publish} carries: {@code {"channel": C, "data": ANY, "idempotency_key": K}}. */
    record ChannelPublish(String channel, Message message, @Nullable String idempotencyKey) {
    }

    public static final int MAX_IDEMPOTENCY_KEY = 256;
    private static final String API_SHAPE = "{\"channel\": \"name\", \"data\": <any JSON>} (and optionally \"idempotency_key\")";

    /**
     * A publish to a channel: a JSON object with {@code channel} and {@code data}. A JSON string {@code data} is sent
     * to plain clients as its text, any other value as compact JSON text.
     */
    ChannelPublish fromApi(Context ctx) {
        String contentType = ctx.header(Header.CONTENT_TYPE);
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                    "POST " + ctx.path() + " takes Content-Type application/json: " + API_SHAPE);
        }
        byte[] body = body(ctx);
        if (body.length == 0) throw new BadRequestResponse("the body is empty: send " + API_SHAPE);
        JsonNode tree = parseOne(body, "");
        if (!tree.isObject()) throw new BadRequestResponse("the body must be a JSON object: " + API_SHAPE);
        List<String> unknown = new ArrayList<>();
        tree.fieldNames().forEachRemaining(name -> {
            if (!name.equals("channel") && !name.equals("data") && !name.equals("idempotency_key")) unknown.add(name);
        });
        if (!unknown.isEmpty()) {
            throw new BadRequestResponse("unknown field '" + unknown.get(0) + "'; the fields are channel, data and idempotency_key");
        }
        JsonNode channel = tree.get("channel");
        if (channel == null || !channel.isTextual()) throw new BadRequestResponse("channel is missing or not a string: " + API_SHAPE);
        String problem = ChannelName.problem(channel.asText());
        if (problem != null) throw new BadRequestResponse(problem);
        JsonNode data = tree.get("data");
        if (data == null) throw new BadRequestResponse("data is missing: " + API_SHAPE);
        Message message = data.isTextual() ? text(data.asText()) : Message.json(text(compact(data)).textPayload());
        JsonNode key = tree.get("idempotency_key");
        String idempotencyKey = null;
        if (key != null && !key.isNull()) {
            if (!key.isTextual() || key.asText().isEmpty() || key.asText().length() > MAX_IDEMPOTENCY_KEY) {
                throw new BadRequestResponse("idempotency_key must be a string of 1-" + MAX_IDEMPOTENCY_KEY + " characters");
            }
            idempotencyKey = key.asText();
        }
        return new ChannelPublish(channel.asText(), message, idempotencyKey);
    }

    private static final String DISCONNECT_SHAPE = "{\"user\": \"42\"}";

    /**
     * The user a {@code POST /disconnect} names: a JSON object with one string field {@code user}, neither empty (an
     * anonymous connection is no one in particular) nor longer than a user id can be.
     */
    String userOf(Context ctx) {
        String contentType = ctx.header(Header.CONTENT_TYPE);
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                    "POST " + ctx.path() + " takes Content-Type application/json: " + DISCONNECT_SHAPE);
        }
        byte[] body = body(ctx);
        if (body.length == 0) throw new BadRequestResponse("the body is empty: send " + DISCONNECT_SHAPE);
        JsonNode tree = parseOne(body, "");
        if (!tree.isObject()) throw new BadRequestResponse("the body must be a JSON object: " + DISCONNECT_SHAPE);
        List<String> unknown = new ArrayList<>();
        tree.fieldNames().forEachRemaining(name -> {
            if (!name.equals("user")) unknown.add(name);
        });
        if (!unknown.isEmpty()) throw new BadRequestResponse("unknown field '" + unknown.get(0) + "'; the one field is user");
        JsonNode user = tree.get("user");
        if (user == null || !user.isTextual()) throw new BadRequestResponse("user is missing or not a string: " + DISCONNECT_SHAPE);
        if (user.asText().isEmpty()) {
            throw new BadRequestResponse("user is empty: anonymous connections are not one user, so they cannot be disconnected as one");
        }
        if (user.asText().length() > dev.squall.Identity.MAX_USER_LENGTH) {
            throw new BadRequestResponse("user is at most " + dev.squall.Identity.MAX_USER_LENGTH + " characters, got "
                    + user.asText().length() + ": no connection has such a user");
        }
        return user.asText();
    }

    /** The {@code channel} query parameter of a {@code /receive} publish, checked, or null for the broadcast channel. */
    @Nullable String channelOf(Context ctx) {
        byte[] raw = rawQuery(ctx);
        String channel = FormFields.single(raw, "channel", "query parameter");
        if (channel == null) return null;
        String problem = ChannelName.problem(channel);
        if (problem != null) throw new BadRequestResponse(problem);
        return channel;
    }

    /** The raw query: Jetty's own parameters turn %zz into a missing value and keep only the first of two. */
    private static byte[] rawQuery(Context ctx) {
        String query = ctx.queryString();
        return query == null ? new byte[0] : query.getBytes(StandardCharsets.UTF_8);
    }

    /** Exactly one JSON value, strictly: errors say what is wrong and where, after {@code what} (if any). */
    private JsonNode parseOne(byte[] body, String what) {
        String lead = what.isEmpty() ? "" : what + ": ";
        JsonNode tree;
        try (JsonParser parser = json.createParser(body)) {
            tree = json.readTree(parser);
            if (tree == null || tree.isMissingNode()) throw new BadRequestResponse(lead + "the body is empty");
            // readTree stops after the first value: "{"a":1}{"b":2}" would otherwise publish {"a":1} and drop the rest.
            if (parser.nextToken() != null) {
                JsonLocation at = parser.currentTokenLocation();
                throw new BadRequestResponse(lead + "the body is not valid JSON: more follows the JSON value, at line "
                        + at.getLineNr() + ", column " + at.getColumnNr() + "; send exactly one value");
            }
        } catch (JsonProcessingException e) {
            throw new BadRequestResponse(lead + "the body is not valid JSON: " + plainWords(e));
        } catch (IOException e) {
            throw new BadRequestResponse(lead + "the body could not be read");
        }
        return tree;
    }

    private String compact(JsonNode tree) {
        try {
            return json.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON tree could not be written", e);
        }
    }

    /** Jackson's message names its own classes and source; say what is wrong and where, as a person would. */
    private static String plainWords(JsonProcessingException e) {
        if (e instanceof JsonEOFException) return "the body ends before the JSON value is complete";
        if (e instanceof StreamConstraintsException) return "it is nested too deeply, or a number or string in it is too long";
        String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        if (original.startsWith("Unexpected character ('") && original.indexOf("' (code") > 23) {
            return "unexpected character '" + original.substring(23, original.indexOf("' (code")) + "'" + where;
        }
        if (original.startsWith("Unrecognized token '") && original.indexOf('\'', 20) > 20) {
            return "unexpected '" + original.substring(20, original.indexOf('\'', 20)) + "'" + where;
        }
        if (original.startsWith("Unexpected end-of-input")) return "the body ends before the JSON value is complete";
        if (original.startsWith("Invalid UTF-8")) return "it is not valid UTF-8" + where;
        if (original.startsWith("Illegal unquoted character")) return "a control character inside a string must be escaped" + where;
        return "unexpected input" + where;
    }

    private Message multipart(Context ctx) {
        requireDeclaredLengthFits(ctx);
        ctx.req().setAttribute(ServletContextRequest.MULTIPART_CONFIG_ELEMENT, multipart);
        List<Part> msgs = new ArrayList<>();
        try {
            for (Part part : ctx.req().getParts()) {
                if (part.getName().equals("msg")) msgs.add(part);
            }
        } catch (IOException | ServletException | IllegalStateException e) {
            if (isSizeLimit(e)) throw tooLarge("the body");
            throw new BadRequestResponse("msg: the multipart/form-data body is malformed");
        }
        if (msgs.size() > 1) throw new BadRequestResponse("give msg once: the form field 'msg' appears " + msgs.size() + " times");
        if (msgs.isEmpty()) throw missing("form field 'msg' (curl -F msg=...)");
        byte[] value;
        try (InputStream in = msgs.get(0).getInputStream()) {
            value = in.readAllBytes();
        } catch (IOException e) {
            throw new BadRequestResponse("msg: the form field could not be read");
        }
        if (value.length == 0) throw missing("form field 'msg' (curl -F msg=...)");
        return text(decode(value, StandardCharsets.UTF_8, "msg: the form field"));
    }

    private static boolean isSizeLimit(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (message.contains("max") || message.contains("exceed") || message.contains("too large")) return true;
        }
        return false;
    }

    private static String decode(byte[] bytes, Charset charset, String what) {
        try {
            return charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequestResponse(what + " is not valid " + charset.name());
        }
    }

    private static Charset charsetOf(String contentType) {
        for (String parameter : contentType.split(";")) {
            String[] pair = parameter.trim().split("=", 2);
            if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("charset")) {
                String name = pair[1].trim().replace("\"", "");
                try {
                    return Charset.forName(name);
                } catch (Exception e) {
                    throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                            "charset '" + name + "' is not one this server knows; send the text as UTF-8 (charset=utf-8)");
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    private HttpResponseException tooLarge(String what) {
        // What was too large, the limit, and the setting that sets it.
        return new HttpResponseException(HttpStatus.CONTENT_TOO_LARGE.getCode(),
                what + " is larger than " + names.name("maxPublishBytes") + " (" + maxBytes + " bytes)");
    }

    private static String requireMsg(@Nullable String value, String where) {
        if (value == null || value.isEmpty()) throw missing(where);
        return value;
    }

    private static BadRequestResponse missing(String where) {
        return new BadRequestResponse("msg is missing or empty: send it as the " + where);
    }

    private static byte[] requireBody(byte[] body) {
        if (body.length == 0) {
            throw new BadRequestResponse("msg is missing or empty: send the message as the request body");
        }
        return body;
    }
}
