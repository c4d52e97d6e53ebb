package dev.squall.internal.hub;

/**
 * A client's subscribe would add a channel past the node's limit ({@code --max-channels}): it was refused, and nothing
 * of it was kept. Channels that have subscribers take more; one frees its place when its last subscriber leaves, so a
 * retry may succeed later. Each protocol answers it its own way.
 */
public final class TooManyChannels extends RuntimeException {

    private final int limit;

    TooManyChannels(int limit) {
        super("this server holds as many channels as it may (" + limit + ")", null, false, false);
        this.limit = limit;
    }

    /** The limit that was reached. */
    public int limit() {
        return limit;
    }
}
