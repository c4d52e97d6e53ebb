package dev.squall.internal.web;

import io.javalin.http.HttpResponseException;

import java.util.Map;
import java.util.Objects;

/**
 * A request one of Squall's own routes refuses: answered by Squall's handler with its status, its headers and
 * {@code {"error": message}}, whatever error handling the embedding app has for its own routes.
 */
public final class Refusal extends HttpResponseException {

    final Map<String, String> headers;

    public Refusal(int status, String message, Map<String, String> headers) {
        super(status, message, Map.of());
        this.headers = Map.copyOf(headers);
    }

    public Refusal(int status, String message) {
        this(status, message, Map.of());
    }

    /**
     * Javalin's own refusals (400s and 403s thrown by the checks) as Squall's, keeping status and message (Kotlin's
     * {@code String}, so never null from Javalin; empty, Javalin's default, if a subclass returns null).
     */
    static Refusal of(HttpResponseException e) {
        if (e instanceof Refusal refusal) return refusal;
        return new Refusal(e.getStatus(), Objects.requireNonNullElse(e.getMessage(), ""));
    }
}
