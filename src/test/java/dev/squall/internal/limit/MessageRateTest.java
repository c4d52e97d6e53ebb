package dev.squall.internal.limit;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token bucket behind {@code --max-messages-per-second}, on a clock the test moves. */
class MessageRateTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    private int taken(MessageRate rate, int tries) {
        int taken = 0;
        for (int i = 0; i < tries; i++) if (rate.take()) taken++;
        return taken;
    }

    @Test
    void a_burst_of_the_rate_is_let_through_at_once_and_not_one_more() {
        MessageRate rate = new MessageRate(100, now::get);
        assertThat(taken(rate, 100)).isEqualTo(100);
        assertThat(rate.take()).isFalse();
        assertThat(rate.take()).isFalse();
    }

    @Test
    void it_refills_at_the_rate_one_token_per_interval() {
        MessageRate rate = new MessageRate(100, now::get);
        taken(rate, 100);
        now.addAndGet(9_999_999);                        // just under 1/100 s: not a whole token yet
        assertThat(rate.take()).isFalse();
        now.addAndGet(1);
        assertThat(rate.take()).isTrue();
        assertThat(rate.take()).isFalse();
        now.addAndGet(500_000_000);                      // half a second: 50 more
        assertThat(taken(rate, 80)).isEqualTo(50);
    }

    @Test
    void a_client_that_keeps_to_the_rate_is_never_refused() {
        MessageRate rate = new MessageRate(10, now::get);
        for (int i = 0; i < 1000; i++) {
            assertThat(rate.take()).as("message %d", i).isTrue();
            now.addAndGet(100_000_000);                  // exactly 10 a second
        }
    }

    @Test
    void a_long_quiet_spell_refills_to_the_burst_and_no_further() {
        MessageRate rate = new MessageRate(5, now::get);
        taken(rate, 5);
        now.addAndGet(3_600_000_000_000L);               // an hour
        assertThat(taken(rate, 20)).isEqualTo(5);
    }

    @Test
    void a_clock_that_goes_back_takes_nothing_away_and_gives_nothing() {
        MessageRate rate = new MessageRate(2, now::get);
        assertThat(rate.take()).isTrue();
        now.addAndGet(-5_000_000_000L);
        assertThat(rate.take()).isTrue();
        assertThat(rate.take()).isFalse();
    }

    @Test
    void the_largest_rate_does_not_overflow() {
        MessageRate rate = new MessageRate(Integer.MAX_VALUE, now::get);
        assertThat(taken(rate, 1000)).isEqualTo(1000);
        now.addAndGet(Long.MAX_VALUE / 4);
        assertThat(taken(rate, 1000)).isEqualTo(1000);
    }

    @Test
    void a_rate_below_one_is_refused() {
        assertThatThrownBy(() -> new MessageRate(0, now::get)).isInstanceOf(IllegalArgumentException.class);
    }
}
