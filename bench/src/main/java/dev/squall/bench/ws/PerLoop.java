package dev.squall.bench.ws;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One instance of a mode's statistics per event-loop thread, so the hot path records without locks or shared
 * cache lines. Look it up once per connection (in onOpen) and keep it in the attachment.
 */
public final class PerLoop<T> {
    private final ConcurrentHashMap<Thread, T> byThread = new ConcurrentHashMap<>();
    private final Supplier<T> factory;

    public PerLoop(Supplier<T> factory) {
        this.factory = factory;
    }

    /** The current loop thread's instance. */
    public T current() {
        return byThread.computeIfAbsent(Thread.currentThread(), t -> factory.get());
    }

    /** All instances; read them only once the loops stopped (their threads were joined). */
    public Collection<T> all() {
        return byThread.values();
    }
}
