package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A candidate endpoint as one request sees it: the metadata and the metrics snapshot current when the
 * request was scheduled, plus attributes that data producers attach for this request only (e.g. its
 * prefix match on this endpoint). Owned by one request; not shared between threads.
 */
public final class Endpoint {
    private final EndpointMetadata metadata;
    private final EndpointMetrics metrics;
    private Map<String, Object> attributes;

    public Endpoint(EndpointMetadata metadata, EndpointMetrics metrics) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    public EndpointMetadata metadata() {
        return metadata;
    }

    public EndpointMetrics metrics() {
        return metrics;
    }

    public <T> Optional<T> attribute(AttributeKey<T> key) {
        if (attributes == null) {
            return Optional.empty();
        }
        Object value = attributes.get(key.name());
        return value == null ? Optional.empty() : Optional.of(key.type().cast(value));
    }

    public <T> void putAttribute(AttributeKey<T> key, T value) {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        attributes.put(key.name(), Objects.requireNonNull(value, "value"));
    }

    @Override
    public String toString() {
        return metadata.key() + "@" + metadata.hostPort();
    }
}
