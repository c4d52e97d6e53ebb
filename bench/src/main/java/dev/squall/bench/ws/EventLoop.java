package dev.squall.bench.ws;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One selector thread driving many {@link WsConnection}s: connect, upgrade, frame decoding, pong, close.
 * Deliberately minimal (no extensions, no subprotocols, no per-message String or callback object) so that the
 * generator spends far less CPU per received message than the servers it measures.
 */
public final class EventLoop {
    /** Big enough that one read drains a burst of small broadcast frames in a single syscall. */
    private static final int READ_BUFFER_BYTES = 256 * 1024;
    /** Reads per readiness event, so one busy connection cannot starve the others on this loop. */
    private static final int MAX_READS_PER_EVENT = 8;
    private static final long MAX_FRAME_BYTES = 64L * 1024 * 1024;
    private static final int MAX_HANDSHAKE_BYTES = 16 * 1024;
    private static final long SELECT_TIMEOUT_MS = 100;

    final ClientFrames frames = new ClientFrames();
    private final WsHandler handler;
    private final byte[] upgradeRequest;
    private final Selector selector;
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<WsConnection> connections = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    EventLoop(String name, InetSocketAddress target, String path, WsHandler handler) throws IOException {
        this(name, target, path, null, handler);
    }

    /** {@code subprotocol}: offered as {@code Sec-WebSocket-Protocol} (null: none, the tutorial's protocol). */
    EventLoop(String name, InetSocketAddress target, String path, String subprotocol, WsHandler handler) throws IOException {
        this.handler = handler;
        // A fixed key is fine: the client only needs a syntactically valid one, and we do not verify the
        // accept hash (the 101 status is proof enough for a benchmark against our own servers).
        this.upgradeRequest = ("GET " + path + " HTTP/1.1\r\n"
                + "Host: " + target.getHostString() + ":" + target.getPort() + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + (subprotocol == null ? "" : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n")
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        this.selector = Selector.open();
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    long threadId() {
        return thread.getId();
    }

    /** Runs {@code task} on this loop's thread: the only safe way to touch its connections from outside. */
    public void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    void connect(int id, InetSocketAddress target) {
        execute(() -> openConnection(id, target));
    }

    /** Sends a close frame on every open connection and closes the sockets. */
    void closeAll(int code) {
        execute(() -> {
            for (WsConnection c : connections) {
                if (c.state == WsConnection.State.OPEN && !c.closeSent) {
                    c.closeSent = true;
                    send(c, frames.close(code));
                }
                close(c, code, "closed by client");
            }
            connections.clear();
        });
    }

    void stop(long timeoutMs) throws InterruptedException {
        running = false;
        selector.wakeup();
        thread.join(timeoutMs);
    }

    private void run() {
        try {
            while (running) {
                selector.select(this::onReady, SELECT_TIMEOUT_MS);
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run();
                }
            }
        } catch (IOException e) {
            System.err.println(thread.getName() + ": selector failed: " + e);
        } finally {
            // a closeAll() queued just before stop() still gets to send its close frames
            for (Runnable task; (task = tasks.poll()) != null; ) {
                task.run();
            }
            for (WsConnection c : connections) {
                close(c, 1001, "generator stopping");
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    private void openConnection(int id, InetSocketAddress target) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open();
        } catch (IOException e) { // typically EMFILE: the open-file limit
            handler.onClose(new WsConnection(id, this, null), 1006, "socket: " + e.getMessage());
            return;
        }
        WsConnection c = new WsConnection(id, this, channel);
        connections.add(c);
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            boolean connected = channel.connect(target);
            c.key = channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, c);
            if (connected) {
                startUpgrade(c);
            }
        } catch (IOException e) {
            close(c, 1006, "connect: " + e.getMessage());
        }
    }

    private void onReady(SelectionKey key) {
        WsConnection c = (WsConnection) key.attachment();
        if (!key.isValid()) {
            return;
        }
        int ready = key.readyOps();
        if ((ready & SelectionKey.OP_CONNECT) != 0) {
            try {
                c.channel.finishConnect();
            } catch (IOException e) {
                close(c, 1006, "connect: " + e.getMessage());
                return;
            }
            startUpgrade(c);
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            flush(c);
        }
        if ((ready & SelectionKey.OP_READ) != 0 && c.state != WsConnection.State.CLOSED) {
            onReadable(c);
        }
    }

    private void startUpgrade(WsConnection c) {
        c.state = WsConnection.State.HANDSHAKING;
        c.key.interestOps(SelectionKey.OP_READ);
        send(c, ByteBuffer.wrap(upgradeRequest));
    }

    private void onReadable(WsConnection c) {
        for (int i = 0; i < MAX_READS_PER_EVENT && c.state != WsConnection.State.CLOSED; i++) {
            if (c.largeFrame != null) {
                if (!readLargeFrame(c)) {
                    return;
                }
                continue;
            }
            ByteBuffer buf = readBuffer;
            buf.clear();
            if (c.carryLength > 0) {
                buf.put(c.carry, 0, c.carryLength);
                c.carryLength = 0;
            }
            int n;
            try {
                n = c.channel.read(buf);
            } catch (IOException e) {
                close(c, 1006, "read: " + e.getMessage());
                return;
            }
            if (n < 0) {
                close(c, 1006, "connection closed without close frame");
                return;
            }
            buf.flip();
            boolean filled = buf.limit() == buf.capacity();
            if (c.state == WsConnection.State.HANDSHAKING && !consumeUpgradeResponse(c, buf)) {
                keepCarry(c, buf);
                return;
            }
            decode(c, buf);
            if (c.state == WsConnection.State.CLOSED) {
                return;
            }
            keepCarry(c, buf);
            if (!filled) {
                return; // the socket is drained
            }
        }
    }

    /** Returns true once the large frame was completed and delivered. */
    private boolean readLargeFrame(WsConnection c) {
        int n;
        try {
            n = c.channel.read(c.largeFrame);
        } catch (IOException e) {
            close(c, 1006, "read: " + e.getMessage());
            return false;
        }
        if (n < 0) {
            close(c, 1006, "connection closed inside a frame");
            return false;
        }
        if (c.largeFrame.hasRemaining()) {
            return false;
        }
        ByteBuffer frame = c.largeFrame.flip();
        c.largeFrame = null;
        decode(c, frame);
        return true;
    }

    private void keepCarry(WsConnection c, ByteBuffer buf) {
        int r = buf.remaining();
        if (r == 0 || c.state == WsConnection.State.CLOSED) {
            return;
        }
        if (c.carry == null || c.carry.length < r) {
            c.carry = new byte[Math.max(r, 256)];
        }
        buf.get(c.carry, 0, r);
        c.carryLength = r;
    }

    /** Consumes the HTTP 101 response; false if it is not complete yet. */
    private boolean consumeUpgradeResponse(WsConnection c, ByteBuffer buf) {
        int start = buf.position();
        int end = -1;
        for (int i = start; i + 3 < buf.limit(); i++) {
            if (buf.get(i) == '\r' && buf.get(i + 1) == '\n' && buf.get(i + 2) == '\r' && buf.get(i + 3) == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            if (buf.remaining() > MAX_HANDSHAKE_BYTES) {
                close(c, 1002, "upgrade response too long");
            }
            return false;
        }
        byte[] head = new byte[end - start];
        buf.get(start, head);
        String response = new String(head, StandardCharsets.ISO_8859_1);
        if (!response.startsWith("HTTP/1.1 101")) {
            int eol = response.indexOf('\r');
            close(c, 1002, "upgrade refused: " + (eol > 0 ? response.substring(0, eol) : response));
            return false;
        }
        buf.position(end + 4);
        c.state = WsConnection.State.OPEN;
        c.upgraded = true;
        handler.onOpen(c);
        return true;
    }

    /** Decodes every complete frame in {@code buf}; leaves a trailing partial frame unconsumed. */
    private void decode(WsConnection c, ByteBuffer buf) {
        while (c.state == WsConnection.State.OPEN && buf.remaining() >= 2) {
            int p = buf.position();
            int available = buf.remaining();
            int b0 = buf.get(p) & 0xFF;
            int b1 = buf.get(p + 1) & 0xFF;
            if ((b1 & 0x80) != 0) {
                close(c, 1002, "server sent a masked frame");
                return;
            }
            int header = 2;
            long length = b1 & 0x7F;
            if (length == 126) {
                if (available < 4) {
                    return;
                }
                length = buf.getShort(p + 2) & 0xFFFF;
                header = 4;
            } else if (length == 127) {
                if (available < 10) {
                    return;
                }
                length = buf.getLong(p + 2);
                header = 10;
            }
            if (length < 0 || length > MAX_FRAME_BYTES) {
                close(c, 1009, "frame too large: " + length);
                return;
            }
            long total = header + length;
            if (available < total) {
                if (total > buf.capacity()) {
                    c.largeFrame = ByteBuffer.allocate((int) total);
                    c.largeFrame.put(buf);
                }
                return;
            }
            buf.position(p + (int) total);
            onFrame(c, (b0 & 0x80) != 0, b0 & 0x0F, buf, p + header, (int) length);
        }
    }

    private void onFrame(WsConnection c, boolean fin, int opcode, ByteBuffer buf, int offset, int length) {
        switch (opcode) {
            case ClientFrames.OP_TEXT, ClientFrames.OP_BINARY -> {
                if (c.fragments != null) {
                    close(c, 1002, "new message inside a fragmented one");
                } else if (fin) {
                    handler.onText(c, buf, offset, length);
                } else {
                    c.fragments = ByteBuffer.allocate(Math.max(1024, 2 * length));
                    appendFragment(c, buf, offset, length);
                }
            }
            case ClientFrames.OP_CONTINUATION -> {
                if (c.fragments == null) {
                    close(c, 1002, "continuation without a message");
                    return;
                }
                appendFragment(c, buf, offset, length);
                if (fin) {
                    ByteBuffer message = c.fragments.flip();
                    c.fragments = null;
                    handler.onText(c, message, 0, message.limit());
                }
            }
            case ClientFrames.OP_PING -> {
                byte[] payload = new byte[length];
                buf.get(offset, payload);
                send(c, frames.frame(ClientFrames.OP_PONG, payload, 0, length));
            }
            case ClientFrames.OP_PONG -> {
                // we never ping; an unsolicited pong is allowed and ignored (RFC 6455 5.5.3)
            }
            case ClientFrames.OP_CLOSE -> {
                int code = length >= 2 ? ((buf.get(offset) & 0xFF) << 8) | (buf.get(offset + 1) & 0xFF) : 1005;
                if (!c.closeSent) {
                    c.closeSent = true;
                    send(c, frames.close(code == 1005 ? 1000 : code));
                }
                close(c, code, "closed by server");
            }
            default -> close(c, 1002, "unknown opcode " + opcode);
        }
    }

    private void appendFragment(WsConnection c, ByteBuffer buf, int offset, int length) {
        if (c.fragments.position() + (long) length > MAX_FRAME_BYTES) {
            close(c, 1009, "fragmented message too large");
            return;
        }
        if (c.fragments.remaining() < length) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * c.fragments.capacity(), c.fragments.position() + length));
            c.fragments = bigger.put(c.fragments.flip());
        }
        c.fragments.put(c.fragments.position(), buf, offset, length);
        c.fragments.position(c.fragments.position() + length);
    }

    /** Writes now if nothing is queued, else queues and waits for OP_WRITE: per-connection order is kept. */
    void send(WsConnection c, ByteBuffer bytes) {
        if (c.state == WsConnection.State.CLOSED) {
            return;
        }
        if (!c.outbound.isEmpty()) {
            c.outbound.add(bytes);
            return;
        }
        try {
            c.channel.write(bytes);
        } catch (IOException e) {
            close(c, 1006, "write: " + e.getMessage());
            return;
        }
        if (bytes.hasRemaining()) {
            c.outbound.add(bytes);
            c.key.interestOps(c.key.interestOps() | SelectionKey.OP_WRITE);
        }
    }

    private void flush(WsConnection c) {
        try {
            for (ByteBuffer head; (head = c.outbound.peek()) != null; c.outbound.poll()) {
                c.channel.write(head);
                if (head.hasRemaining()) {
                    return;
                }
            }
        } catch (IOException e) {
            close(c, 1006, "write: " + e.getMessage());
            return;
        }
        c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_WRITE);
    }

    private void close(WsConnection c, int code, String reason) {
        if (c.state == WsConnection.State.CLOSED) {
            return;
        }
        c.state = WsConnection.State.CLOSED;
        if (c.key != null) {
            c.key.cancel();
        }
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // already closed by the peer
        }
        c.outbound.clear();
        c.carry = null;
        c.largeFrame = null;
        c.fragments = null;
        handler.onClose(c, code, reason);
    }
}
