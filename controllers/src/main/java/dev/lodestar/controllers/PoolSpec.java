package dev.lodestar.controllers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two things of an InferencePool that decide its endpoints: the pod selector and the target ports (whose
 * order gives the ranks).
 */
record PoolSpec(Map<String, String> matchLabels, List<Integer> targetPorts) {
    private static final ObjectMapper JSON = new ObjectMapper();

    PoolSpec {
        matchLabels = Map.copyOf(matchLabels);
        targetPorts = List.copyOf(targetPorts);
    }

    /** From an InferencePool as the API server returns it. */
    static PoolSpec of(String inferencePoolJson) {
        JsonNode spec;
        try {
            spec = JSON.readTree(inferencePoolJson).path("spec");
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        spec.path("selector").path("matchLabels").properties()
                .forEach(entry -> labels.put(entry.getKey(), entry.getValue().asText()));
        List<Integer> ports = new ArrayList<>();
        for (JsonNode port : spec.path("targetPorts")) {
            int number = port.path("number").asInt(0);
            if (number < 1 || number > 65535) {
                throw new IllegalArgumentException("spec.targetPorts has an invalid port: " + port);
            }
            ports.add(number);
        }
        if (ports.isEmpty()) {
            throw new IllegalArgumentException("spec.targetPorts is empty");
        }
        return new PoolSpec(labels, ports);
    }
}
