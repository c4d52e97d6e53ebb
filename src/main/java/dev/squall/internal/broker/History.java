package dev.squall.internal.broker;

import java.util.List;

/**
 * Part of a channel's history: publications after some offset, oldest first, and the channel's position when it
 * was read. Whether they cover a gap is the reader's question: they do when the first one's offset is the one
 * after the reader's, or when there is nothing to cover (the reader's offset is the position's).
 */
public record History(StreamPosition position, List<Publication> publications) {

    public History {
        publications = List.copyOf(publications);
    }

    /** The offset of the oldest publication returned, or 0 when none was. */
    public long firstOffset() {
        return publications.isEmpty() ? 0 : publications.get(0).offset();
    }
}
