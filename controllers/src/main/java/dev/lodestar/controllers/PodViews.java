package dev.lodestar.controllers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;

/** The edge between the Kubernetes client's Pod and {@link PodView}. */
final class PodViews {
    private PodViews() {
    }

    static PodView of(Pod pod) {
        boolean ready = pod.getStatus() != null && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                .anyMatch(condition -> isReady(condition));
        return new PodView(pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
                pod.getStatus() == null ? null : pod.getStatus().getPodIP(), ready,
                pod.getMetadata().getDeletionTimestamp() != null, pod.getMetadata().getLabels(),
                pod.getMetadata().getAnnotations());
    }

    private static boolean isReady(PodCondition condition) {
        return "Ready".equals(condition.getType()) && "True".equals(condition.getStatus());
    }
}
