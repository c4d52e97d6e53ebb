package dev.squall.internal.broker;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void a_channel_with_neither_subscription_nor_history_is_kept_a_minute_then_forgotten_and_starts_a_new_epoch() {
        AtomicLong now = new AtomicLong();
        InMemoryBroker broker = new InMemoryBroker(now::get);
        broker.subscribe("c");
        StreamPosition first = broker.publish("c", Message.text("x"), PublishOptions.NO_HISTORY).position();
        broker.unsubscribe("c");

        now.addAndGet(InMemoryBroker.KEEP.minusSeconds(1).toNanos());
        broker.sweep();
        assertThat(broker.history("c", 0, 10).position()).as("a client back within the minute finds its epoch").isEqualTo(first);

        now.addAndGet(Duration.ofSeconds(2).toNanos());
        broker.sweep();
        assertThat(broker.channelCount()).as("forgotten").isZero();
        StreamPosition next = broker.publish("c", Message.text("y"), PublishOptions.NO_HISTORY).position();
        assertThat(next.epoch()).isNotEmpty().isNotEqualTo(first.epoch());
        assertThat(next.offset()).isEqualTo(1);
    }

    @Test
    void past_its_bound_on_live_keys_a_new_key_is_refused_and_no_live_key_is_forgotten() {
        AtomicLong now = new AtomicLong();
        InMemoryBroker broker = new InMemoryBroker(now::get, 3);
        Duration window = Duration.ofMinutes(5);
        for (int i = 1; i <= 3; i++) {
            broker.publish("c" + i, Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("k" + i, window));
        }

        assertThatThrownBy(() -> broker.publish("c4", Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("k4", window)))
                .isInstanceOf(TooManyIdempotencyKeys.class).hasMessageContaining("3 idempotency keys");
        assertThat(broker.history("c4", 0, 10).position().offset()).as("nothing was published").isZero();
        assertThat(broker.publish("c1", Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("k1", window)).duplicate())
                .as("a retry of a live key is still answered as one").isTrue();
        assertThat(broker.publish("c4", Message.text("x"), PublishOptions.NO_HISTORY).duplicate())
                .as("a publish without a key goes on").isFalse();
        assertThat(broker.idempotencyKeys()).isEqualTo(3);

        now.addAndGet(window.toNanos());
        broker.sweep();
        assertThat(broker.idempotencyKeys()).as("keys go with their window").isZero();
        assertThat(broker.publish("c4", Message.text("x"), PublishOptions.NO_HISTORY.withIdempotencyKey("k4", window)).duplicate())
                .isFalse();
        assertThat(broker.idempotencyKeys()).isEqualTo(1);
    }
}
