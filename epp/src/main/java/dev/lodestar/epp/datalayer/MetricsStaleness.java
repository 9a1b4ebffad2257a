package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether an endpoint's metrics are too old to trust. As upstream, metrics are stale when more than the
 * threshold has passed since their scrape; metrics never scraped are always stale.
 */
public final class MetricsStaleness {
    /** {@code --metrics-staleness-threshold}'s default. */
    public static final Duration DEFAULT_THRESHOLD = Duration.ofSeconds(2);

    private MetricsStaleness() {
    }

    public static boolean isStale(EndpointMetrics metrics, Duration threshold, Instant now) {
        if (metrics.updateTime().equals(Instant.EPOCH)) {
            return true;
        }
        return Duration.between(metrics.updateTime(), now).compareTo(threshold) > 0;
    }
}
