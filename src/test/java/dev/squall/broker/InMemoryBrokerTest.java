package dev.squall.broker;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class InMemoryBrokerTest extends BrokerContract {

    @Override
    Broker newBroker() {
        return new InMemoryBroker();
    }

    @Test
    void publish_delivers_before_returning_and_counts_what_handlers_delivered() {
        Broker broker = new InMemoryBroker();
        broker.register((channel, publication) -> 3);
        broker.register((channel, publication) -> 4);
        broker.subscribe("c");

        assertThat(broker.publish("c", Message.text("x"), PublishOptions.NO_HISTORY).delivered()).isEqualTo(7);
    }

    @Test
    void a_hundred_thousand_publish_and_forget_channels_cost_nothing_once_their_history_has_expired() {
        AtomicLong now = new AtomicLong();
        InMemoryBroker broker = new InMemoryBroker(now::get);
        PublishOptions oneMinute = new PublishOptions(10, Duration.ofMinutes(1), null, Duration.ZERO);
        for (int i = 0; i < 100_000; i++) broker.publish("ch-" + i, Message.text("x"), oneMinute);
        broker.subscribe("kept");
        assertThat(broker.channelCount()).isEqualTo(100_001);

        now.addAndGet(Duration.ofSeconds(59).toNanos());
        broker.sweep();
        assertThat(broker.channelCount()).as("still within their TTL").isEqualTo(100_001);

        now.addAndGet(Duration.ofSeconds(2).toNanos());
        broker.sweep();
        assertThat(broker.channelCount()).as("only the subscribed one is left").isEqualTo(1);
    }

    @Test
    void idempotency_keys_are_bounded_per_channel() {
        InMemoryBroker broker = new InMemoryBroker();
        for (int i = 0; i < InMemoryBroker.MAX_IDEMPOTENCY_KEYS + 5; i++) {
            broker.publish("c", Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("k" + i, Duration.ofHours(1)));
        }
        PublishOptions oldest = PublishOptions.NO_HISTORY.withIdempotencyKey("k0", Duration.ofHours(1));
        PublishOptions newest = PublishOptions.NO_HISTORY.withIdempotencyKey("k" + (InMemoryBroker.MAX_IDEMPOTENCY_KEYS + 4), Duration.ofHours(1));
        assertThat(broker.publish("c", Message.text("x"), newest).duplicate()).isTrue();
        assertThat(broker.publish("c", Message.text("x"), oldest).duplicate()).as("the oldest key made room").isFalse();
    }
}
