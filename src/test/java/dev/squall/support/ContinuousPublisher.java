package dev.squall.support;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The load of the recovery tests: publishes {@code "m0"}, {@code "m1"}, ... to one channel through
 * {@code POST /publish}, from its own thread, at most {@value #PER_SECOND} a second, and remembers which offset each
 * one got, so a test can compare what a reconnecting client received with exactly what was published.
 *
 * <p>Paced, not back to back: a reconnecting client reads only part of what comes between its reconnects, so at full
 * speed its distance from the head grows with the machine's speed, and on a slow, busy one it outgrew the recovery
 * window (a legitimate {@code recovered: false}, failing the test once in a while). At this pace the distance stays
 * under the tests' windows for minutes.
 */
public final class ContinuousPublisher implements AutoCloseable {

    static final int PER_SECOND = 500;

    private final Map<Long, String> byOffset = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong lastOffset = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    private ContinuousPublisher(TestServer server, String channel) {
        this.thread = new Thread(() -> {
            long start = System.nanoTime();
            for (int i = 0; running.get(); i++) {
                long due = start + i * (1_000_000_000L / PER_SECOND);
                long wait = due - System.nanoTime();
                if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
                try {
                    JsonNode answer = server.publish(channel, "\"m" + i + "\"");
                    long offset = answer.path("offset").asLong();
                    byOffset.put(offset, "m" + i);
                    lastOffset.set(offset);
                } catch (Throwable e) {
                    failure.set(e);
                    return;
                }
            }
        }, "test-publisher");
    }

    /** Starts publishing to {@code channel} at once. */
    public static ContinuousPublisher start(TestServer server, String channel) {
        ContinuousPublisher publisher = new ContinuousPublisher(server, channel);
        publisher.thread.start();
        return publisher;
    }

    /** Stops after the publish under way, and returns the offset of the last one. */
    public long stop() throws InterruptedException {
        running.set(false);
        thread.join(10_000);
        if (failure.get() != null) throw new AssertionError("a publish failed", failure.get());
        return lastOffset.get();
    }

    /** What was published after {@code offset} up to the last one, in offset order (after {@link #stop()}). */
    public List<String> publishedAfter(long offset) {
        List<String> published = new ArrayList<>();
        for (long o = offset + 1; o <= lastOffset.get(); o++) published.add(byOffset.get(o));
        return published;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(10_000);
    }
}
