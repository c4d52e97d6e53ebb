package dev.squall.internal.hub;

import org.jspecify.annotations.Nullable;

/**
 * Where a subscription starts. {@link #LIVE}: from the next publication, with nothing read (the tutorial's
 * {@code /ws}). {@link #FROM_NOW}: from the next publication, with the channel's position read so the client
 * knows the offset it starts after. {@link #LATEST}: with the newest publication still in history, then live.
 * {@link #since}: exactly what came after an offset the client has, or not at all (never partial).
 */
public record Recovery(Kind kind, long offset, @Nullable String epoch) {

    public enum Kind { LIVE, FROM_NOW, LATEST, SINCE }

    public static final Recovery LIVE = new Recovery(Kind.LIVE, 0, null);
    public static final Recovery FROM_NOW = new Recovery(Kind.FROM_NOW, 0, null);
    public static final Recovery LATEST = new Recovery(Kind.LATEST, 0, null);

    /** Everything after {@code offset}; with an {@code epoch}, only if the stream is still that one. */
    public static Recovery since(long offset, @Nullable String epoch) {
        if (offset < 0) throw new IllegalArgumentException("an offset is 0 or more");
        return new Recovery(Kind.SINCE, offset, epoch);
    }
}
