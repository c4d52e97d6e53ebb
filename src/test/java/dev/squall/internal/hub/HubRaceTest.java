package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.Broker;
import dev.squall.internal.broker.History;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.Presence;
import dev.squall.internal.broker.Publication;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.internal.broker.PublishResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Races between what one connection's threads do at once: a subscribe (a squall.v1 command on a Jetty thread)
 * against the connection leaving (a slow-consumer close on a writer thread, a heartbeat abort), and an unsubscribe
 * against a delivery that already holds the subscription. The real hub and in-memory broker, two threads started
 * together many times over: whatever the interleaving, nothing is left behind and nothing arrives after
 * {@code unsubscribed}.
 */
@Timeout(120)
class HubRaceTest {

    private static final int ROUNDS = Integer.getInteger("squall.raceRounds", 100_000);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final Metrics metrics = new Metrics();
    private final InMemoryBroker real = new InMemoryBroker();
    /** Channels subscribed at the broker right now, as the broker hears of it. */
    private final Set<String> atBroker = ConcurrentHashMap.newKeySet();
    private final Broker counting = new Broker() {
        @Override public void register(Handler handler) { real.register(handler); }
        @Override public void subscribe(String channel) {
            real.subscribe(channel);
            atBroker.add(channel);
        }
        @Override public void unsubscribe(String channel) {
            atBroker.remove(channel);
            real.unsubscribe(channel);
        }
        @Override public PublishResult publish(String channel, Message message, PublishOptions options) {
            return real.publish(channel, message, options);
        }
        @Override public History history(String channel, long since, int limit) { return real.history(channel, since, limit); }
        @Override public History latest(String channel, int limit) { return real.latest(channel, limit); }
        @Override public Presence presence(String channel) { return real.presence(channel); }
        @Override public void close() { real.close(); }
    };
    // The broker's unsubscribes run on the thread that empties the channel, so the end state is there at once.
    private final Hub hub = new Hub(new OutboundLimits(1 << 20, 1000, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)),
            metrics, scheduler, List.of(), counting, 300, channel -> false, Runnable::run);

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        metrics.close();
    }

    @Test
    void a_subscribe_racing_the_connection_leaving_leaves_no_subscription_behind() throws Exception {
        AtomicReference<Connection> current = new AtomicReference<>();
        race(ROUNDS,
                round -> current.set(hub.connect(new RecordingWire(), "conn-" + round)),
                round -> hub.subscribe(current.get(), "room-" + round % 16, Recovery.FROM_NOW, Notice::subscribed),
                round -> hub.leave("conn-" + round, 1006),
                round -> assertThat(hub.subscribers("room-" + round % 16))
                        .as("subscribers left on the channel after round %d, whose connection has left", round).isZero());

        assertThat(hub.channelCount()).isZero();
        assertThat(atBroker).as("channels still subscribed at the broker").isEmpty();
    }

    @Test
    void nothing_of_a_channel_is_queued_after_its_unsubscribe_has_returned() throws Exception {
        Connection publisherSide = hub.connect(new RecordingWire(), "keeps-the-channel");
        hub.subscribe(publisherSide, "room");
        AtomicReference<Connection> current = new AtomicReference<>();
        AtomicReference<RecordingWire> wire = new AtomicReference<>();
        race(ROUNDS,
                round -> {
                    wire.set(new RecordingWire());
                    Connection connection = hub.connect(wire.get(), "conn-" + round);
                    hub.subscribe(connection, "room", Recovery.FROM_NOW, started -> null);
                    hub.opened(connection);
                    current.set(connection);
                },
                round -> real.publish("room", Message.text("p" + round), PublishOptions.NO_HISTORY),
                round -> {
                    hub.unsubscribe(current.get(), "room");
                    current.get().send(Message.text("unsubscribed"));
                },
                round -> {
                    assertThat(wire.get().texts()).as("round %d: nothing after the reply to the unsubscribe", round)
                            .endsWith("unsubscribed");
                    hub.leave("conn-" + round, 1000);
                });
    }

    @Test
    void a_delivery_holding_an_old_subscription_does_not_reach_the_connection_again_after_it_resubscribed() {
        Connection keeper = hub.connect(new RecordingWire(), "keeps-the-channel");
        hub.subscribe(keeper, "room");
        RecordingWire wire = new RecordingWire();
        Connection connection = hub.connect(wire, "back");
        hub.subscribe(connection, "room", Recovery.FROM_NOW, started -> null);
        hub.opened(connection);
        Subscription old = connection.subscription("room");

        String epoch = real.publish("room", Message.text("m1"), PublishOptions.NO_HISTORY).position().epoch();
        hub.unsubscribe(connection, "room");
        hub.subscribe(connection, "room", Recovery.FROM_NOW, started -> Message.text("subscribed again"));
        // What a delivery that took the channel's subscribers before the unsubscribe does next, on its own thread.
        old.offer(new Publication(1, Message.text("m1 again"), epoch), Message.text("m1 again"), 1000);
        connection.flush();

        assertThat(wire.texts()).containsExactly("m1", "subscribed again");
    }

    /**
     * Per round: {@code setUp}, then {@code one} and {@code other} on two threads released together, then {@code check}.
     * The second thread starts a little later each round (a spin of 0 to 255 steps), so the rounds sweep the
     * interleavings of the two instead of meeting at the same point every time.
     */
    private static void race(int rounds, Round setUp, Round one, Round other, Round check) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier done = new CyclicBarrier(2);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread second = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    start.await();
                    for (int spin = i & 255; spin > 0; spin--) Thread.onSpinWait();
                    other.run(i);
                    done.await();
                }
            } catch (java.util.concurrent.BrokenBarrierException stopped) {
                // The first thread stopped early (its check failed): its failure is the one reported.
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
                start.reset();
                done.reset();
            }
        }, "race-second");
        second.start();
        try {
            for (int i = 0; i < rounds && failed.get() == null; i++) {
                setUp.run(i);
                start.await();
                one.run(i);
                done.await();
                check.run(i);
            }
        } catch (java.util.concurrent.BrokenBarrierException secondFailed) {
            // Reported below.
        } finally {
            start.reset();                       // releases the second thread if this one stopped early
            done.reset();
            second.join();
        }
        if (failed.get() != null) throw new AssertionError("the second thread failed", failed.get());
    }

    @FunctionalInterface
    private interface Round {
        void run(int round) throws Exception;
    }
}
