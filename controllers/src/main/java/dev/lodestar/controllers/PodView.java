package dev.lodestar.controllers;

import java.util.Map;
import java.util.Objects;

/**
 * What the EPP needs of a Pod: identity, address, readiness, labels and annotations. Translated from the
 * Kubernetes client's Pod at the edge, so the mapping to endpoints is plain logic.
 *
 * @param namespace   the pod's namespace
 * @param name        the pod's name
 * @param podIp       {@code status.podIP}, empty before the pod has one
 * @param ready       the {@code Ready} condition is {@code True}
 * @param terminating the pod has a deletion timestamp
 * @param labels      the pod's labels
 * @param annotations the pod's annotations
 */
public record PodView(String namespace, String name, String podIp, boolean ready, boolean terminating,
                      Map<String, String> labels, Map<String, String> annotations) {
    public PodView {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        podIp = podIp == null ? "" : podIp;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** GIE routes to a pod that is Ready, not being deleted, and has an IP. */
    public boolean routable() {
        return ready && !terminating && !podIp.isEmpty();
    }
}
