package dev.squall.broker;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InMemoryBrokerTest extends BrokerContract {

    @Override
    Broker newBroker() {
        return new InMemoryBroker();
    }

    @Test
    void publish_delivers_before_returning_and_counts_what_subscribers_delivered() {
        Broker broker = new InMemoryBroker();
        broker.subscribe((channel, message) -> 3);
        broker.subscribe((channel, message) -> 4);

        assertThat(broker.publish("c", Message.text("x"))).isEqualTo(7);
    }
}
