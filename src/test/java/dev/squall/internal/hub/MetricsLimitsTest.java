package dev.squall.internal.hub;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The limits in the Prometheus text: every limit's counter from the start, and Squall's own close codes (3013, 3504)
 * under their own label among the codes 3000-3999 that clients may pick freely and that share one.
 */
class MetricsLimitsTest {

    @Test
    void squalls_own_close_codes_have_their_own_label_and_a_clients_share_their_range() {
        try (Metrics metrics = new Metrics()) {
            metrics.disconnected(Connection.TOO_MANY_REQUESTS);
            metrics.disconnected(Connection.CONNECTION_LIMIT);
            metrics.disconnected(Connection.CONNECTION_LIMIT);
            metrics.disconnected(3999);
            metrics.disconnected(3012);
            String text = metrics.scrape();
            assertThat(text).contains("squall_disconnects_total{code=\"3013\"} 1.0", "squall_disconnects_total{code=\"3504\"} 2.0",
                    "squall_disconnects_total{code=\"3000-3999\"} 2.0");
        }
    }

    @Test
    void each_limit_counts_under_its_label_and_none_is_missing_before_it_counts() {
        try (Metrics metrics = new Metrics()) {
            assertThat(metrics.scrape().lines().filter(line -> line.startsWith("squall_limited_total{")))
                    .hasSize(Metrics.Limit.values().length).allMatch(line -> line.endsWith(" 0.0"));
            metrics.limited(Metrics.Limit.HANDSHAKE_TIMEOUT);
            metrics.limited(Metrics.Limit.HANDSHAKE_TIMEOUT);
            assertThat(metrics.scrape()).contains("squall_limited_total{limit=\"handshake_timeout\"} 2.0",
                    "squall_limited_total{limit=\"channels\"} 0.0");
        }
    }
}
