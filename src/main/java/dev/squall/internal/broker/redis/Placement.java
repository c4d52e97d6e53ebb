package dev.squall.internal.broker.redis;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which shard holds a channel: rendezvous (highest random weight) hashing over the shards' addresses. Each
 * channel scores every shard with a 64-bit hash of (channel, shard address) and belongs to the shard that scores
 * highest.
 *
 * <p>Why this hash: every node must place every channel on the same shard, or a publish on one node misses the
 * subscribers on another. Centrifugo places channels with jump consistent hash (Lamping and Veach) over the
 * shard's index in its list: few channels move when a shard is appended, but the answer depends on the list's
 * order, so two nodes started with the same Redis instances in another order silently disagree, and removing any
 * shard but the last moves most channels. Rendezvous hashing depends only on the set of addresses: the order does
 * not matter, adding a shard moves only the channels it now wins (about 1/n of them, all to it), and removing one
 * moves only its own channels. Its cost, one hash per shard per lookup, is nothing next to the Redis round trip
 * that follows. The address is host, port and database (not scheme or password), so switching to TLS or rotating
 * a password moves no channel.
 *
 * <p>The hash is stable across JVMs and versions (it is part of what nodes agree on): FNV-1a 64 of the channel's
 * UTF-8 bytes, combined with each shard's FNV-1a 64 of its address, through MurmurHash3's 64-bit finalizer, which
 * spreads every input bit over the whole score so that the scores of one channel on different shards look
 * independent. Ties (one in 2^64) go to the smaller address.
 */
final class Placement {

    private final List<String> addresses;
    private final long[] seeds;

    /** @param addresses one per shard, in the shards' order; no two alike */
    Placement(List<String> addresses) {
        if (addresses.isEmpty()) throw new IllegalArgumentException("at least one shard");
        Set<String> seen = new HashSet<>();
        for (String address : addresses) {
            if (!seen.add(address)) throw new IllegalArgumentException("the shard " + address + " is listed twice");
        }
        this.addresses = List.copyOf(addresses);
        this.seeds = new long[addresses.size()];
        for (int i = 0; i < seeds.length; i++) seeds[i] = mix(fnv(addresses.get(i)));
    }

    /** The index of the shard that holds {@code channel}. */
    int shardOf(String channel) {
        if (seeds.length == 1) return 0;
        long key = fnv(channel);
        int best = 0;
        long bestScore = mix(key ^ seeds[0]);
        for (int i = 1; i < seeds.length; i++) {
            long score = mix(key ^ seeds[i]);
            int order = Long.compareUnsigned(score, bestScore);
            if (order > 0 || order == 0 && addresses.get(i).compareTo(addresses.get(best)) < 0) {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    private static long fnv(String text) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    private static long mix(long z) {
        z ^= z >>> 33;
        z *= 0xff51afd7ed558ccdL;
        z ^= z >>> 33;
        z *= 0xc4ceb9fe1a85ec53L;
        z ^= z >>> 33;
        return z;
    }
}
