package dev.squall.internal.web;

import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Keeps one read pending on the connection of an HTTP/1.1 event stream, so that a client that closes (FIN) or
 * resets (RST) its connection is noticed within milliseconds rather than when a write to it fails, up to a ping
 * interval later.
 *
 * <p>Why a read of our own: once Jetty 12.1 has parsed a {@code GET}, nothing reads its connection while the
 * response is open (its {@code HttpConnection} asks for more bytes only for a body someone reads, or for the next
 * request once the response is done), and a socket nobody reads tells nobody it was closed. Neither the servlet
 * API nor Jetty's listeners help here (tried, Jetty 12.1.12): a {@code ReadListener} on the request is told
 * {@code onAllDataRead} at once, as a {@code GET} has no body; {@code Request.addFailureListener} and the
 * connection's close listener fire only once a write has failed. A read reports both a FIN and a RST as the end of
 * the input ({@code fill} returns -1).
 *
 * <p>Bytes a client sends after its {@code GET} are dropped: the response says {@code Connection: close}, so no
 * second request is read on this connection anyway. Only for HTTP/1.x: over HTTP/2 the end point is the whole
 * connection, which Jetty's own session reads.
 */
public final class HangupWatch implements Callback {

    private final AbstractEndPoint endPoint;
    private final Consumer<Throwable> hungUp;
    private final ByteBuffer discard = BufferUtil.allocate(256);
    private final AtomicBoolean over = new AtomicBoolean();     // told, stopped, or given up: never told again

    private HangupWatch(AbstractEndPoint endPoint, Consumer<Throwable> hungUp) {
        this.endPoint = endPoint;
        this.hungUp = hungUp;
    }

    /**
     * Starts watching {@code endPoint}; {@code hungUp} is called once, on a pool thread, when the peer has gone.
     * Null when this end point cannot be watched (not one of Jetty's own, or someone else is reading it): the next
     * failed write still tells, as before.
     */
    static @Nullable HangupWatch start(EndPoint endPoint, Consumer<Throwable> hungUp) {
        if (!(endPoint instanceof AbstractEndPoint jetty)) return null;
        HangupWatch watch = new HangupWatch(jetty, hungUp);
        return jetty.tryFillInterested(watch) ? watch : null;
    }

    /**
     * Withdraws the pending read before the response completes normally: Jetty aborts a connection that still has
     * one when its response ends ("Pending read in onCompleted") instead of finishing it cleanly. Nothing else reads
     * this end point while the stream is open, so the read withdrawn is this one.
     */
    void stop() {
        if (over.compareAndSet(false, true)) withdraw();
    }

    private void withdraw() {
        endPoint.getFillInterest().onFail(new CancellationException("the event stream has ended"));
    }

    /**
     * Readable: the end of the input (the peer has gone), bytes to drop, or nothing yet (a spurious wake-up). One
     * read per wake-up, then wait again: a client that keeps sending holds no thread.
     */
    @Override
    public void succeeded() {
        if (over.get()) return;
        int read;
        try {
            BufferUtil.clear(discard);
            read = endPoint.fill(discard);
        } catch (IOException e) {
            hangUp(e);
            return;
        }
        if (read < 0) {
            hangUp(new EOFException("the client closed its connection"));
        } else if (!endPoint.tryFillInterested(this)) {
            over.set(true);                 // someone else reads it now: theirs to watch, and never withdrawn by us
        } else if (over.get()) {
            withdraw();                     // stopped while this was re-armed
        }
    }

    /**
     * The pending read was withdrawn, or the end point failed or closed under it: then Jetty fails the response and
     * tells its own listeners, and the stream ends that way (as cut, not as a client that left).
     */
    @Override
    public void failed(Throwable cause) {
        over.set(true);
    }

    private void hangUp(Throwable cause) {
        if (over.compareAndSet(false, true)) hungUp.accept(cause);
    }

    /** What the peer went with runs hub and broker work: not on the selector's thread. */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }
}
