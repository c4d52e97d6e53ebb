package dev.squall.support;

import org.jspecify.annotations.Nullable;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An EventSource as far as tests need one: a real HTTP/1.1 GET through the JDK's client, the body read line by
 * line on its own thread and parsed as the HTML standard says ({@code event:}, {@code id:}, {@code data:} lines
 * joined with a line feed, {@code retry:}, comments), each event onto a {@link BlockingQueue}.
 */
public final class SseTestClient implements AutoCloseable {

    /** One dispatched event; {@code event} is "message" when the stream named none. */
    public record Event(String event, @Nullable String id, String data, @Nullable Integer retry) {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final HttpResponse<InputStream> response;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> comments = new LinkedBlockingQueue<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Thread reader;

    private SseTestClient(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = new Thread(this::read, "sse-test-client");
        reader.setDaemon(true);
        if (response.statusCode() == 200) reader.start();
    }

    /** GETs {@code uri} with {@code Accept: text/event-stream} and these headers; returns once the status is in. */
    public static SseTestClient connect(URI uri, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        headers.forEach(request::header);
        try {
            return new SseTestClient(HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new AssertionError("could not connect to " + uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static SseTestClient connect(URI uri) {
        return connect(uri, Map.of());
    }

    public int status() {
        return response.statusCode();
    }

    public @Nullable String header(String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /** The whole body of a response that is not a stream (an error). */
    public String body() {
        try (InputStream in = response.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The next event, waiting up to 10 s. */
    public Event take() {
        return take(Duration.ofSeconds(10));
    }

    public Event take(Duration deadline) {
        try {
            Event event = events.poll(deadline.toMillis(), TimeUnit.MILLISECONDS);
            if (event == null) throw new AssertionError("no event within " + deadline + (ended() ? " (the stream has ended)" : ""));
            return event;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next comment line's text (after the colon), waiting up to {@code deadline}. */
    public String takeComment(Duration deadline) {
        try {
            String comment = comments.poll(deadline.toMillis(), TimeUnit.MILLISECONDS);
            if (comment == null) throw new AssertionError("no comment within " + deadline);
            return comment;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Events received and not taken yet. */
    public int pending() {
        return events.size();
    }

    /** Whether the server has ended the stream (or it failed). */
    public boolean ended() {
        return ended.getCount() == 0;
    }

    /** Waits until the server ends the stream; false if it did not within {@code deadline}. */
    public boolean awaitEnd(Duration deadline) throws InterruptedException {
        return ended.await(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String type = null;
            String id = null;
            Integer retry = null;
            StringBuilder data = null;
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null || type != null || id != null || retry != null) {
                        events.add(new Event(type == null ? "message" : type, id, data == null ? "" : data.toString(), retry));
                    }
                    type = null;
                    id = null;
                    retry = null;
                    data = null;
                    continue;
                }
                if (line.startsWith(":")) {
                    comments.add(line.substring(1).strip());
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) value = value.substring(1);
                switch (field) {
                    case "event" -> type = value;
                    case "id" -> id = value;
                    case "retry" -> retry = Integer.valueOf(value);
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> { }
                }
            }
        } catch (IOException closed) {
            // The stream was closed, by us or by the server.
        } finally {
            ended.countDown();
        }
    }

    @Override
    public void close() {
        try {
            response.body().close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }
}
