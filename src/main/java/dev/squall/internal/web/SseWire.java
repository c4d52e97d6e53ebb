package dev.squall.internal.web;

import dev.squall.internal.broker.Message;
import dev.squall.internal.hub.Wire;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import org.eclipse.jetty.ee10.servlet.HttpOutput;
import org.eclipse.jetty.ee10.servlet.ServletChannel;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link Wire} on one SSE response: the servlet container's non-blocking output ({@link WriteListener}), so no
 * thread ever waits for a client's socket. Javalin's own {@code SseClient} writes with blocking calls; a client
 * that stops reading would hold the writing thread, which for a broadcast is a fan-out writer shared by many.
 *
 * <p>Events go out in the order they were sent, pings included (an event stream has no frames that overtake
 * others). An event's {@link Wire.Written} is told only once the socket has taken all of it, so what Jetty
 * still holds counts against the connection's queue bounds.
 *
 * <p>The servlet rules: {@code write} only after {@code isReady()} said true, and nothing while a write is
 * pending; after {@code isReady()} said false the container calls {@link #onWritePossible} once the socket takes
 * more. All of that happens under one lock, held only for non-blocking calls; callbacks run outside it.
 *
 * <p>Threads: {@code send}/{@code flush} come from the connection's one writer at a time, {@code ping} from the
 * heartbeat, {@code close}/{@code abort} from anywhere, {@code onWritePossible}/{@code onError} from Jetty, and the
 * {@link HangupWatch}'s word that the client has gone from a Jetty pool thread.
 */
public final class SseWire implements Wire, WriteListener {

    /** What the route does when the stream is over. */
    @FunctionalInterface
    interface Ended {
        /**
         * Called once. {@code closeCode}: what the metrics count (1006 when the peer went away); {@code cleanly}:
         * the response is intact and may be completed as usual, rather than failed or cut by the server.
         */
        void ended(int closeCode, boolean cleanly);
    }

    private final Ended ended;
    private final ServletOutputStream out;
    private final ServletChannel channel;

    private final Object lock = new Object();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final List<Pending> issued = new ArrayList<>();   // written, not yet known to be in the socket
    private boolean waiting;                  // isReady() said false: onWritePossible comes when the socket takes more
    private boolean pinging;                  // a ping is queued or not yet in the socket: one at a time is enough
    private boolean closing;
    private int closeCode = 1000;
    private volatile long flushedBytes;       // in the socket; written by the pump under the lock, read by the heartbeat
    private final AtomicBoolean over = new AtomicBoolean();
    private volatile @Nullable HangupWatch hangup;

    /** Abnormal closure: what the metrics count when the client went away, as for a WebSocket that was dropped. */
    static final int GONE = 1006;

    SseWire(ServletOutputStream out, ServletChannel channel, Ended ended) {
        this.out = out;
        this.channel = channel;
        this.ended = ended;
    }

    @Override
    public void send(Message message, boolean more, Written written) {
        boolean queued;
        synchronized (lock) {
            queued = !over.get();
            if (queued) queue.add(new Pending(message.payload(), written));
        }
        if (!queued) {
            written.failed(new IOException("the event stream has ended"));
        } else if (!more) {
            pump();
        }
    }

    /** Each event is its own write (one chunk), so {@code more} only saves a pump per event. */
    @Override
    public void flush() {
        pump();
    }

    /** A comment line after whatever is queued: it cannot overtake events, but it shows whether the socket takes data. */
    @Override
    public void ping() {
        synchronized (lock) {
            if (pinging || over.get() || closing) return;
            pinging = true;
            queue.add(new Pending(SseFraming.PING.payload(), null));
        }
        pump();
    }

    /** Ends the stream once what is queued is written; an EventSource then reconnects after its retry delay. */
    @Override
    public void close(int code, String reason) {
        synchronized (lock) {
            if (closing) return;
            closing = true;
            closeCode = code;
        }
        pump();
    }

    /** Cuts the connection: for a peer that reads nothing, so would never see the stream end. */
    @Override
    public void abort() {
        int code;
        synchronized (lock) {
            code = closing ? closeCode : GONE;
        }
        IOException cut = new IOException("event stream dropped by the server");
        stopHangupWatch();                  // the cut closes the connection, which is no client hanging up
        channel.abort(cut);
        end(code, cut);
    }

    /**
     * From now on a client that closes or resets its connection leaves at once (a read kept pending: see
     * {@link HangupWatch}) rather than when a write to it fails. HTTP/1.x only.
     */
    void watchForHangup() {
        HangupWatch watch = HangupWatch.start(channel.getEndPoint(), this::hungUp);
        hangup = watch;
        if (watch != null && over.get()) watch.stop();       // ended while it started: end() did not see it
    }

    private void stopHangupWatch() {
        HangupWatch watch = hangup;
        if (watch != null) watch.stop();
    }

    /**
     * The client has gone. The stream ends as one the server ends does: the response is intact, so the route
     * completes it the usual way and Jetty, finishing it, finds nobody there. Cutting it here instead
     * ({@code abort}) made Jetty recycle the request under Javalin's feet when the client went during the request's
     * own dispatch.
     */
    private void hungUp(Throwable cause) {
        end(GONE, null);
    }

    /**
     * Nothing ever arrives on an event stream, so this counts what the socket has taken instead: bytes the socket has
     * taken. The heartbeat's dead-peer check asks whether this moved after a ping; here it moves when the ping
     * comment (or anything else) got out. A healthy client that reads is never dropped for sending nothing, and one
     * whose socket takes nothing is dropped after the ping timeout, like a WebSocket peer whose pong never came.
     */
    @Override
    public long inboundActivity() {
        return flushedBytes;
    }

    @Override
    public long outboundActivity() {
        return flushedBytes;
    }

    @Override
    public void onWritePossible() {
        synchronized (lock) {
            waiting = false;
        }
        pump();
    }

    @Override
    public void onError(Throwable failure) {
        end(GONE, failure);
    }

    /** Writes what is queued for as long as the socket takes it without waiting; one thread at a time (the lock). */
    private void pump() {
        List<Pending> done = null;
        boolean finished = false;
        @Nullable Throwable failure = null;
        synchronized (lock) {
            if (waiting || over.get()) return;
            try {
                while (true) {
                    if (!out.isReady()) {
                        waiting = true;
                        break;
                    }
                    if (!issued.isEmpty()) {                          // ready again: what was issued is in the socket
                        long bytes = 0;
                        for (Pending pending : issued) {
                            bytes += pending.size;
                            if (pending.written == null) pinging = false;
                        }
                        flushedBytes += bytes;
                        done = new ArrayList<>(issued);
                        issued.clear();
                    }
                    Pending next = queue.poll();
                    if (next == null) {
                        finished = closing;
                        break;
                    }
                    // Jetty writes a ByteBuffer straight to the connection (no copy into its response buffer), as
                    // one chunk: isReady() is false until the socket has taken it all.
                    write(next.payload);
                    issued.add(next);
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
        }
        if (done != null) {
            for (Pending pending : done) {
                if (pending.written != null) pending.written.succeeded();
            }
        }
        if (failure != null) {
            end(GONE, failure);
        } else if (finished) {
            end(closeCode, null);
        }
    }

    private void write(ByteBuffer payload) throws IOException {
        if (out instanceof HttpOutput jetty) {
            jetty.write(payload);
        } else {                                    // a filter wrapped the response: its stream takes arrays only
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            out.write(bytes);
        }
    }

    /** The stream is over, once: what is still held fails (releasing its share of the bounds), and the route is told. */
    private void end(int code, @Nullable Throwable cause) {
        if (!over.compareAndSet(false, true)) return;
        stopHangupWatch();
        List<Pending> dropped;
        synchronized (lock) {
            dropped = new ArrayList<>(issued);
            dropped.addAll(queue);
            issued.clear();
            queue.clear();
        }
        IOException failure = new IOException("the event stream has ended", cause);
        for (Pending pending : dropped) {
            if (pending.written != null) pending.written.failed(failure);
        }
        ended.ended(code, cause == null);
    }

    /** One event handed to the wire, with what to tell once it is out (null for a ping, which nobody counts). */
    private static final class Pending {
        final ByteBuffer payload;
        final int size;
        final @Nullable Written written;

        Pending(ByteBuffer payload, @Nullable Written written) {
            this.payload = payload;
            this.size = payload.remaining();
            this.written = written;
        }
    }
}
