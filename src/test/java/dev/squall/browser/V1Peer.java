package dev.squall.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.websocket.WsContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for a Squall server, for what a real one does not do on cue: leave a command unanswered, answer it
 * late. A real WebSocket server (Javalin, on a free loopback port) that selects {@code squall.v1} and answers
 * nothing by itself: each command a client sends waits in a queue, like MockWebServer's {@code takeRequest()},
 * and the test decides what the server says, and when.
 */
final class V1Peer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One command as the peer read it, and the connection it came on (to answer it, or send anything else). */
    record Command(JsonNode frame, WsContext connection) {

        long id() {
            return frame.get("id").asLong();
        }

        String type() {
            return frame.get("type").asText();
        }

        /** Sends {@code json} (a reply, an event, a publication) on the connection this command came on. */
        void send(String json) {
            connection.send(json);
        }
    }

    private final BlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    private final Javalin app;

    private V1Peer() {
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.wsBeforeUpgrade("/ws", ctx -> ctx.header("Sec-WebSocket-Protocol", "squall.v1"));
            config.routes.ws("/ws", ws -> ws.onMessage(ctx -> commands.add(new Command(read(ctx.message()), ctx))));
        }).start("127.0.0.1", 0);
    }

    static V1Peer start() {
        return new V1Peer();
    }

    String wsUrl() {
        return "ws://127.0.0.1:" + app.port() + "/ws";
    }

    /** The next command any client sent; fails if none comes within {@code deadline}. */
    Command take(Duration deadline) {
        try {
            Command command = commands.poll(deadline.toMillis(), TimeUnit.MILLISECONDS);
            if (command == null) throw new AssertionError("no command came within " + deadline);
            return command;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Commands received and not taken yet. */
    int waiting() {
        return commands.size();
    }

    private static JsonNode read(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        app.stop();
    }
}
