package dev.lodestar.controllers;

import dev.lodestar.api.inference.InferencePool;

import java.util.List;
import java.util.Map;

/**
 * The two things of an InferencePool that decide its endpoints: the pod selector and the target ports (whose
 * order gives the ranks).
 */
record PoolSpec(Map<String, String> matchLabels, List<Integer> targetPorts) {
    PoolSpec {
        matchLabels = Map.copyOf(matchLabels);
        targetPorts = List.copyOf(targetPorts);
    }

    /** From an InferencePool as the API server returns it. */
    static PoolSpec of(InferencePool pool) {
        List<Integer> ports = pool.spec().targetPorts().stream().map(InferencePool.Port::number).toList();
        if (ports.isEmpty()) {
            throw new IllegalArgumentException("spec.targetPorts is empty");
        }
        return new PoolSpec(pool.spec().selector() == null ? Map.of() : pool.spec().selector().matchLabels(), ports);
    }
}
