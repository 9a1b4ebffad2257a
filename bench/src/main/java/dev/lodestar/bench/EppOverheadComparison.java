package dev.lodestar.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Side-by-side table of two {@code epp-overhead.json} results measured in one run against the same fakes (bench/
 * epp-overhead.sh --target both): Lodestar's EPP and llm-d Router's, stage by stage, with the ratios the issue's
 * targets are stated in.
 *
 * <pre>EppOverheadComparison lodestar/epp-overhead.json llm-d-router/epp-overhead.json out-folder</pre>
 * writes {@code comparison.md} and {@code comparison.json} to the folder and prints the Markdown.
 */
public final class EppOverheadComparison {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PERCENTILES = {"p50", "p90", "p99", "p99.9"};

    private EppOverheadComparison() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: EppOverheadComparison <lodestar epp-overhead.json> <llm-d epp-overhead.json> <out folder>");
            System.exit(2);
        }
        JsonNode ours = JSON.readTree(Path.of(args[0]).toFile());
        JsonNode theirs = JSON.readTree(Path.of(args[1]).toFile());
        ObjectNode json = JSON.createObjectNode();
        String markdown = compare(ours, theirs, json);
        Path out = Path.of(args[2]);
        Map<String, JsonNode> runs = new LinkedHashMap<>();
        runs.put("Lodestar", ours);
        runs.put("llm-d Router", theirs);
        markdown += "\n" + EppOverheadPlots.markdown(EppOverheadPlots.write(out, runs)) + "\n";
        Files.writeString(out.resolve("comparison.md"), markdown);
        Files.writeString(out.resolve("comparison.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        System.out.print(markdown);
    }

    /** The Markdown comparison; the same numbers go into {@code json}. */
    static String compare(JsonNode ours, JsonNode theirs, ObjectNode json) {
        Map<Integer, JsonNode> ourStages = stagesByRate(ours);
        Map<Integer, JsonNode> theirStages = stagesByRate(theirs);
        StringBuilder latency = new StringBuilder();
        StringBuilder cpu = new StringBuilder();
        var stagesJson = json.putArray("stages");
        for (var entry : ourStages.entrySet()) {
            JsonNode their = theirStages.get(entry.getKey());
            if (their == null) {
                continue;
            }
            JsonNode our = entry.getValue();
            ObjectNode row = stagesJson.addObject().put("rate", entry.getKey());
            latency.append("| ").append(entry.getKey()).append(" |");
            for (String p : PERCENTILES) {
                double a = latencyMs(our, p);
                double b = latencyMs(their, p);
                row.put("lodestar_" + p + "Ms", a).put("llmd_" + p + "Ms", b).put(p + "Ratio", a / b);
                latency.append(String.format(Locale.ROOT, " %s / %s (%s) |", ms(a), ms(b), ratio(a / b)));
            }
            latency.append(' ').append(held(our)).append(" / ").append(held(their)).append(" |\n");
            double a = our.path("cpuSecondsPer1000Requests").path("epp").asDouble(Double.NaN);
            double b = their.path("cpuSecondsPer1000Requests").path("epp").asDouble(Double.NaN);
            double aboveA = our.path("eppCpuSecondsPer1000RequestsAboveIdle").asDouble(Double.NaN);
            double aboveB = their.path("eppCpuSecondsPer1000RequestsAboveIdle").asDouble(Double.NaN);
            row.put("lodestarCpuPer1000", a).put("llmdCpuPer1000", b).put("cpuRatio", a / b)
                    .put("lodestarCpuPer1000AboveIdle", aboveA).put("llmdCpuPer1000AboveIdle", aboveB);
            cpu.append(String.format(Locale.ROOT, "| %d | %.2f / %.2f (%s) | %.2f / %.2f (%s) | %.2f / %.2f | %.1f / %.1f |%n",
                    entry.getKey(), a, b, ratio(a / b), aboveA, aboveB, ratio(aboveA / aboveB),
                    our.path("cores").path("epp").asDouble(Double.NaN), their.path("cores").path("epp").asDouble(Double.NaN),
                    our.path("loadAverage1m").asDouble(Double.NaN), their.path("loadAverage1m").asDouble(Double.NaN)));
        }

        int ourBest = ours.path("highestRateHeldWithP99Under10Ms").asInt();
        int theirBest = theirs.path("highestRateHeldWithP99Under10Ms").asInt();
        json.put("lodestarHighestRateHeld", ourBest).put("llmdHighestRateHeld", theirBest);
        String rateVerdict;
        if (theirBest == 0) {
            rateVerdict = ourBest > 0 ? "met: llm-d Router held no stage, Lodestar held " + ourBest + " req/s"
                    : "not met: neither held a stage (no ratio)";
        } else {
            double r = (double) ourBest / theirBest;
            rateVerdict = String.format(Locale.ROOT, "%s: %d vs %d req/s (%sx; goal >= 2x)", r >= 2 ? "met" : "not met",
                    ourBest, theirBest, String.format(Locale.ROOT, "%.2f", r));
        }
        JsonNode our500 = ourStages.get(EppOverheadBenchmark.TARGET_RATE);
        JsonNode their500 = theirStages.get(EppOverheadBenchmark.TARGET_RATE);
        String p99Verdict;
        if (our500 == null || their500 == null) {
            p99Verdict = "not measured: no 500 req/s stage for both";
        } else {
            double a = latencyMs(our500, "p99");
            double b = latencyMs(their500, "p99");
            p99Verdict = String.format(Locale.ROOT, "p99 at 500 req/s %s ms vs %s ms (%s): <= 1 ms %s; <= half of llm-d's %s",
                    ms(a), ms(b), ratio(a / b), a <= 1 ? "met" : "not met", a <= b / 2 ? "met" : "not met");
        }
        json.put("highestRateVerdict", rateVerdict).put("p99At500Verdict", p99Verdict);
        JsonNode ourHeap = ours.path("eppHeap");
        JsonNode theirHeap = theirs.path("eppHeap");
        json.put("lodestarRssMiB", ourHeap.path("rssMiB").asDouble()).put("llmdRssMiB", theirHeap.path("rssMiB").asDouble());

        return String.format(Locale.ROOT, """
                # EPP overhead: Lodestar vs llm-d Router

                One run, the same %d fake endpoints, the same generator settings (%s s per stage), Lodestar's EPP
                first, then llm-d Router's. Each cell: Lodestar / llm-d Router (Lodestar ÷ llm-d); below 1.00x Lodestar
                is faster or cheaper.

                - Target p99 <= 1 ms at 500 req/s and <= half of llm-d's: %s.
                - Target highest rate held with p99 < 10 ms at least twice llm-d's: %s.
                - Idle (metrics scrapes only): Lodestar %.3f cores, llm-d Router %.3f cores.
                - After the run: Lodestar RSS %.0f MiB (heap %.0f MiB used), llm-d Router RSS %.0f MiB (heap %.0f MiB used).

                | req/s | decision p50 ms | p90 ms | p99 ms | p99.9 ms | held |
                |---|---|---|---|---|---|
                %s
                | req/s | EPP CPU s / 1000 req | above idle | EPP cores | load (1 min) |
                |---|---|---|---|---|
                %s""", ours.path("endpoints").asInt(), ours.path("stageSeconds").asText(), p99Verdict, rateVerdict,
                ours.path("idle").path("epp").asDouble(Double.NaN), theirs.path("idle").path("epp").asDouble(Double.NaN),
                ourHeap.path("rssMiB").asDouble(Double.NaN), ourHeap.path("usedMiB").asDouble(Double.NaN),
                theirHeap.path("rssMiB").asDouble(Double.NaN), theirHeap.path("usedMiB").asDouble(Double.NaN), latency, cpu);
    }

    private static Map<Integer, JsonNode> stagesByRate(JsonNode result) {
        Map<Integer, JsonNode> stages = new LinkedHashMap<>();
        result.path("stages").forEach(stage -> stages.put(stage.path("targetRate").asInt(), stage));
        return stages;
    }

    private static double latencyMs(JsonNode stage, String percentile) {
        return stage.path("decisionLatencyFromIntendedMs").path(percentile).asDouble(Double.NaN);
    }

    private static String held(JsonNode stage) {
        return stage.path("held").asBoolean() ? "held" : "failed";
    }

    private static String ms(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, value < 10 ? "%.2f" : "%.1f", value);
    }

    private static String ratio(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "–" : String.format(Locale.ROOT, "%.2fx", value);
    }
}
