package dev.lodestar.bench.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The measurements of a run: per routing configuration and workload, one {@link StageStats} per rate
 * stage, plus what describes the setup (workload sizes, fleet settings). Each configuration's part is
 * written by its own load-generator process ({@code raw-<config>.json}); the report merges them.
 */
final class Results {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Map<String, Map<String, List<StageStats>>> cells = new LinkedHashMap<>();
    private final Map<String, String> workloadDescriptions = new LinkedHashMap<>();
    private final ObjectNode setup = JSON.createObjectNode();

    void add(String config, Workload workload, List<StageStats> stages) {
        add(config, workload.name(), workload.description(), stages);
    }

    void add(String config, String workload, String description, List<StageStats> stages) {
        cells.computeIfAbsent(config, c -> new LinkedHashMap<>()).put(workload, List.copyOf(stages));
        workloadDescriptions.putIfAbsent(workload, description);
    }

    ObjectNode setup() {
        return setup;
    }

    List<String> configs() {
        return List.copyOf(cells.keySet());
    }

    List<String> workloads() {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        cells.values().forEach(m -> names.addAll(m.keySet()));
        return List.copyOf(names);
    }

    String description(String workload) {
        return workloadDescriptions.getOrDefault(workload, "");
    }

    List<StageStats> stages(String config, String workload) {
        return cells.getOrDefault(config, Map.of()).getOrDefault(workload, List.of());
    }

    /** All stages of a cell together, or null when the cell did not run. */
    StageStats whole(String config, String workload) {
        List<StageStats> stages = stages(config, workload);
        return stages.isEmpty() ? null : StageStats.merge(config, workload, stages);
    }

    ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.set("setup", setup.deepCopy());
        ArrayNode list = root.putArray("cells");
        cells.forEach((config, byWorkload) -> byWorkload.forEach((workload, stages) -> {
            ObjectNode cell = list.addObject();
            cell.put("config", config).put("workload", workload).put("description", description(workload));
            ArrayNode stageList = cell.putArray("stages");
            stages.forEach(s -> stageList.add(s.toJson(JSON)));
            StageStats all = whole(config, workload);
            ObjectNode total = all.toJson(JSON);
            total.remove("histogramsMicros");
            cell.set("allStages", total);
        }));
        return root;
    }

    void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(toJson()));
    }

    /** Merges result files (in the given order) into one. */
    static Results read(List<Path> files) throws IOException {
        Results results = new Results();
        for (Path file : files) {
            JsonNode root = JSON.readTree(file.toFile());
            root.path("setup").fields().forEachRemaining(e -> results.setup.putIfAbsent(e.getKey(), e.getValue()));
            for (JsonNode cell : root.path("cells")) {
                List<StageStats> stages = new ArrayList<>();
                cell.path("stages").forEach(s -> stages.add(StageStats.fromJson(s)));
                results.add(cell.path("config").asText(), cell.path("workload").asText(),
                        cell.path("description").asText(), stages);
            }
        }
        return results;
    }
}
