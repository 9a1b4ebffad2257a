package dev.lodestar.epp.datastore;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.scheduling.Endpoint;

import java.util.Objects;

/**
 * One endpoint of the pool: its metadata and latest metrics, each an immutable value swapped as a
 * whole, so readers never see half an update and never take a lock.
 */
public final class EndpointState {
    private volatile EndpointMetadata metadata;
    private volatile EndpointMetrics metrics = EndpointMetrics.EMPTY;

    EndpointState(EndpointMetadata metadata) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
    }

    public EndpointMetadata metadata() {
        return metadata;
    }

    public EndpointMetrics metrics() {
        return metrics;
    }

    void metadata(EndpointMetadata metadata) {
        this.metadata = metadata;
    }

    /** Stores a new scrape (called by the datalayer). */
    public void updateMetrics(EndpointMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** A per-request view of this endpoint as it is now. */
    public Endpoint snapshot() {
        return new Endpoint(metadata, metrics);
    }
}
