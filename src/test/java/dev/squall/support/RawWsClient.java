package dev.squall.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A WebSocket client on a bare socket, for peers that misbehave: it never answers pings unless told to,
 * can stop reading, and can write arbitrary bytes. Frames are written masked, as RFC 6455 requires of clients.
 */
public final class RawWsClient implements AutoCloseable {

    public static final int CONTINUATION = 0x0, TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xA;

    /** One frame read from the server. */
    public record Frame(int opcode, byte[] payload) {
        public String text() { return new String(payload, StandardCharsets.UTF_8); }
        public int closeCode() { return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005; }
    }

    private static final SecureRandom random = new SecureRandom();

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String statusLine;
    private final Map<String, String> responseHeaders;

    private RawWsClient(Socket socket, String statusLine, Map<String, String> responseHeaders) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.statusLine = statusLine;
        this.responseHeaders = responseHeaders;
    }

    /** Sends a valid handshake to {@code /ws} and reads the response (101 or an error). */
    public static RawWsClient connect(int port) throws IOException {
        return connect(port, Map.of(), 0);
    }

    /** Handshake with extra headers; {@code receiveBuffer} > 0 shrinks the socket's receive buffer (stalled peers). */
    public static RawWsClient connect(int port, Map<String, String> extraHeaders, int receiveBuffer) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "localhost:" + port);
        headers.put("Upgrade", "websocket");
        headers.put("Connection", "Upgrade");
        byte[] key = new byte[16];
        random.nextBytes(key);
        headers.put("Sec-WebSocket-Key", Base64.getEncoder().encodeToString(key));
        headers.put("Sec-WebSocket-Version", "13");
        headers.putAll(extraHeaders);
        headers.values().removeIf(String::isEmpty);
        StringBuilder request = new StringBuilder("GET /ws HTTP/1.1\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        request.append("\r\n");
        return handshake(port, request.toString().getBytes(StandardCharsets.US_ASCII), receiveBuffer);
    }

    /** Sends any bytes as the handshake (malformed ones included) and reads the HTTP response head. */
    public static RawWsClient handshake(int port, byte[] request, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(request);
        InputStream in = socket.getInputStream();
        String head = readHead(in);
        String[] lines = head.split("\r\n");
        Map<String, String> responseHeaders = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) responseHeaders.put(lines[i].substring(0, colon).trim().toLowerCase(), lines[i].substring(colon + 1).trim());
        }
        return new RawWsClient(socket, lines[0], responseHeaders);
    }

    /** The HTTP status code of the handshake response. */
    public int status() {
        return Integer.parseInt(statusLine.split(" ")[1]);
    }

    public String header(String name) {
        return responseHeaders.get(name.toLowerCase());
    }

    /** Reads the next frame, waiting at most {@code deadline}. */
    public Frame read(Duration deadline) throws IOException {
        socket.setSoTimeout((int) deadline.toMillis());
        int first = in.readUnsignedByte();
        int second = in.readUnsignedByte();
        long length = second & 0x7f;
        if (length == 126) length = in.readUnsignedShort();
        else if (length == 127) length = in.readLong();
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(first & 0x0f, payload);
    }

    /** Reads frames, answering nothing, until one with {@code opcode} arrives. */
    public Frame readUntil(int opcode, Duration deadline) throws IOException {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            long left = Math.max(1, (end - System.nanoTime()) / 1_000_000);
            Frame frame = read(Duration.ofMillis(left));
            if (frame.opcode() == opcode) return frame;
        }
    }

    /**
     * Reads until the server ends the connection: returns the close code it sent, or 1006 when the socket was
     * dropped without a close frame. Throws if the connection is still open at the deadline.
     */
    public int awaitServerClose(Duration deadline) throws IOException {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) throw new AssertionError("server did not close within " + deadline);
            try {
                Frame frame = read(Duration.ofMillis(left));
                if (frame.opcode() == CLOSE) return frame.closeCode();
            } catch (EOFException | java.net.SocketException e) {
                return 1006;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("server did not close within " + deadline);
            }
        }
    }

    public void sendText(String text) throws IOException {
        sendFrame(TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes one final, masked frame. */
    public void sendFrame(int opcode, byte[] payload) throws IOException {
        sendFrame(opcode, true, payload);
    }

    /** Writes one masked frame; {@code fin} false: more fragments of its message follow (as CONTINUATION frames). */
    public void sendFrame(int opcode, boolean fin, byte[] payload) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write((fin ? 0x80 : 0) | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length <= 0xffff) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) frame.write((int) ((long) payload.length >>> shift) & 0xff);
        }
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        frame.write(mask);
        for (int i = 0; i < payload.length; i++) frame.write(payload[i] ^ mask[i % 4]);
        out.write(frame.toByteArray());
        out.flush();
    }

    /** Writes raw bytes after the handshake, frame or not. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) break;
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
