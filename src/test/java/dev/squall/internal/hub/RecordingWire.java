package dev.squall.internal.hub;

import dev.squall.internal.broker.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A {@link Wire} that writes nothing: it records each frame with its callback, and the test completes frames
 * when and in the order it chooses. {@link #onSend} runs inside {@code send}, to act while a writer is busy.
 */
final class RecordingWire implements Wire {

    /** One frame handed to the wire. */
    record Frame(Message message, boolean more, Written written) {
        String text() {
            return message.textPayload();
        }
    }

    private final List<Frame> frames = new ArrayList<>();
    private int completed;
    Consumer<Frame> onSend = frame -> { };
    RuntimeException failSend;
    RuntimeException failPing;
    volatile int pings;
    int flushes;
    Integer closeCode;
    volatile boolean aborted;
    long inbound;
    long outbound;

    @Override
    public synchronized void send(Message message, boolean more, Written written) {
        if (failSend != null) throw failSend;
        Frame frame = new Frame(message, more, written);
        frames.add(frame);
        onSend.accept(frame);
    }

    /** The text of every frame sent so far, in order. */
    synchronized List<String> texts() {
        return frames.stream().map(Frame::text).toList();
    }

    /** Every frame sent so far, in order. */
    synchronized List<Frame> frames() {
        return List.copyOf(frames);
    }

    /** Frames sent and not yet completed. */
    synchronized int inFlight() {
        return frames.size() - completed;
    }

    /** Reports the oldest uncompleted frame as written, as Jetty does, in order. */
    void completeNext() {
        Frame frame;
        synchronized (this) {
            frame = frames.get(completed++);
        }
        frame.written().succeeded();            // outside the lock: the callback may send the next frame
    }

    void completeAll() {
        while (inFlight() > 0) completeNext();
    }

    @Override
    public synchronized void flush() {
        flushes++;
    }

    @Override
    public void ping() {
        if (failPing != null) throw failPing;
        pings++;
    }

    @Override
    public synchronized void close(int code, String reason) {
        closeCode = code;
    }

    @Override
    public synchronized void abort() {
        aborted = true;
    }

    @Override
    public long inboundActivity() {
        return inbound;
    }

    @Override
    public long outboundActivity() {
        return outbound;
    }
}
