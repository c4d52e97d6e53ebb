package dev.squall.internal.broker.redis;

import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.StreamPosition;
import dev.squall.internal.broker.Unavailable;
import dev.squall.support.CuttableProxy;
import dev.squall.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A broker whose Redis is not there at its start, goes away while it runs (killed and restarted empty), or is cut
 * off from it by the network while other nodes go on: it refuses at once instead of queueing, keeps what it was
 * asked to subscribe, and once Redis is back subscribes it all again and fills or resets what it missed.
 */
@Timeout(60)
class RedisFaultsTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    /** Far less than the command timeout (5 s): a refusal, not a wait. */
    private static final Duration AT_ONCE = Duration.ofMillis(500);
    private static final PublishOptions KEEP = new PublishOptions(100_000, Duration.ofMinutes(5), null, Duration.ZERO);
    private static ScheduledExecutorService scheduler;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startScheduler() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopScheduler() {
        scheduler.shutdownNow();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private <T extends AutoCloseable> T opened(T closeable) {
        open.add(closeable);
        return closeable;
    }

    private RedisBroker broker(String uri, List<String> seen) {
        return recording(new RedisBroker(uri, scheduler), seen);
    }

    private RedisBroker recording(RedisBroker made, List<String> seen) {
        RedisBroker broker = opened(made);
        broker.register(new Broker.Handler() {
            @Override
            public int deliver(String channel, Publication publication) {
                seen.add(channel + " " + publication.offset() + " " + publication.message().textPayload());
                return 1;
            }

            @Override
            public void reset(String channel, StreamPosition position) {
                seen.add(channel + " reset after " + position.offset());
            }
        });
        return broker;
    }

    private static void refusedAtOnce(Runnable call) {
        long start = System.nanoTime();
        assertThatThrownBy(call::run).isInstanceOf(Unavailable.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(AT_ONCE);
    }

    @Test
    void a_broker_made_while_redis_is_down_refuses_at_once_and_subscribes_what_it_was_asked_once_redis_is_up() throws Exception {
        RedisProcess redis = opened(RedisProcess.reserve());
        List<String> seen = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        RedisBroker broker = broker(redis.uri(), seen);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the constructor does not wait for Redis").isLessThan(RedisBroker.CONNECT_TIMEOUT.plusSeconds(1));

        assertThat(broker.connected()).isFalse();
        broker.subscribe("early");                                    // kept, not thrown
        assertThat(broker.delivering("early")).as("but not yet delivering: no position may be read to go live from").isFalse();
        broker.subscribe("gone");
        broker.unsubscribe("gone");
        refusedAtOnce(() -> broker.publish("early", Message.text("x"), KEEP));
        refusedAtOnce(() -> broker.history("early", 0, 10));
        refusedAtOnce(() -> broker.latest("early", 10));

        redis.restart();                                              // Redis comes up for the first time
        until("connected once Redis is up", DEADLINE, broker::connected);
        assertThat(broker.delivering("early")).isTrue();
        broker.publish("gone", Message.text("not for us"), KEEP);
        broker.publish("early", Message.text("one"), KEEP);
        until("the channel subscribed while Redis was down delivers", DEADLINE, () -> seen.contains("early 1 one"));
        assertThat(seen).containsExactly("early 1 one");
    }

    @Test
    void a_lost_redis_refuses_at_once_and_once_back_every_channel_is_subscribed_again_on_its_new_epoch() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        List<String> seen = new CopyOnWriteArrayList<>();
        RedisBroker broker = broker(redis.uri(), seen);
        broker.subscribe("kept");
        broker.subscribe("dropped");
        broker.publish("kept", Message.text("before"), KEEP);
        until("the first delivery", DEADLINE, () -> seen.contains("kept 1 before"));

        redis.kill();
        until("not connected once Redis is lost", DEADLINE, () -> !broker.connected());
        refusedAtOnce(() -> broker.publish("kept", Message.text("lost"), KEEP));
        broker.subscribe("during");                                   // neither throws nor is forgotten
        broker.unsubscribe("dropped");

        redis.restart();                                              // empty: every stream lost, new epochs
        until("connected again", DEADLINE, broker::connected);
        broker.publish("kept", Message.text("after"), KEEP);
        broker.publish("during", Message.text("new"), KEEP);
        broker.publish("dropped", Message.text("not for us"), KEEP);
        until("both delivered", DEADLINE, () -> seen.contains("kept 1 after") && seen.contains("during 1 new"));
        assertThat(seen.stream().filter(line -> line.startsWith("kept "))).as("told it lost the old stream, then the new one")
                .containsExactly("kept 1 before", "kept reset after 0", "kept 1 after");
        assertThat(seen).filteredOn(line -> line.startsWith("during ")).containsExactly("during 1 new");
        assertThat(seen).filteredOn(line -> line.startsWith("dropped ")).isEmpty();
        // Lettuce resubscribed it by itself on reconnecting (it never heard the UNSUBSCRIBE): the broker undid that.
        try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
             var connection = client.connect()) {
            until("no node subscribed to the channel dropped while Redis was away", DEADLINE,
                    () -> connection.sync().pubsubNumsub("squall:p:dropped").get("squall:p:dropped") == 0L);
            assertThat(connection.sync().pubsubNumsub("squall:p:kept").get("squall:p:kept")).isEqualTo(1L);
        }
    }

    @Test
    void an_idle_channel_that_missed_messages_during_a_cut_gets_them_as_soon_as_it_heals_not_after_periodic_checks() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        CuttableProxy cable = opened(CuttableProxy.to(redis.port()));
        List<String> seen = new CopyOnWriteArrayList<>();
        RedisBroker cut = broker("redis://127.0.0.1:" + cable.port(), seen);
        RedisBroker other = broker(redis.uri(), new CopyOnWriteArrayList<>());
        cut.subscribe("idle");
        other.publish("idle", Message.text("m1"), KEEP);
        until("the first", DEADLINE, () -> seen.size() == 1);

        cable.sever();
        until("the cut node sees it is cut", DEADLINE, () -> !cut.connected());
        for (int i = 2; i <= 10; i++) other.publish("idle", Message.text("m" + i), KEEP);
        cable.restore();
        until("the cut node reconnects", DEADLINE, cut::connected);

        // Nothing is published after the heal: only the check made on resubscribing can find the gap this soon.
        until("the missed ones, well before two periodic checks", RedisBroker.CHECK.dividedBy(2), () -> seen.size() == 10);
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 10; i++) expected.add("idle " + i + " m" + i);
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void a_pub_sub_connection_that_goes_silent_while_commands_work_is_found_by_the_probe_and_replaced() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        CuttableProxy cable = opened(CuttableProxy.to(redis.port()));
        List<String> seen = new CopyOnWriteArrayList<>();
        // No periodic position check (an hour): only a new pub/sub connection can bring what follows.
        RedisBroker probed = recording(new RedisBroker("redis://127.0.0.1:" + cable.port(), scheduler, RedisBroker.KEEP,
                RedisBroker.META_FLOOR, Duration.ofHours(1), Duration.ofMillis(200), Duration.ofMillis(600)), seen);
        RedisBroker other = broker(redis.uri(), new CopyOnWriteArrayList<>());
        probed.subscribe("probed");
        assertThat(cable.accepted()).as("the commands connection, then the pub/sub one").isEqualTo(2);
        other.publish("probed", Message.text("m1"), KEEP);
        until("the first", DEADLINE, () -> seen.size() == 1);

        cable.muteReplies(1);                                          // Redis still takes it all; nothing comes back
        for (int i = 2; i <= 5; i++) other.publish("probed", Message.text("m" + i), KEEP);
        until("a new pub/sub connection", DEADLINE, () -> cable.accepted() == 3);
        until("connected again", DEADLINE, probed::connected);
        until("what the silent connection swallowed, from the stream", DEADLINE, () -> seen.size() == 5);
        other.publish("probed", Message.text("m6"), KEEP);
        until("live again through the new connection", DEADLINE, () -> seen.size() == 6);

        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 6; i++) expected.add("probed " + i + " m" + i);
        assertThat(seen).isEqualTo(expected);
        assertThat(probed.connected()).isTrue();
        assertThat(cable.accepted()).as("the probe keeps coming back: no further replacement").isEqualTo(3);
    }

    @Test
    void a_network_that_goes_silent_both_ways_is_found_by_the_probe_and_publishes_are_refused_at_once_until_it_heals() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        CuttableProxy cable = opened(CuttableProxy.to(redis.port()));
        List<String> seen = new CopyOnWriteArrayList<>();
        RedisBroker probed = recording(new RedisBroker("redis://127.0.0.1:" + cable.port(), scheduler, RedisBroker.KEEP,
                RedisBroker.META_FLOOR, Duration.ofHours(1), Duration.ofMillis(200), Duration.ofMillis(600)), seen);
        RedisBroker other = broker(redis.uri(), new CopyOnWriteArrayList<>());
        probed.subscribe("dark");
        other.publish("dark", Message.text("m1"), KEEP);
        until("the first", DEADLINE, () -> seen.size() == 1);

        cable.blackhole();                                             // no close, no reset: Lettuce sees nothing
        until("the probe finds the silence", DEADLINE, () -> !probed.connected());
        refusedAtOnce(() -> probed.publish("dark", Message.text("x"), KEEP));
        for (int i = 2; i <= 5; i++) other.publish("dark", Message.text("m" + i), KEEP);
        cable.restore();
        until("connected again through new connections", DEADLINE, probed::connected);
        until("what the silence swallowed, from the stream", DEADLINE, () -> seen.size() == 5);
        probed.publish("dark", Message.text("m6"), KEEP);
        until("live again", DEADLINE, () -> seen.size() == 6);

        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 6; i++) expected.add("dark " + i + " m" + i);
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void after_a_network_cut_between_one_node_and_redis_it_gets_every_message_once_in_order_from_the_stream() throws Exception {
        RedisProcess redis = opened(RedisProcess.start());
        CuttableProxy cable = opened(CuttableProxy.to(redis.port()));
        List<String> seen = new CopyOnWriteArrayList<>();
        RedisBroker cut = broker("redis://127.0.0.1:" + cable.port(), seen);
        RedisBroker other = broker(redis.uri(), new CopyOnWriteArrayList<>());
        cut.subscribe("feed");

        AtomicBoolean publishing = new AtomicBoolean(true);
        AtomicLong last = new AtomicLong();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread publisher = new Thread(() -> {
            for (int i = 1; publishing.get(); i++) {
                try {
                    last.set(other.publish("feed", Message.text("m" + i), KEEP).position().offset());
                } catch (Throwable e) {
                    failed.set(e);
                    return;
                }
            }
        }, "other-node-publisher");
        publisher.start();
        try {
            until("some delivered before the cut", DEADLINE, () -> seen.size() >= 20);
            cable.sever();
            until("the cut node sees it is cut", DEADLINE, () -> !cut.connected());
            long atCut = last.get();
            until("the other node goes on publishing", DEADLINE, () -> last.get() > atCut + 200);
            refusedAtOnce(() -> cut.publish("feed", Message.text("x"), KEEP));
            cable.restore();
            until("the cut node reconnects", DEADLINE, cut::connected);
            long healed = last.get();
            until("more published after the heal", DEADLINE, () -> last.get() > healed + 200);
        } finally {
            publishing.set(false);
            publisher.join(10_000);
        }
        assertThat(failed.get()).isNull();
        long total = last.get();
        until("every message at the cut node", DEADLINE, () -> seen.size() >= total);
        List<String> expected = new ArrayList<>();
        for (long i = 1; i <= total; i++) expected.add("feed " + i + " m" + i);
        assertThat(seen).as("once each, in order, no reset").isEqualTo(expected);
    }
}
