package dev.squall.bench;

import java.nio.ByteBuffer;

/** Looks for a marker in a received frame where it lies in the loop's read buffer: no String per frame. */
final class FrameSearch {

    private FrameSearch() {}

    /** Whether the bytes at {@code [offset, offset + length)} of {@code frame} contain {@code needle}. */
    static boolean contains(ByteBuffer frame, int offset, int length, byte[] needle) {
        outer:
        for (int i = offset; i <= offset + length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (frame.get(i + j) != needle[j]) continue outer;
            }
            return true;
        }
        return false;
    }
}
