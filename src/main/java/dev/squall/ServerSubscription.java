package dev.squall;

/** A server-side subscriber's hold on a channel ({@link Squall#subscribe}): close it to stop listening. */
public interface ServerSubscription extends AutoCloseable {

    /** The channel it listens to. */
    String channel();

    /** The channel's offset it started after: its first publication is the next one. */
    long startOffset();

    /** The channel's epoch when it started. */
    String startEpoch();

    /** True until it is closed, by the app, by falling too far behind, or by the server stopping. */
    boolean isActive();

    /** Stops listening: no callback starts once this returns (one under way finishes). Idempotent. */
    @Override
    void close();
}
