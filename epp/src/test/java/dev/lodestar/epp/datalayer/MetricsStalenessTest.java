package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsStalenessTest {
    private static final Instant NOW = Instant.parse("2026-08-20T10:00:00Z");
    private static final Duration THRESHOLD = MetricsStaleness.DEFAULT_THRESHOLD;

    private static EndpointMetrics scrapedAt(Instant time) {
        return EndpointMetrics.builder().updateTime(time).build();
    }

    @Test
    void staleOnlyWhenOlderThanTheThreshold() {
        assertThat(THRESHOLD).isEqualTo(Duration.ofSeconds(2));
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW), THRESHOLD, NOW)).isFalse();
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW.minusMillis(1999)), THRESHOLD, NOW)).isFalse();
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW.minusSeconds(2)), THRESHOLD, NOW)).isFalse();
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW.minusMillis(2001)), THRESHOLD, NOW)).isTrue();
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW.minusMillis(201)), Duration.ofMillis(200), NOW)).isTrue();
    }

    @Test
    void neverScrapedIsStale() {
        assertThat(MetricsStaleness.isStale(EndpointMetrics.EMPTY, Duration.ofDays(365 * 1000), NOW)).isTrue();
    }

    @Test
    void scrapeAfterNowIsFresh() {
        assertThat(MetricsStaleness.isStale(scrapedAt(NOW.plusMillis(5)), THRESHOLD, NOW)).isFalse();
    }
}
