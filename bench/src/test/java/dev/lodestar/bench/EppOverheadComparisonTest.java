package dev.lodestar.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EppOverheadComparisonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void statesBothEppsPerStageWithRatiosAndTheTargetsVerdicts() throws Exception {
        JsonNode lodestar = result(250, 0.9, 0.31, 3.0, 0.8, 1.0);
        JsonNode llmd = result(100, 4.0, 0.28, 2.0, 8.0, 12.0);
        ObjectNode json = JSON.createObjectNode();

        String markdown = EppOverheadComparison.compare(lodestar, llmd, json);

        assertThat(json.path("stages")).hasSize(2);
        JsonNode at500 = json.path("stages").get(1);
        assertThat(at500.path("rate").asInt()).isEqualTo(500);
        assertThat(at500.path("p99Ratio").asDouble()).isCloseTo(1.0 / 12.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(at500.path("cpuRatio").asDouble()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(json.path("highestRateVerdict").asText()).isEqualTo("met: 250 vs 100 req/s (2.50x; goal >= 2x)");
        assertThat(json.path("p99At500Verdict").asText())
                .isEqualTo("p99 at 500 req/s 1.00 ms vs 12.0 ms (0.08x): <= 1 ms met; <= half of llm-d's met");
        assertThat(markdown).contains("| 500 | 0.80 / 8.00 (0.10x) |", "| 500 | 3.00 / 2.00 (1.50x) |",
                "Lodestar 0.310 cores, llm-d Router 0.280 cores");
    }

    @Test
    void saysNotMeasuredWhenOneSideHasNo500Stage() {
        ObjectNode lodestar = (ObjectNode) result(250, 0.9, 0.3, 3.0, 0.8, 1.0);
        lodestar.withArray("stages").remove(1);
        ObjectNode json = JSON.createObjectNode();

        EppOverheadComparison.compare(lodestar, result(0, 4.0, 0.3, 2.0, 8.0, 12.0), json);

        assertThat(json.path("p99At500Verdict").asText()).isEqualTo("not measured: no 500 req/s stage for both");
        assertThat(json.path("highestRateVerdict").asText()).startsWith("met: llm-d Router held no stage");
    }

    /** An epp-overhead.json with a 100/s stage and a 500/s stage (p50 and p99 given; p90, p99.9 derived). */
    private static JsonNode result(int highestHeld, double p99At100, double idleCores, double cpuAt500,
                                   double p50At500, double p99At500) {
        ObjectNode root = JSON.createObjectNode();
        root.put("endpoints", 100).put("stageSeconds", 8).put("highestRateHeldWithP99Under10Ms", highestHeld);
        root.putObject("idle").put("epp", idleCores);
        root.putObject("eppHeap").put("rssMiB", 300).put("usedMiB", 100);
        var stages = root.putArray("stages");
        stages.add(stage(100, p99At100 / 2, p99At100, 1.0));
        stages.add(stage(500, p50At500, p99At500, cpuAt500));
        return root;
    }

    private static ObjectNode stage(int rate, double p50, double p99, double cpu) {
        ObjectNode stage = JSON.createObjectNode();
        stage.put("targetRate", rate).put("held", p99 < 10).put("loadAverage1m", 2.0)
                .put("eppCpuSecondsPer1000RequestsAboveIdle", cpu / 2);
        stage.putObject("decisionLatencyFromIntendedMs").put("p50", p50).put("p90", (p50 + p99) / 2).put("p99", p99)
                .put("p99.9", p99 * 2);
        stage.putObject("cpuSecondsPer1000Requests").put("epp", cpu);
        stage.putObject("cores").put("epp", 0.5);
        return stage;
    }
}
