package dev.squall.bench.ws;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client against a scripted server on a plain socket: every frame length encoding, a frame larger than the
 * read buffer, a frame split across reads, fragmentation, ping/pong, masking and close.
 */
@Timeout(30)
class EventLoopProtocolTest {
    private static final byte[] UPGRADE_RESPONSE = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private final List<byte[]> received = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile int closeCode;

    @Test
    void decodesEveryLengthAnswersPingsAndMasksItsFrames() throws Exception {
        byte[] tiny = text(5);
        byte[] medium = text(300);        // 16-bit length
        byte[] large = text(70_000);      // 64-bit length, fits the read buffer
        byte[] huge = text(600_000);      // larger than the 256 KiB read buffer

        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            WsHandler handler = new WsHandler() {
                @Override
                public void onText(WsConnection connection, ByteBuffer frame, int offset, int length) {
                    byte[] copy = new byte[length];
                    frame.get(offset, copy);
                    received.add(copy);
                    if (received.size() == 1) {
                        connection.sendText("ack".getBytes(StandardCharsets.US_ASCII));
                    }
                }

                @Override
                public void onClose(WsConnection connection, int code, String reason) {
                    closeCode = code;
                    closed.countDown();
                }
            };
            try (ClientPool pool = new ClientPool((InetSocketAddress) server.getLocalSocketAddress(), "/ws", 1, handler)) {
                Thread connecting = new Thread(() -> {
                    try {
                        pool.connect(1, 1, 10_000);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                });
                connecting.start();
                try (Socket socket = server.accept()) {
                    InputStream in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    String request = readHead(in);
                    assertTrue(request.startsWith("GET /ws HTTP/1.1\r\n"), request);
                    assertTrue(request.contains("Sec-WebSocket-Version: 13"), request);

                    // the 101 and the first frame in one write: the client must not lose the frame
                    out.write(concat(UPGRADE_RESPONSE, frame(0x81, tiny)));
                    out.flush();
                    assertArrayEquals("ack".getBytes(StandardCharsets.US_ASCII), readClientFrame(in, 0x1));

                    out.write(concat(frame(0x81, medium), frame(0x81, large)));
                    byte[] split = frame(0x81, tiny);          // one frame, byte by byte: header split too
                    for (byte b : split) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(2);
                    }
                    out.write(frame(0x81, huge));
                    out.write(frame(0x01, "frag".getBytes(StandardCharsets.US_ASCII)));   // text, not FIN
                    out.write(frame(0x89, "p1".getBytes(StandardCharsets.US_ASCII)));     // ping in between
                    out.write(frame(0x80, "ment".getBytes(StandardCharsets.US_ASCII)));   // continuation, FIN
                    out.flush();
                    assertArrayEquals("p1".getBytes(StandardCharsets.US_ASCII), readClientFrame(in, 0xA));

                    out.write(frame(0x88, new byte[] {0x03, (byte) 0xE8}));              // close 1000
                    out.flush();
                    assertArrayEquals(new byte[] {0x03, (byte) 0xE8}, readClientFrame(in, 0x8));
                }
                assertTrue(closed.await(5, TimeUnit.SECONDS));
                connecting.join(5_000);
            }
        }
        assertEquals(1000, closeCode);
        assertEquals(6, received.size());
        assertArrayEquals(tiny, received.get(0));
        assertArrayEquals(medium, received.get(1));
        assertArrayEquals(large, received.get(2));
        assertArrayEquals(tiny, received.get(3));
        assertArrayEquals(huge, received.get(4));
        assertArrayEquals("fragment".getBytes(StandardCharsets.US_ASCII), received.get(5));
    }

    private static byte[] text(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    /** An unmasked server frame with the shortest length encoding. */
    private static byte[] frame(int firstByte, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(payload.length + 10);
        b.put((byte) firstByte);
        if (payload.length < 126) {
            b.put((byte) payload.length);
        } else if (payload.length <= 0xFFFF) {
            b.put((byte) 126).putShort((short) payload.length);
        } else {
            b.put((byte) 127).putLong(payload.length);
        }
        b.put(payload);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** Reads one client frame, checks FIN, opcode and that it is masked, and returns the unmasked payload. */
    private static byte[] readClientFrame(InputStream stream, int opcode) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        assertEquals(0x80 | opcode, b0, "FIN and opcode");
        assertTrue((b1 & 0x80) != 0, "client frames must be masked");
        int length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = (int) in.readLong();
        }
        byte[] mask = in.readNBytes(4);
        byte[] payload = in.readNBytes(length);
        for (int i = 0; i < length; i++) {
            payload[i] ^= mask[i & 3];
        }
        return payload;
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("EOF in request head");
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
