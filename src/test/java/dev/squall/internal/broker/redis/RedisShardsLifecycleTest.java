package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Member;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How {@link RedisShards} is made, reports and is closed: all shards or none, and only when all are connected. */
@Timeout(30)
class RedisShardsLifecycleTest {

    private static RedisProcess redis;
    private static ScheduledExecutorService scheduler;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopRedis() {
        scheduler.shutdownNow();
        redis.close();
    }

    @Test
    void a_shard_that_cannot_be_made_closes_the_ones_made_before_it() {
        List<Broker> made = new ArrayList<>();
        IllegalStateException refused = new IllegalStateException("the third cannot be made");
        List<String> uris = List.of(redis.uri(), redis.uri() + "/1", redis.uri() + "/2");

        assertThatThrownBy(() -> new RedisShards(uris, uri -> {
            if (uri.endsWith("/2")) throw refused;
            Broker shard = new RedisBroker(uri, scheduler);
            made.add(shard);
            return shard;
        })).isSameAs(refused);

        assertThat(made).hasSize(2);
        for (Broker shard : made) {
            assertThatThrownBy(() -> shard.publish("c", Message.text("x"), PublishOptions.NO_HISTORY))
                    .as("closed").isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void connected_only_while_every_shard_is() {
        Switchable a = new Switchable();
        Switchable b = new Switchable();
        List<Switchable> both = List.of(a, b);
        try (RedisShards shards = new RedisShards(List.of("redis://a", "redis://b"), uri -> both.get(uri.endsWith("a") ? 0 : 1))) {
            assertThat(shards.connected()).isTrue();
            b.connected = false;
            assertThat(shards.connected()).isFalse();
            b.connected = true;
            a.connected = false;
            assertThat(shards.connected()).isFalse();
            a.connected = true;
            assertThat(shards.connected()).isTrue();
        }
    }

    @Test
    void a_channels_counts_and_join_leave_events_go_to_its_shard_alone() {
        Switchable a = new Switchable();
        Switchable b = new Switchable();
        List<Switchable> both = List.of(a, b);
        try (RedisShards shards = new RedisShards(List.of("redis://a", "redis://b"), uri -> both.get(uri.endsWith("a") ? 0 : 1))) {
            for (int i = 0; i < 20; i++) {
                String channel = "c" + i;
                shards.counted(channel, "ada");
                shards.presence(channel);
                shards.announce(channel, true, new Member("x", "ada", null));
                Switchable home = both.get(shards.shardOf(channel));
                Switchable other = both.get(1 - shards.shardOf(channel));
                assertThat(home.presence).containsSubsequence("counted " + channel, "count " + channel, "announce " + channel);
                assertThat(other.presence).noneMatch(entry -> entry.endsWith(" " + channel));
            }
            assertThat(a.presence).as("the channels are spread over both").isNotEmpty();
            assertThat(b.presence).isNotEmpty();
        }
    }

    @Test
    void a_users_disconnect_goes_through_one_shard_the_same_one_every_time() {
        Switchable a = new Switchable();
        Switchable b = new Switchable();
        List<Switchable> both = List.of(a, b);
        try (RedisShards shards = new RedisShards(List.of("redis://a", "redis://b"), uri -> both.get(uri.endsWith("a") ? 0 : 1))) {
            for (int i = 0; i < 20; i++) {
                String user = "user-" + i;
                shards.disconnect(user);
                shards.disconnect(user);
                Switchable home = both.get(shards.shardOf(user));
                Switchable other = both.get(1 - shards.shardOf(user));
                assertThat(home.presence).as(user).filteredOn(("disconnect " + user)::equals).hasSize(2);
                assertThat(other.presence).doesNotContain("disconnect " + user);
            }
            assertThat(a.presence).as("users are spread over both").isNotEmpty();
            assertThat(b.presence).isNotEmpty();
        }
    }

    @Test
    void close_closes_every_shard_even_when_one_fails_to_close() {
        Switchable a = new Switchable();
        Switchable b = new Switchable();
        a.failClose = true;
        List<Switchable> both = List.of(a, b);
        RedisShards shards = new RedisShards(List.of("redis://a", "redis://b"), uri -> both.get(uri.endsWith("a") ? 0 : 1));

        assertThatThrownBy(shards::close).hasMessage("a cannot close");
        assertThat(b.closed).as("the second closed all the same").isTrue();
    }

    @Test
    void a_redis_is_known_by_host_port_and_database_whatever_the_scheme_password_or_case() {
        assertThat(RedisShards.address("redis://Cache.Example:6379")).isEqualTo("cache.example:6379/0");
        assertThat(RedisShards.address("rediss://:secret@cache.example/0")).isEqualTo("cache.example:6379/0");
        assertThat(RedisShards.address("redis://cache.example:6380/3")).isEqualTo("cache.example:6380/3");
        assertThatThrownBy(() -> new RedisShards(List.of("redis://a", "rediss://:pw@A:6379/0"), uri -> new Switchable()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a:6379/0");
    }

    /** A shard in memory whose connection a test switches (the in-memory broker is always connected). */
    private static final class Switchable implements Broker {
        final InMemoryBroker inMemory = new InMemoryBroker();
        volatile boolean connected = true;
        volatile boolean failClose;
        volatile boolean closed;
        final List<String> presence = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override public void register(Handler handler) { inMemory.register(handler); }
        @Override public void subscribe(String channel) { inMemory.subscribe(channel); }
        @Override public void unsubscribe(String channel) { inMemory.unsubscribe(channel); }
        @Override public PublishResult publish(String channel, Message message, PublishOptions options) { return inMemory.publish(channel, message, options); }
        @Override public History history(String channel, long since, int limit) { return inMemory.history(channel, since, limit); }
        @Override public History latest(String channel, int limit) { return inMemory.latest(channel, limit); }
        @Override public Presence presence(String channel) {
            presence.add("count " + channel);
            return Presence.NONE;
        }
        @Override public void counted(String channel, String user) { presence.add("counted " + channel); }
        @Override public void announce(String channel, boolean joined, Member who) { presence.add("announce " + channel); }
        @Override public void disconnect(String user) { presence.add("disconnect " + user); }
        @Override public boolean connected() { return connected; }

        @Override
        public void close() {
            inMemory.close();
            closed = true;
            if (failClose) throw new IllegalStateException("a cannot close");
        }
    }
}
