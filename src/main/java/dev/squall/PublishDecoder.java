package dev.squall;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Turns a {@code /receive} request into the message to broadcast. {@code GET} takes {@code ?msg=}; {@code POST}
 * takes its body: text as a text frame, JSON re-encoded compactly as text (Tornado's
 * {@code write_message(dict)}), octet-stream as a binary frame ({@code write_message(..., binary=True)}).
 */
final class PublishDecoder {

    static final String SUPPORTED = "text/plain, application/json, application/octet-stream, application/x-www-form-urlencoded";

    private final ObjectMapper json;

    PublishDecoder(ObjectMapper json) {
        this.json = json;
    }

    Message fromQuery(Context ctx) {
        return Message.text(requireMsg(ctx.queryParam("msg"), "query parameter 'msg'"));
    }

    Message fromBody(Context ctx) {
        // The raw header: the servlet's getContentType() throws (a 500) on a charset the JVM does not know.
        String contentType = ctx.header(Header.CONTENT_TYPE);
        if (contentType == null) {
            throw unsupported("no Content-Type");
        }
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        Charset charset = charsetOf(contentType);
        return switch (mediaType) {
            case "text/plain" -> text(ctx.bodyAsBytes(), charset);
            case "application/json" -> json(ctx.bodyAsBytes());
            case "application/octet-stream" -> binary(ctx.bodyAsBytes());
            case "application/x-www-form-urlencoded" -> Message.text(requireMsg(ctx.formParam("msg"), "form field 'msg'"));
            default -> throw unsupported("Content-Type " + mediaType);
        };
    }

    private static Message text(byte[] body, Charset charset) {
        requireBody(body);
        String text;
        try {
            text = charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequestResponse("msg: the body is not valid " + charset.name());
        }
        return charset.equals(StandardCharsets.UTF_8) ? Message.utf8(body) : Message.text(text);
    }

    private Message json(byte[] body) {
        requireBody(body);
        try {
            JsonNode tree = json.readTree(body);
            if (tree == null || tree.isMissingNode()) throw new BadRequestResponse("msg: the body is empty");
            return Message.text(json.writeValueAsString(tree));
        } catch (JsonProcessingException e) {
            throw new BadRequestResponse("msg: the body is not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (java.io.IOException e) {
            throw new BadRequestResponse("msg: the body could not be read");
        }
    }

    private static Message binary(byte[] body) {
        requireBody(body);
        return Message.binary(body);
    }

    private static Charset charsetOf(String contentType) {
        for (String parameter : contentType.split(";")) {
            String[] pair = parameter.trim().split("=", 2);
            if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("charset")) {
                String name = pair[1].trim().replace("\"", "");
                try {
                    return Charset.forName(name);
                } catch (Exception e) {
                    throw unsupported("charset " + name);
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    private static String requireMsg(String value, String where) {
        if (value == null || value.isEmpty()) {
            throw new BadRequestResponse("msg is missing or empty: send it as the " + where);
        }
        return value;
    }

    private static void requireBody(byte[] body) {
        if (body.length == 0) {
            throw new BadRequestResponse("msg is missing or empty: send the message as the request body");
        }
    }

    private static HttpResponseException unsupported(String what) {
        return new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
                what + " is not supported for POST /receive; use one of: " + SUPPORTED);
    }
}
