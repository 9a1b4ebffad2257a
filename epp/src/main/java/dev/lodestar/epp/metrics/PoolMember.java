package dev.lodestar.epp.metrics;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.util.Objects;

/** One endpoint of the pool with its latest scrape, as the pool gauges read it at scrape time. */
public record PoolMember(EndpointKey key, EndpointMetrics metrics) {
    public PoolMember {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(metrics, "metrics");
    }
}
