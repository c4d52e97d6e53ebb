package dev.squall.bench.ws;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Encodes client-to-server frames. RFC 6455 section 5.3 requires every client frame to be masked with a fresh
 * key; servers close the connection otherwise. Not thread-safe: one instance per event loop.
 */
final class ClientFrames {
    static final int OP_CONTINUATION = 0x0;
    static final int OP_TEXT = 0x1;
    static final int OP_BINARY = 0x2;
    static final int OP_CLOSE = 0x8;
    static final int OP_PING = 0x9;
    static final int OP_PONG = 0xA;

    private final SplittableRandom random = new SplittableRandom();

    /** A complete (FIN) frame with a masked copy of {@code payload[offset, offset+length)}. */
    ByteBuffer frame(int opcode, byte[] payload, int offset, int length) {
        int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
        ByteBuffer out = ByteBuffer.allocate(header + 4 + length);
        out.put((byte) (0x80 | opcode));
        if (length < 126) {
            out.put((byte) (0x80 | length));
        } else if (length <= 0xFFFF) {
            out.put((byte) (0x80 | 126));
            out.putShort((short) length);
        } else {
            out.put((byte) (0x80 | 127));
            out.putLong(length);
        }
        int mask = random.nextInt();
        out.putInt(mask);
        byte[] key = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
        for (int i = 0; i < length; i++) {
            out.put((byte) (payload[offset + i] ^ key[i & 3]));
        }
        return out.flip();
    }

    ByteBuffer close(int code) {
        byte[] body = {(byte) (code >>> 8), (byte) code};
        return frame(OP_CLOSE, body, 0, body.length);
    }
}
