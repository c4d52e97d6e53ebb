package dev.squall.internal.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One of the app's HTTP endpoints that decides for Squall, the way Centrifugo's proxies do: Squall POSTs a small JSON
 * request and reads {@code {"result": {...}}} (yes), {@code {"error": {"code", "message"}}} or
 * {@code {"disconnect": {"code", "reason"}}} (no). Anything else (another status, not JSON, none of the three, a
 * timeout, an app that is down) is a failure, which refuses: see {@link AppHooks}.
 */
final class HttpProxy {

    static final ObjectMapper JSON = new ObjectMapper();
    /** The largest answer read: an identity's info is at most 4 KiB. */
    private static final int MAX_ANSWER = 64 * 1024;

    private final URI uri;
    private final Duration timeout;
    private final HttpClient http;

    HttpProxy(URI uri, Duration timeout) {
        this.uri = uri;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Checks a proxy URL at start-up: absolute http(s). */
    static URI parse(String url, String setting) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " must be an http:// or https:// URL, got '" + url + "'");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException(setting + " must be an http:// or https:// URL, got '" + url + "'");
        }
        return uri;
    }

    /**
     * The app's answer: its {@code result} object, or null for a refusal ({@code error} or {@code disconnect}).
     *
     * @throws IOException when the app gave no usable answer
     */
    JsonNode ask(ObjectNode request) throws IOException, InterruptedException {
        HttpRequest post = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(request))).build();
        HttpResponse<byte[]> response = http.send(post, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) throw new IOException(uri + " answered " + response.statusCode() + ", not 200");
        if (response.body().length > MAX_ANSWER) throw new IOException(uri + " answered more than " + MAX_ANSWER + " bytes");
        JsonNode answer;
        try {
            answer = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IOException(uri + " answered something that is not JSON");
        }
        if (answer != null && answer.path("result").isObject()) return answer.path("result");
        if (answer != null && (answer.path("error").isObject() || answer.path("disconnect").isObject())) return JSON.nullNode();
        throw new IOException(uri + " answered neither {\"result\": {...}} nor {\"error\": {...}} nor {\"disconnect\": {...}}");
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
