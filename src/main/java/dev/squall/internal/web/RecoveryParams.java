package dev.squall.internal.web;

import dev.squall.internal.hub.Recovery;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;

/** The {@code since} and {@code epoch} query parameters a reconnecting client sends, checked. */
public final class RecoveryParams {

    public static final int MAX_EPOCH_LENGTH = 64;

    private RecoveryParams() {
    }

    /**
     * No {@code since}: from now on. {@code since=latest}: the newest publication still in history first.
     * {@code since=N}: what came after offset N, never a part of it.
     *
     * @throws Refusal 400 for a {@code since} that is neither, or an {@code epoch} without {@code since}
     */
    static Recovery from(@Nullable String since, @Nullable String epoch) {
        if (epoch != null && (epoch.isEmpty() || epoch.length() > MAX_EPOCH_LENGTH)) {
            throw refused("epoch must be the channel's epoch as the server sent it (1-" + MAX_EPOCH_LENGTH + " characters)");
        }
        if (since == null) {
            if (epoch != null) throw refused("epoch goes with since: send since=OFFSET&epoch=" + epoch);
            return Recovery.FROM_NOW;
        }
        if (since.equals("latest")) {
            if (epoch != null) throw refused("since=latest takes no epoch");
            return Recovery.LATEST;
        }
        long offset = WholeNumber.parse(since);
        if (offset < 0) {
            throw refused("since must be an offset (a whole number from 0) or 'latest', got '" + WholeNumber.shown(since) + "'");
        }
        return Recovery.since(offset, epoch);
    }

    private static Refusal refused(String message) {
        return new Refusal(HttpStatus.BAD_REQUEST.getCode(), message);
    }
}
