package dev.squall.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange on a bare socket, for what the JDK's HttpClient will not send (a chosen {@code Host},
 * a hand-made upgrade): the request goes out byte for byte, and the whole response, body included, comes back.
 */
public record RawHttp(int status, Map<String, List<String>> headers, String body) {

    /** {@code method target} with {@code Host: localhost:PORT} unless {@code headers} names another ("" drops one). */
    public static RawHttp request(int port, String method, String target, Map<String, String> headers, byte[] body) throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Host", "localhost:" + port);
        all.putAll(headers);
        all.putIfAbsent("Connection", "close");
        if (body.length > 0) all.put("Content-Length", Integer.toString(body.length));
        all.values().removeIf(String::isEmpty);
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
        all.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("\r\n");
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        request.writeBytes(body);
        return send(port, request.toByteArray());
    }

    /** A GET with these headers. */
    public static RawHttp get(int port, String target, Map<String, String> headers) throws IOException {
        return request(port, "GET", target, headers, new byte[0]);
    }

    /** Sends these bytes and reads one response (Content-Length, chunked, or up to the end of the stream). */
    public static RawHttp send(int port, byte[] request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request);
            InputStream in = socket.getInputStream();
            String[] lines = readHead(in).split("\r\n");
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                            .add(lines[i].substring(colon + 1).trim());
                }
            }
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            byte[] body;
            List<String> length = headers.get("content-length");
            List<String> encoding = headers.get("transfer-encoding");
            if (status == 101 || status == 204 || status == 304) body = new byte[0];
            else if (length != null) body = in.readNBytes(Integer.parseInt(length.get(0)));
            else if (encoding != null && encoding.get(0).equalsIgnoreCase("chunked")) body = readChunked(in);
            else body = in.readAllBytes();
            return new RawHttp(status, headers, new String(body, StandardCharsets.UTF_8));
        }
    }

    /** The first value of a response header, or null. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null ? null : values.get(0);
    }

    /** Every value of a response header (several {@code Set-Cookie} or {@code Vary} lines). */
    public List<String> headers(String name) {
        return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed before the end of the response head: " + head);
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = readLine(in).split(";", 2)[0].trim();
            int length = Integer.parseInt(size, 16);
            if (length == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.writeBytes(in.readNBytes(length));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') line.write(b);
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }
}
