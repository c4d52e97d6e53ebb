package dev.squall.internal.web;

import dev.squall.support.Await;
import dev.squall.support.SseTestClient;
import dev.squall.support.TestServer;
import dev.squall.support.WsTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18, {@code --handshake-timeout}: a slowloris that sends its request head a byte at a time is cut at the
 * deadline and holds nothing after, on a fresh connection and on a kept-alive one, while connections that finished
 * their heads in time (a WebSocket, an event stream, a keep-alive connection resting between requests) live on.
 * Without the deadline the same kind of trickle is served: Jetty's idle timeout is reset by every byte.
 */
@Timeout(60)
class HandshakeDeadlineTest {

    private static final Duration DEADLINE = Duration.ofSeconds(1);
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.config().handshakeTimeout(DEADLINE).build());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Socket socket() throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        socket.setSoTimeout(200);
        return socket;
    }

    private static String upgradeHead() {
        return "GET /ws HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    /** How a trickle ended: the bytes the server took, and the milliseconds from connecting until it cut the connection. */
    private record Trickle(int bytes, long millis) {
    }

    /**
     * Writes {@code head} a byte every {@code every}, reading between bytes, until the server ends the connection;
     * returns how many bytes it took (-1 if it was all sent and the connection still stood) and after how long.
     */
    private static Trickle trickle(long connectedFrom, Socket socket, String head, Duration every) throws IOException, InterruptedException {
        long start = connectedFrom;
        int bytes = trickleBytes(socket, head, every);
        return new Trickle(bytes, (System.nanoTime() - start) / 1_000_000);
    }

    private static int trickleBytes(Socket socket, String head, Duration every) throws IOException, InterruptedException {
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < bytes.length; i++) {
            try {
                out.write(bytes[i]);
                out.flush();
            } catch (SocketException cut) {
                return i;
            }
            long until = System.nanoTime() + every.toNanos();
            while (System.nanoTime() < until) {
                try {
                    if (in.read() < 0) return i + 1;                  // closed by the server, without an answer
                    throw new AssertionError("the server answered a head it never got whole");
                } catch (SocketTimeoutException stillOpen) {
                    // nothing yet
                } catch (SocketException cut) {
                    return i + 1;
                }
            }
        }
        return -1;
    }

    /** Sends a whole request on a kept-alive connection and reads its answer's head and body. */
    private static String request(Socket socket, String path) throws IOException {
        socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost:" + server.port() + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("closed mid-answer: " + head);
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(text);
        assertThat(length.find()).as(text).isTrue();
        byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));
        socket.setSoTimeout(200);
        return text.substring(0, "HTTP/1.1 200".length()) + " " + new String(body, StandardCharsets.UTF_8);
    }

    @Test
    void slow_heads_are_cut_at_the_deadline_while_connections_that_finished_theirs_live_on_and_without_it_none_is() throws Exception {
        double cutBefore = server.metric("squall_limited_total{limit=\"handshake_timeout\"}");
        // Those that did it right, kept open across several deadlines while the slow ones are cut.
        WsTestClient webSocket = WsTestClient.connect(server.ws());
        assertThat(webSocket.takeText()).isEqualTo("Welcome");
        SseTestClient stream = SseTestClient.connect(server.http("/sse/news"));
        stream.take();
        Socket resting = socket();
        assertThat(request(resting, "/health")).startsWith("HTTP/1.1 200").contains("up");

        CompletableFuture<Integer> silent = CompletableFuture.supplyAsync(() -> {
            try (Socket socket = socket()) {                        // connects, then says nothing at all
                long start = System.nanoTime();
                socket.setSoTimeout(20_000);
                assertThat(socket.getInputStream().read()).isEqualTo(-1);
                return (int) ((System.nanoTime() - start) / 1_000_000);
            } catch (IOException e) {
                return 0;                                           // reset: cut all the same
            }
        });
        CompletableFuture<Trickle> slowloris = CompletableFuture.supplyAsync(() -> {
            long connecting = System.nanoTime();                    // the server's deadline starts after this
            try (Socket socket = socket()) {                        // the request line and headers, a byte every 0.3 s
                return trickle(connecting, socket, upgradeHead(), Duration.ofMillis(300));
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        CompletableFuture<Trickle> keptAlive = CompletableFuture.supplyAsync(() -> {
            try (Socket socket = socket()) {                        // one quick request, then a slow second head
                assertThat(request(socket, "/index")).isEqualTo("HTTP/1.1 200 Hello world");
                return trickle(System.nanoTime(), socket, "GET /index HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "s".repeat(40) + "\r\n\r\n",
                        Duration.ofMillis(300));
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        });

        // The same kind of trickle to a server without the deadline, for longer than the deadline: it is served, since
        // Jetty's own idle timeout (30 s) is reset by every byte. So it is the deadline, and nothing else, that cuts.
        CompletableFuture<String> withoutDeadline = CompletableFuture.supplyAsync(() -> {
            try (TestServer off = TestServer.start(TestServer.config().handshakeTimeout(Duration.ZERO).build());
                 Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", off.port()), 5000);
                String head = "GET /index HTTP/1.1\r\nHost: localhost\r\n";
                OutputStream out = socket.getOutputStream();
                for (int i = 0; i < 6; i++) {
                    out.write(head.charAt(i));
                    out.flush();
                    Thread.sleep(300);
                }
                out.write((head.substring(6) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.setSoTimeout(10_000);
                return new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        });

        Trickle cut = slowloris.get();
        assertThat(cut.bytes()).as("cut before its head was whole").isBetween(1, upgradeHead().length() - 1);
        assertThat(cut.millis()).as("not before the deadline").isGreaterThanOrEqualTo(DEADLINE.toMillis());
        assertThat(keptAlive.get().bytes()).as("a later slow head is cut too").isBetween(1, 60);
        assertThat(silent.get()).as("ms until a silent connection was cut").isGreaterThanOrEqualTo((int) DEADLINE.toMillis() - 50);
        assertThat(withoutDeadline.get()).as("the trickle, served without the deadline").isEqualTo("HTTP/1.1 200");
        Await.until("three cuts counted", Duration.ofSeconds(10),
                () -> server.metric("squall_limited_total{limit=\"handshake_timeout\"}") - cutBefore, 3.0);

        // By now each of those has lived past several deadlines: the finished ones are untouched.
        webSocket.send("still here");
        assertThat(webSocket.takeText()).isEqualTo("new message :still here");
        assertThat(server.publish("news", "\"after\"").path("delivered").asInt()).isEqualTo(1);
        assertThat(stream.take().data()).isEqualTo("after");
        assertThat(request(resting, "/index")).as("a kept-alive connection resting between requests")
                .isEqualTo("HTTP/1.1 200 Hello world");
        assertThat(server.metric("squall_limit_connections")).as("the cut ones held no place").isEqualTo(2.0);
        webSocket.close();
        stream.close();
        resting.close();
    }
}
