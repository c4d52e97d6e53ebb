package dev.squall.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;

/**
 * Answers the errors Jetty raises before a request reaches Javalin (a URL over the header limit: 414, a
 * malformed request line: 400) in the same {@code {"error": "..."}} shape as every route, instead of
 * Jetty's HTML page. Never shows a stack trace, and a 5xx never shows Jetty's message, which can be
 * {@code cause.toString()}: the client learns nothing about the server's insides.
 */
final class JsonErrorHandler extends ErrorHandler {

    private final ObjectMapper json;

    JsonErrorHandler(ObjectMapper json) {
        this.json = json;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        byte[] body = json.writeValueAsBytes(Map.of("error", describe(code, message)));
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** The error text for this status; 4xx keep Jetty's message (it says what the client did wrong), 5xx do not. */
    public static String describe(int code, String message) {
        if (code >= 500) {
            return code == HttpStatus.INTERNAL_SERVER_ERROR_500 ? "internal server error"
                    : HttpStatus.getMessage(code).toLowerCase(Locale.ROOT);
        }
        if (code == HttpStatus.URI_TOO_LONG_414) {
            return "the URL is too long; send large messages as the body of POST /receive";
        }
        if (code == HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431) {
            return "the request headers are too large";
        }
        return message != null && !message.isBlank() ? message : HttpStatus.getMessage(code);
    }
}
