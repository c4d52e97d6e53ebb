package dev.squall.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A well-behaved WebSocket client (the JDK's own) with a blocking inbox, so tests read like a conversation:
 * connect, {@link #take()} the next message, send, take again. Pings are answered automatically.
 */
public final class WsTestClient implements AutoCloseable {

    /** Something that arrived: a text or binary message, or the close (code in {@code closeCode}). */
    public record Event(String text, byte[] binary, int closeCode, String reason) {
        public boolean isClose() { return closeCode != 0; }
    }

    public static final Duration DEADLINE = Duration.ofSeconds(10);

    private final BlockingQueue<Event> inbox = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final AtomicInteger received = new AtomicInteger();
    private final WebSocket socket;

    private WsTestClient(HttpClient http, URI uri, Map<String, String> headers) {
        this(http, uri, headers, List.of());
    }

    private WsTestClient(HttpClient http, URI uri, Map<String, String> headers, List<String> subprotocols) {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(DEADLINE);
        headers.forEach(builder::header);
        if (!subprotocols.isEmpty()) {
            builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        this.socket = builder.buildAsync(uri, new Listener()).orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS).join();
    }

    /** Connects with a client of its own. */
    public static WsTestClient connect(URI uri) {
        return connect(HttpClient.newHttpClient(), uri, Map.of());
    }

    /** Connects with extra handshake headers (Origin, ...); the JDK client refuses some restricted ones. */
    public static WsTestClient connect(URI uri, Map<String, String> headers) {
        return connect(HttpClient.newHttpClient(), uri, headers);
    }

    /** Connects through a shared client: many test clients, one selector thread. */
    public static WsTestClient connect(HttpClient http, URI uri, Map<String, String> headers) {
        return new WsTestClient(http, uri, headers);
    }

    /** Connects offering these subprotocols, most preferred first (Tornado's client: {@code subprotocols=[...]}). */
    public static WsTestClient connect(URI uri, Map<String, String> headers, List<String> subprotocols) {
        return new WsTestClient(HttpClient.newHttpClient(), uri, headers, subprotocols);
    }

    /** Connects through a shared client, offering these subprotocols: many {@code squall.v1} clients, one selector thread. */
    public static WsTestClient connect(HttpClient http, URI uri, Map<String, String> headers, List<String> subprotocols) {
        return new WsTestClient(http, uri, headers, subprotocols);
    }

    /** The subprotocol the server selected; empty for none. */
    public String subprotocol() {
        return socket.getSubprotocol();
    }

    /** Starts connecting without waiting (for opening hundreds of clients at once). */
    public static CompletableFuture<WsTestClient> connectAsync(HttpClient http, URI uri) {
        return CompletableFuture.supplyAsync(() -> new WsTestClient(http, uri, Map.of()));
    }

    /** The next text message; fails if none arrives before the deadline or a binary/close comes instead. */
    public String takeText() {
        Event event = take();
        if (event.text() == null) throw new AssertionError("expected a text message, got " + describe(event));
        return event.text();
    }

    /** The next binary message. */
    public byte[] takeBinary() {
        Event event = take();
        if (event.binary() == null) throw new AssertionError("expected a binary message, got " + describe(event));
        return event.binary();
    }

    /** The next event of any kind, waiting up to {@link #DEADLINE}. */
    public Event take() {
        return take(DEADLINE);
    }

    public Event take(Duration deadline) {
        try {
            Event event = inbox.poll(deadline.toMillis(), TimeUnit.MILLISECONDS);
            if (event == null) throw new AssertionError("nothing arrived within " + deadline);
            return event;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** The next event if one arrives within {@code wait}, else null (for asserting that nothing comes). */
    public Event poll(Duration wait) throws InterruptedException {
        return inbox.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void send(String text) {
        socket.sendText(text, true).orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS).join();
    }

    public void sendBinary(byte[] bytes) {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(DEADLINE.toSeconds(), TimeUnit.SECONDS).join();
    }

    /** Waits for the server to close this connection and returns its close code (1006: dropped without one). */
    public int awaitClose() {
        return awaitClose(DEADLINE);
    }

    public int awaitClose(Duration deadline) {
        return closed.orTimeout(deadline.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    public boolean isOpen() {
        return !closed.isDone();
    }

    /** Text and binary messages that have arrived so far, taken or not (for pacing and progress checks). */
    public int received() {
        return received.get();
    }

    /** Starts a close handshake with {@code code} and {@code reason}, as an application may. */
    public void closeWith(int code, String reason) {
        socket.sendClose(code, reason).orTimeout(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(e -> null);
        }
        socket.abort();
    }

    private static String describe(Event event) {
        if (event.isClose()) return "close " + event.closeCode() + " " + event.reason();
        return event.text() != null ? "text '" + event.text() + "'" : "binary of " + event.binary().length + " bytes";
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        private ByteBuffer binary = ByteBuffer.allocate(0);

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                inbox.add(new Event(text.toString(), null, 0, null));
                received.incrementAndGet();
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            ByteBuffer joined = ByteBuffer.allocate(binary.remaining() + data.remaining());
            joined.put(binary).put(data).flip();
            binary = joined;
            if (last) {
                byte[] bytes = new byte[binary.remaining()];
                binary.get(bytes);
                inbox.add(new Event(null, bytes, 0, null));
                received.incrementAndGet();
                binary = ByteBuffer.allocate(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            inbox.add(new Event(null, null, statusCode, reason));
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            inbox.add(new Event(null, null, 1006, String.valueOf(error)));
            closed.complete(1006);
        }
    }
}
