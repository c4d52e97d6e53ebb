package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * A broker over several Redis instances, for when one Redis is not enough: each channel lives on exactly one of
 * them (its shard, chosen by {@link Placement}: rendezvous hashing over the shards' addresses, so every node
 * that lists the same instances, in any order, agrees, and adding one moves only the channels it takes over).
 * Each shard is a {@link RedisBroker} of its own; a channel's subscribe, unsubscribe, publish, reads and presence
 * (its counts, users and join/leave events) go to its shard alone, so the channel's order, offsets, epoch, history and gap filling are that Redis's, exactly as with
 * one Redis. Handlers are registered on every shard.
 *
 * <p>Faults are per shard: while one Redis is away only its channels' publishes and reads throw
 * {@link dev.squall.internal.broker.Unavailable}; the channels of the other shards go on publishing and delivering.
 * {@link #connected()} is true only while every shard is, so {@code /ready} tells a load balancer that this node
 * cannot serve every channel.
 *
 * <p>One Redis is the simple case and needs none of this: the node then uses a {@link RedisBroker} directly.
 */
public final class RedisShards implements Broker {

    private final List<Broker> shards;
    private final Placement placement;

    /**
     * Connects to every Redis in {@code uris} ({@code redis://host:port} each, no two with the same
     * {@link #address}), as {@link RedisBroker} does to one.
     *
     * @throws IllegalArgumentException when {@code uris} is empty or names one Redis twice
     */
    public RedisShards(List<String> uris, ScheduledExecutorService scheduler) {
        this(uris, uri -> new RedisBroker(uri, scheduler));
    }

    /**
     * With each shard made by {@code open}; when making one fails, those already made are closed, and the failure
     * is thrown.
     */
    RedisShards(List<String> uris, Function<String, Broker> open) {
        List<String> addresses = new ArrayList<>();
        for (String uri : uris) addresses.add(address(uri));
        this.placement = new Placement(addresses);
        List<Broker> made = new ArrayList<>();
        try {
            for (String uri : uris) made.add(open.apply(uri));
        } catch (RuntimeException e) {
            for (Broker shard : made) {
                try {
                    shard.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        this.shards = List.copyOf(made);
    }

    /**
     * What identifies the Redis a URI names, and places channels on it: {@code host:port/database}, the host in
     * lower case, with Redis's defaults (port 6379, database 0) filled in. Scheme and password are left out.
     *
     * @throws IllegalArgumentException when {@code uri} is not a URI with a host
     */
    public static String address(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + RedisBrokers.shown(uri));
        }
        if (parsed.getHost() == null) throw new IllegalArgumentException("no host in " + RedisBrokers.shown(uri));
        int port = parsed.getPort() == -1 ? 6379 : parsed.getPort();
        String path = parsed.getPath() == null ? "" : parsed.getPath();
        String database = path.length() > 1 ? Integer.toString(Integer.parseInt(path.substring(1))) : "0";
        return parsed.getHost().toLowerCase(Locale.ROOT) + ":" + port + "/" + database;
    }

    /** The index, in the list of URIs this broker was made with, of the Redis that holds {@code channel}. */
    public int shardOf(String channel) {
        return placement.shardOf(channel);
    }

    private Broker shard(String channel) {
        return shards.get(placement.shardOf(channel));
    }

    @Override
    public void register(Handler handler) {
        for (Broker shard : shards) shard.register(handler);
    }

    @Override
    public void subscribe(String channel) {
        shard(channel).subscribe(channel);
    }

    @Override
    public void unsubscribe(String channel) {
        shard(channel).unsubscribe(channel);
    }

    @Override
    public PublishResult publish(String channel, Message message, PublishOptions options) {
        return shard(channel).publish(channel, message, options);
    }

    @Override
    public History history(String channel, long since, int limit) {
        return shard(channel).history(channel, since, limit);
    }

    @Override
    public History latest(String channel, int limit) {
        return shard(channel).latest(channel, limit);
    }

    @Override
    public Presence presence(String channel) {
        return shard(channel).presence(channel);
    }

    @Override
    public void counted(String channel, String user) {
        shard(channel).counted(channel, user);
    }

    @Override
    public void announce(String channel, boolean joined, Member who) {
        shard(channel).announce(channel, joined, who);
    }

    /**
     * Through one Redis, placed by the user's id as a channel is by its name: every node listens on each of them,
     * so one is enough, and a user's revocations always take the same one.
     */
    @Override
    public void disconnect(String user) {
        shard(user).disconnect(user);
    }

    @Override
    public boolean connected() {
        for (Broker shard : shards) {
            if (!shard.connected()) return false;
        }
        return true;
    }

    @Override
    public boolean connected(String channel) {
        return shard(channel).connected();
    }

    @Override
    public boolean networked() {
        return true;
    }

    @Override
    public boolean delivering(String channel) {
        return shard(channel).delivering(channel);
    }

    /** Closes every shard, each even when closing another failed (the first failure is thrown, the rest suppressed). */
    @Override
    public void close() {
        RuntimeException failed = null;
        for (Broker shard : shards) {
            try {
                shard.close();
            } catch (RuntimeException e) {
                if (failed == null) failed = e;
                else failed.addSuppressed(e);
            }
        }
        if (failed != null) throw failed;
    }
}
