package dev.squall.internal.broker.redis;

import io.lettuce.core.resource.Delay;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before the next attempt to reach Redis: {@link #FIRST} doubling up to {@link #CAP}, each a random
 * time between half and all of that, so the nodes of a cluster that lost Redis together do not knock in step. One
 * rule for Lettuce's reconnects and for the broker's own retries (the first connect, a resubscribe).
 */
final class Backoff extends Delay {

    static final Duration FIRST = Duration.ofMillis(100);
    static final Duration CAP = Duration.ofSeconds(5);

    /** @param attempt 1 for the first retry */
    @Override
    public Duration createDelay(long attempt) {
        long ceiling = Math.min(CAP.toMillis(), FIRST.toMillis() << Math.min(Math.max(attempt - 1, 0), 16));
        long half = ceiling / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(ceiling - half + 1));
    }
}
