package dev.squall.server;

import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.MethodNotAllowedResponse;
import io.javalin.http.NotFoundResponse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns Javalin's 405 ({@code prefer405over404}) into an answer with the {@code Allow} header RFC 9110 asks for.
 * Javalin counts the preflight handler on {@code /*} as a method of every path, so a path whose only method
 * is that OPTIONS does not exist: 404, as before.
 */
final class AllowedMethods {

    private AllowedMethods() {
    }

    /** Sets {@code Allow} and returns the refusal to send: a 405 naming the methods, or a 404. */
    static HttpResponseException answer(MethodNotAllowedResponse e, Context ctx) {
        String listed = e.getDetails().getOrDefault("availableMethods", e.getDetails().getOrDefault("Available methods", ""));
        List<String> methods = new ArrayList<>(Arrays.stream(listed.split(","))
                .map(String::trim).filter(m -> !m.isEmpty() && !m.equals("OPTIONS")).toList());
        if (methods.isEmpty()) {
            return new NotFoundResponse("Endpoint " + ctx.method().name() + " " + ctx.path() + " not found");
        }
        List<String> allow = new ArrayList<>(methods);
        // Javalin answers HEAD wherever there is a GET, and the preflight handler answers OPTIONS everywhere.
        if (allow.contains("GET") && !allow.contains("HEAD")) allow.add(allow.indexOf("GET") + 1, "HEAD");
        allow.add("OPTIONS");
        ctx.header(Header.ALLOW, String.join(", ", allow));
        return new HttpResponseException(HttpStatus.METHOD_NOT_ALLOWED.getCode(),
                ctx.method().name() + " is not allowed on " + ctx.path() + "; use " + String.join(" or ", methods));
    }
}
