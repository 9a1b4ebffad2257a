package dev.lodestar.controllers;

import java.util.List;
import java.util.Map;

/** What the EPP serves: an InferencePool by name, or (standalone) the pods matching a label selector. */
sealed interface PoolTarget {
    String namespace();

    /** {@code --pool-name} / {@code --pool-namespace} / {@code --pool-group}. */
    record Pool(String namespace, String name, String group) implements PoolTarget {
        @Override
        public String toString() {
            return namespace + "/" + name;
        }
    }

    /** {@code --endpoint-selector} with {@code --endpoint-target-ports}: no CRDs needed. */
    record Selector(String namespace, Map<String, String> matchLabels, List<Integer> targetPorts)
            implements PoolTarget {
        public Selector {
            matchLabels = Map.copyOf(matchLabels);
            targetPorts = List.copyOf(targetPorts);
        }

        @Override
        public String toString() {
            return namespace + "/" + matchLabels;
        }
    }
}
