package dev.squall.bench.ws;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * One client WebSocket. All fields are owned by its event-loop thread. The inbound side keeps no buffer of its
 * own while idle (the loop's shared read buffer is used), so 15,000 idle connections cost almost nothing here:
 * only a partially received frame is carried over between reads.
 */
public final class WsConnection {
    enum State { CONNECTING, HANDSHAKING, OPEN, CLOSED }

    final int id;
    final EventLoop loop;
    final SocketChannel channel;
    SelectionKey key;
    State state = State.CONNECTING;

    /** Bytes of an incomplete frame (or handshake) kept until the next read; {@code carryLength} are valid. */
    byte[] carry;
    int carryLength;
    /** A frame too large for the shared read buffer is read straight into this one until complete. */
    ByteBuffer largeFrame;
    /** A fragmented message being reassembled (rare: servers here send small messages unfragmented). */
    ByteBuffer fragments;
    boolean closeSent;
    /** The server answered 101: distinguishes a failed connect from a later close. */
    boolean upgraded;

    final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>(2);

    /** Per-connection state of the benchmark mode (e.g. last sequence seen per publisher). */
    public Object attachment;

    WsConnection(int id, EventLoop loop, SocketChannel channel) {
        this.id = id;
        this.loop = loop;
        this.channel = channel;
    }

    public int id() {
        return id;
    }

    public boolean isOpen() {
        return state == State.OPEN;
    }

    /** Sends a masked text frame. Must be called on this connection's loop thread (e.g. from a callback). */
    public void sendText(byte[] payload) {
        loop.send(this, loop.frames.frame(ClientFrames.OP_TEXT, payload, 0, payload.length));
    }

    /** Runs {@code task} on this connection's loop thread, e.g. to send the first message of a round trip. */
    public void onLoop(Runnable task) {
        loop.execute(task);
    }
}
