package dev.lodestar.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EppOverheadPlotsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesTheThreePngsForEveryEppAndLinksThem(@TempDir Path directory) throws Exception {
        Map<String, JsonNode> runs = new LinkedHashMap<>();
        runs.put("Lodestar", run(1.0));
        runs.put("llm-d Router", run(2.0));

        List<String> files = EppOverheadPlots.write(directory, runs);

        assertThat(files).containsExactly("decision-latency-cdf.png", "decision-latency-per-rate.png",
                "epp-cpu-per-request.png");
        for (String file : files) {
            byte[] png = Files.readAllBytes(directory.resolve(file));
            assertThat(png.length).as(file).isGreaterThan(1000);
            assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).as(file).isEqualTo("PNG");
        }
        assertThat(EppOverheadPlots.markdown(files)).contains("![decision-latency-cdf.png](decision-latency-cdf.png)");
    }

    private static JsonNode run(double scale) {
        ObjectNode root = JSON.createObjectNode();
        var stages = root.putArray("stages");
        for (int rate : new int[] {100, 500}) {
            ObjectNode stage = stages.addObject().put("targetRate", rate);
            stage.putObject("decisionLatencyFromIntendedMs").put("p50", scale * rate / 100).put("p99", scale * rate / 10);
            stage.putObject("cpuSecondsPer1000Requests").put("epp", scale * 3);
            var cdf = stage.putArray("decisionLatencyCdfMs");
            for (int half = 0; half <= 200; half++) {
                cdf.add(JSON.createArrayNode().add(half / 2.0).add(scale * (0.1 + half / 20.0)));
            }
        }
        return root;
    }
}
