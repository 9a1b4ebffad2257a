package dev.lodestar.epp.framework.datalayer;

import java.util.Map;
import java.util.Objects;

/**
 * What the EPP knows about an endpoint apart from its metrics: where it is, whose pod it is, and the
 * pod's labels.
 *
 * @param key         namespace and {@code <pod>-rank-<i>} name
 * @param podName     the pod's name
 * @param address     IP address (IPv4 or IPv6, no brackets)
 * @param port        the target port
 * @param metricsHost {@code host:port} the metrics are scraped from
 * @param labels      the pod's labels
 */
public record EndpointMetadata(EndpointKey key, String podName, String address, int port, String metricsHost,
                               Map<String, String> labels) {
    public EndpointMetadata {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(podName, "podName");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(metricsHost, "metricsHost");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1-65535, got " + port);
        }
    }

    /** {@code ip:port}, with IPv6 addresses in brackets, as in {@code x-gateway-destination-endpoint}. */
    public String hostPort() {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
