package dev.squall.bench.http;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Publishes through {@code POST /receive} on one persistent HTTP/1.1 connection. A raw socket rather than
 * java.net.http: one request in flight, no executor hops, no per-request futures, and the request bytes are
 * built without copying the body twice. Not thread-safe: one per publisher thread.
 */
public final class HttpPublisher implements AutoCloseable {
    private static final int TIMEOUT_MS = 30_000;

    private final InetSocketAddress target;
    private final byte[] headPrefix;
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private int reconnects;

    public HttpPublisher(InetSocketAddress target, String path) {
        this.target = target;
        this.headPrefix = ("POST " + path + " HTTP/1.1\r\n"
                + "Host: " + target.getHostString() + ":" + target.getPort() + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: ").getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends {@code body} and waits for the whole response; returns the HTTP status. */
    public int publish(byte[] body) throws IOException {
        if (socket == null) {
            open();
        }
        byte[] length = (body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[headPrefix.length + length.length + body.length];
        System.arraycopy(headPrefix, 0, request, 0, headPrefix.length);
        System.arraycopy(length, 0, request, headPrefix.length, length.length);
        System.arraycopy(body, 0, request, headPrefix.length + length.length, body.length);
        out.write(request);
        out.flush();
        return readResponse();
    }

    /** How often the server closed the keep-alive connection and we had to reconnect. */
    public int reconnects() {
        return reconnects;
    }

    private void open() throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(TIMEOUT_MS);
        socket.connect(target, TIMEOUT_MS);
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream(), 8192);
    }

    private int readResponse() throws IOException {
        String status = readLine();
        if (!status.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long contentLength = -1;
        boolean chunked = false;
        boolean closeAfter = status.startsWith("HTTP/1.0");
        for (String line; !(line = readLine()).isEmpty(); ) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                contentLength = Long.parseLong(value);
            } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                chunked = value.toLowerCase().contains("chunked");
            } else if (name.equalsIgnoreCase("Connection")) {
                closeAfter = value.equalsIgnoreCase("close");
            }
        }
        if (chunked) {
            for (long size; (size = Long.parseLong(readLine().split(";")[0].trim(), 16)) > 0; ) {
                skip(size);
                readLine();
            }
            while (!readLine().isEmpty()) {
                // trailers
            }
        } else if (contentLength >= 0) {
            skip(contentLength);
        } else {
            closeAfter = true; // body runs to EOF: cannot reuse the connection
        }
        if (closeAfter) {
            close();
            reconnects++;
        }
        return code;
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder(64);
        for (int i = 0; i < 16_384; i++) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed by server");
            }
            if (b == '\n') {
                int n = line.length();
                return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
            }
            line.append((char) b);
        }
        throw new IOException("HTTP header line too long");
    }

    private void skip(long bytes) throws IOException {
        for (long left = bytes; left > 0; ) {
            long n = in.skip(left);
            if (n <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed inside the body");
                }
                n = 1;
            }
            left -= n;
        }
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }
}
