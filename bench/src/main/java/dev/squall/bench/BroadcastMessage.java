package dev.squall.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The text a fan-out publisher sends: {@code <phase><publisher>:<seq>:<publishNanos>:xxxx...} padded to a fixed
 * size. The timestamp is System.nanoTime (CLOCK_MONOTONIC on Linux, shared by all processes of the machine), so
 * a subscriber in another generator process can still compute publish-to-receipt latency. Parsed straight from
 * the read buffer: no String per delivery.
 */
final class BroadcastMessage {
    static final byte MEASURED = '#';
    /** Warm-up messages travel the same path but are not counted (JIT of server and generator). */
    static final byte WARMUP = '~';

    int publisher;
    long sequence;
    long publishNanos;
    private final long[] scratch = new long[1];

    private BroadcastMessage() {}

    static byte[] encode(byte phase, int publisher, long sequence, long publishNanos, int size) {
        byte[] head = ((char) phase + Integer.toString(publisher) + ":" + sequence + ":" + publishNanos + ":")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] body = Arrays.copyOf(head, Math.max(size, head.length));
        Arrays.fill(body, head.length, body.length, (byte) 'x');
        return body;
    }

    /** A reusable parser, one per loop thread. */
    static BroadcastMessage parser() {
        return new BroadcastMessage();
    }

    /** Parses the fields after the phase byte; false if the text is not a broadcast message. */
    boolean parse(ByteBuffer frame, int offset, int length) {
        int end = offset + length;
        int p = offset + 1;
        long[] value = scratch;
        if ((p = number(frame, p, end, value)) < 0) {
            return false;
        }
        publisher = (int) value[0];
        if ((p = number(frame, p, end, value)) < 0) {
            return false;
        }
        sequence = value[0];
        if (number(frame, p, end, value) < 0) {
            return false;
        }
        publishNanos = value[0];
        return true;
    }

    /** Parses a decimal ending in ':'; returns the index after the ':' or -1. */
    private static int number(ByteBuffer frame, int p, int end, long[] out) {
        boolean negative = p < end && frame.get(p) == '-';
        if (negative) {
            p++;
        }
        long v = 0;
        int digits = 0;
        for (; p < end; p++) {
            byte b = frame.get(p);
            if (b == ':') {
                out[0] = negative ? -v : v;
                return digits > 0 ? p + 1 : -1;
            }
            if (b < '0' || b > '9' || ++digits > 19) {
                return -1;
            }
            v = v * 10 + (b - '0');
        }
        return -1;
    }
}
