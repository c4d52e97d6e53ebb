package dev.squall.broker;

import dev.squall.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.squall.support.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The delivery contract of {@link Broker}, run against every implementation: each one extends this class and
 * says how to make a broker.
 */
abstract class BrokerContract {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private Broker broker;

    abstract Broker newBroker();

    @BeforeEach
    void open() {
        broker = newBroker();
    }

    @AfterEach
    void close() {
        broker.close();
    }

    @Test
    void every_subscriber_receives_each_published_message() {
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(first));
        broker.subscribe(recorder(second));

        broker.publish(Message.text("hello"));

        until("both subscribers to receive it", DEADLINE, () -> first.size() == 1 && second.size() == 1);
        assertThat(first).containsExactly("hello");
        assertThat(second).containsExactly("hello");
    }

    @Test
    void messages_published_one_after_another_arrive_in_that_order() {
        List<String> received = new CopyOnWriteArrayList<>();
        broker.subscribe(recorder(received));

        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            sent.add("m" + i);
            broker.publish(Message.text("m" + i));
        }

        until("all 1000 to arrive", DEADLINE, () -> received.size() == 1000);
        assertThat(received).containsExactlyElementsOf(sent);
    }

    @Test
    void each_concurrent_publisher_keeps_its_own_order() throws Exception {
        Map<String, List<Integer>> byPublisher = new ConcurrentHashMap<>();
        broker.subscribe(message -> {
            String[] parts = message.textPayload().split(":");
            byPublisher.computeIfAbsent(parts[0], p -> new CopyOnWriteArrayList<>()).add(Integer.parseInt(parts[1]));
            return 1;
        });

        ExecutorService publishers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                String name = "p" + p;
                done.add(publishers.submit(() -> {
                    for (int i = 0; i < 500; i++) broker.publish(Message.text(name + ":" + i));
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            publishers.shutdownNow();
        }

        until("every publisher's 500 messages", DEADLINE,
                () -> byPublisher.size() == 4 && byPublisher.values().stream().allMatch(l -> l.size() == 500));
        byPublisher.values().forEach(sequence -> assertThat(sequence).isSorted());
    }

    @Test
    void binary_payloads_arrive_unchanged() {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        broker.subscribe(message -> {
            byte[] bytes = new byte[message.size()];
            message.payload().get(bytes);
            received.add(bytes);
            return 1;
        });

        broker.publish(Message.binary(new byte[]{0, (byte) 0xff, 7}));

        until("the binary message", DEADLINE, () -> received.size() == 1);
        assertThat(received.get(0)).containsExactly(0, 0xff, 7);
    }

    private static Broker.Subscriber recorder(List<String> into) {
        return message -> {
            into.add(message.textPayload());
            return 1;
        };
    }
}
