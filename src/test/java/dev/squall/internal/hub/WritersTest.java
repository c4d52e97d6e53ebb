package dev.squall.internal.hub;

import dev.squall.SlowConsumerPolicy;
import dev.squall.internal.broker.InMemoryBroker;
import dev.squall.internal.broker.Message;
import dev.squall.internal.broker.PublishOptions;
import dev.squall.support.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who writes a publication (issue 19, bursts): the hub's real writer threads and a publisher calling
 * {@link Hub#helpWrite} as a node does, each connection on a {@link RecordingWire}. A writer is held up at a chosen
 * point (its executor busy with something else, or inside a send), so that "not yet up" and "already writing" happen
 * every time.
 */
@Timeout(30)
class WritersTest {

    private static final String CHANNEL = "c";
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final Metrics metrics = new Metrics();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final InMemoryBroker broker = new InMemoryBroker();
    private final List<ExecutorService> writers = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private Hub hub;

    @AfterEach
    void stop() {
        release.countDown();
        writers.forEach(ExecutorService::shutdownNow);
        scheduler.shutdownNow();
        metrics.close();
    }

    private void startHub(int writerThreads) {
        for (int i = 0; i < writerThreads; i++) writers.add(Executors.newSingleThreadExecutor());
        hub = new Hub(new OutboundLimits(1 << 20, 100, SlowConsumerPolicy.CLOSE, Duration.ofSeconds(1)), metrics, scheduler,
                writers, broker, 300);
    }

    /** A connection on the channel whose id puts it on shard {@code shard} of {@code shards}. */
    private RecordingWire join(int shard, int shards, String prefix) {
        int n = 0;
        while (Math.floorMod((prefix + n).hashCode(), shards) != shard) n++;
        RecordingWire wire = new RecordingWire();
        hub.join(wire, prefix + n, CHANNEL, Message.text("W"));
        return wire;
    }

    private double metric(String name) {
        return metrics.scrape().lines().filter(line -> line.startsWith(name + " ")).mapToDouble(
                line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    /** What a node does for a publish: the broker delivers (the hub queues), then the publisher may help. */
    private void publish(String text) {
        broker.publish(CHANNEL, Message.text(text), PublishOptions.NO_HISTORY);
        hub.helpWrite();
    }

    /** Keeps a writer's only thread busy until the test releases it: its next drain is woken but cannot start. */
    private void occupy(ExecutorService writer) throws InterruptedException {
        CountDownLatch busy = new CountDownLatch(1);
        writer.execute(() -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void a_publisher_writes_what_a_woken_writer_has_not_started_on() throws Exception {
        startHub(1);
        RecordingWire first = join(0, 1, "a");
        RecordingWire second = join(0, 1, "b");
        occupy(writers.get(0));

        publish("m1");

        assertThat(first.texts()).as("written by the publisher before the writer was up").containsExactly("W", "m1");
        assertThat(second.texts()).containsExactly("W", "m1");
    }

    @Test
    void a_publisher_only_queues_while_the_writer_is_writing_and_the_frames_waiting_go_out_gathered() throws Exception {
        startHub(1);
        List<RecordingWire> wires = List.of(join(0, 1, "a"), join(0, 1, "b"));
        RecordingWire held = holdTheWriterInItsFirstSendOfM1(wires);
        RecordingWire waiting = held == wires.get(0) ? wires.get(1) : wires.get(0);

        publish("m2");
        publish("m3");

        assertThat(waiting.texts()).as("nothing written by the publishers while the writer runs").containsExactly("W");
        release.countDown();
        Await.until("every frame written", DEADLINE, () -> waiting.texts().size() == 4 && held.texts().size() == 4);
        assertThat(held.texts()).containsExactly("W", "m1", "m2", "m3");
        assertThat(waiting.texts()).containsExactly("W", "m1", "m2", "m3");
        assertThat(waiting.frames().stream().skip(1).map(RecordingWire.Frame::more).toList())
                .as("the three frames it got meanwhile go out as one gathered write").containsExactly(true, true, false);
    }

    @Test
    void once_a_queue_is_a_quarter_full_a_publisher_writes_until_the_writers_have_caught_up() throws Exception {
        startHub(1);                                      // queues of 100 messages: a quarter is 25
        List<RecordingWire> wires = List.of(join(0, 1, "a"), join(0, 1, "b"));
        RecordingWire waiting = holdTheWriterInItsFirstSendOfM1(wires) == wires.get(0) ? wires.get(1) : wires.get(0);

        for (int i = 2; i <= 20; i++) publish("m" + i);
        assertThat(waiting.texts()).as("a few publishes behind: publishers only queue").containsExactly("W");
        for (int i = 21; i <= 30; i++) publish("m" + i);

        List<String> expected = new ArrayList<>(List.of("W"));
        for (int i = 1; i <= 30; i++) expected.add("m" + i);
        assertThat(waiting.texts()).as("written by the publishers while the writer is held up").isEqualTo(expected);
        assertThat(metric("squall_slow_consumers_total")).isZero();
    }

    @Test
    void a_writer_done_with_its_own_connections_writes_those_of_a_writer_that_has_not_started() throws Exception {
        startHub(2);
        List<RecordingWire> own = List.of(join(0, 2, "a"), join(0, 2, "b"));
        List<RecordingWire> others = List.of(join(1, 2, "c"), join(1, 2, "d"));
        occupy(writers.get(1));

        broker.publish(CHANNEL, Message.text("m1"), PublishOptions.NO_HISTORY);   // no help: only the writers write

        for (RecordingWire wire : own) Await.until("its own writer's connection", DEADLINE, wire::texts, List.of("W", "m1"));
        for (RecordingWire wire : others) {
            Await.until("the other writer's connection, while that writer is held up", DEADLINE, wire::texts, List.of("W", "m1"));
        }
    }

    @Test
    void a_peer_that_has_not_read_a_quarter_of_its_queue_does_not_make_publishers_write_for_everyone() {
        startHub(0);                                      // no writer threads: whoever queues writes at once
        RecordingWire unread = new RecordingWire();       // takes every frame and never reports one written
        Connection connection = hub.join(unread, "slow", CHANNEL, Message.text("W"));

        for (int i = 1; i <= 30; i++) publish("m" + i);

        assertThat(connection.queuedBytes()).as("31 frames the peer has not read").isPositive();
        assertThat(unread.inFlight()).isEqualTo(31);
        assertThat(connection.backedUp()).as("nothing waits for a writer: writing more would not help").isFalse();
    }

    /**
     * Publishes m1 with no publisher to help, so the writer takes it, and keeps the writer inside its first send of
     * m1, whichever connection it takes first, as a writer thread the machine does not run (holding that wire's
     * lock, so a test looks at the other wires only until it lets go); returns that wire.
     */
    private RecordingWire holdTheWriterInItsFirstSendOfM1(List<RecordingWire> wires) throws InterruptedException {
        CountDownLatch writerInside = new CountDownLatch(1);
        AtomicReference<RecordingWire> inside = new AtomicReference<>();
        for (RecordingWire wire : wires) {
            wire.onSend = frame -> {
                if (frame.text().equals("m1") && inside.compareAndSet(null, wire)) {
                    writerInside.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
        }
        broker.publish(CHANNEL, Message.text("m1"), PublishOptions.NO_HISTORY);
        assertThat(writerInside.await(10, TimeUnit.SECONDS)).isTrue();
        return inside.get();
    }
}
