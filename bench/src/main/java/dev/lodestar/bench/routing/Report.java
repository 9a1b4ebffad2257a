package dev.lodestar.bench.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes a run's {@code routing-quality.json}, {@code routing-quality.md} and PNG plots. The headline is the
 * issue's target: on shared-prefix, at the highest stable rate, the default profile's TTFT p90 at least 10x
 * lower than round-robin's.
 *
 * <p>A stage is <em>stable</em> for a configuration when at least 99% of its requests succeeded and, when it
 * ended, the servers' waiting queues held at most {@value #STABLE_MAX_WAITING} requests in all (one per
 * server: no backlog built up). The highest stable rate is the default profile's.
 */
final class Report {
    static final String DEFAULT = "default";
    static final String ROUND_ROBIN = "round-robin";
    static final String LLMD_ROUTER = "llm-d-router";
    static final String RANDOM = "random";
    static final String TARGET_WORKLOAD = "shared-prefix";
    static final int STABLE_MAX_WAITING = 8;

    private Report() {
    }

    /** Writes JSON, Markdown and plots into {@code directory}; returns the Markdown. */
    static String write(Path directory, Results results) throws IOException {
        Files.createDirectories(directory);
        List<String> plots = Plots.write(directory, results);
        ObjectNode json = results.toJson();
        String headline = headline(results, json);
        StringBuilder md = new StringBuilder();
        md.append("# Routing quality\n\n");
        md.append(results.setup().path("description").asText("")).append("\n\n");
        md.append(headline).append("\n");
        for (String workload : results.workloads()) {
            md.append("## ").append(workload).append("\n\n").append(results.description(workload)).append("\n\n");
            md.append("| config | rate req/s | sent | success | TTFT p50 / p90 / p99 ms | ITL p50 / p90 / p99 ms "
                    + "| end-to-end p50 / p90 / p99 ms | output tok/s | fleet prefix hit rate | waiting at end | load |\n");
            md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (String config : results.configs()) {
                for (StageStats s : results.stages(config, workload)) {
                    md.append(row(config, rate(s.rate()), s));
                }
            }
            md.append("\n");
        }
        md.append("Success = requests that got every token and `[DONE]` within the timeout, of those sent in the stage. "
                + "Latencies are of the requests sent in the stage; output tok/s counts the requests that completed "
                + "inside the stage's window; the fleet prefix hit rate is Δ`vllm:prefix_cache_hits_total` / "
                + "Δ`vllm:prefix_cache_queries_total` summed over the servers over the stage's window (the last "
                + "stage's window includes the drain). Waiting at end = requests in the servers' queues when the stage ended "
                + "(a stage is stable with at least 99% success and at most " + STABLE_MAX_WAITING + " waiting). Load = the machine's 1-minute load average at the stage's end "
                + "(2 cores; other jobs share them).\n\n");
        md.append("## Plots\n\n");
        for (String plot : plots) {
            md.append("![").append(plot).append("](").append(plot).append(")\n");
        }
        String markdown = md.toString();
        Files.writeString(directory.resolve("routing-quality.md"), markdown);
        Files.writeString(directory.resolve("routing-quality.json"), Results.JSON.writeValueAsString(json));
        return markdown;
    }

    static String row(String config, String rate, StageStats s) {
        return String.format(Locale.ROOT, "| %s | %s | %d | %.1f%% | %s / %s / %s | %s / %s / %s | %s / %s / %s | %.0f | %s | %s | %s |%n",
                config, rate, s.sent, 100 * s.successRate(),
                ms(s.ttftMs(50)), ms(s.ttftMs(90)), ms(s.ttftMs(99)),
                ms(s.itlMs(50)), ms(s.itlMs(90)), ms(s.itlMs(99)),
                ms(s.e2eMs(50)), ms(s.e2eMs(90)), ms(s.e2eMs(99)),
                s.outputTokensPerSecond(), percent(s.fleetHitRate()),
                Double.isNaN(s.waitingAtEnd) ? "–" : String.format(Locale.ROOT, "%.0f", s.waitingAtEnd),
                Double.isNaN(s.loadAverage) ? "–" : String.format(Locale.ROOT, "%.1f", s.loadAverage));
    }

    static String rate(double value) {
        return new java.text.DecimalFormat("0.##", java.text.DecimalFormatSymbols.getInstance(Locale.ROOT)).format(value);
    }

    static String ms(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }

    static String percent(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * value);
    }

    static boolean stable(StageStats stage) {
        return stage.successRate() >= 0.99 && !(stage.waitingAtEnd > STABLE_MAX_WAITING);
    }

    /** Index of the default profile's highest stable stage on the workload, or -1. */
    static int highestStableStage(Results results, String workload) {
        List<StageStats> stages = results.stages(DEFAULT, workload);
        int best = -1;
        for (int i = 0; i < stages.size(); i++) {
            if (stable(stages.get(i))) {
                best = i;
            }
        }
        return best;
    }

    /** The target's verdict, with the per-stage TTFT p90 ratios; also stored in {@code json.target}. */
    static String headline(Results results, ObjectNode json) {
        ObjectNode target = json.putObject("target");
        target.put("workload", TARGET_WORKLOAD).put("goal", "default TTFT p90 at least 10x lower than round-robin's "
                + "at the highest stable rate");
        List<StageStats> defaults = results.stages(DEFAULT, TARGET_WORKLOAD);
        if (defaults.isEmpty()) {
            target.put("verdict", "not measured");
            return "Target (shared-prefix, default vs round-robin TTFT p90): not measured in this run.\n";
        }
        StringBuilder text = new StringBuilder("## Target\n\nShared-prefix, TTFT p90 of each configuration divided by "
                + "the default profile's, per rate stage:\n\n| rate req/s | default TTFT p90 ms |");
        List<String> others = results.configs().stream().filter(c -> !c.equals(DEFAULT)).toList();
        for (String other : others) {
            text.append(' ').append(other).append(" / default |");
        }
        text.append(" default stable |\n|---|---|");
        text.append("---|".repeat(others.size())).append("---|\n");
        var ratios = target.putArray("stages");
        for (int i = 0; i < defaults.size(); i++) {
            StageStats d = defaults.get(i);
            ObjectNode r = ratios.addObject().put("rate", d.rate()).put("defaultTtftP90Ms", d.ttftMs(90))
                    .put("defaultStable", stable(d));
            text.append(String.format(Locale.ROOT, "| %s | %s |", rate(d.rate()), ms(d.ttftMs(90))));
            for (String other : others) {
                List<StageStats> stages = results.stages(other, TARGET_WORKLOAD);
                double ratio = i < stages.size() ? stages.get(i).ttftMs(90) / d.ttftMs(90) : Double.NaN;
                r.put(other + "OverDefault", ratio);
                text.append(Double.isNaN(ratio) ? " – |" : String.format(Locale.ROOT, " %.1fx |", ratio));
            }
            text.append(stable(d) ? " yes |\n" : " no |\n");
        }
        int best = highestStableStage(results, TARGET_WORKLOAD);
        List<StageStats> roundRobin = results.stages(ROUND_ROBIN, TARGET_WORKLOAD);
        String verdict;
        if (best < 0) {
            verdict = "not met: the default profile had no stable stage";
        } else if (best >= roundRobin.size()) {
            verdict = "not measured: no round-robin run";
        } else {
            double ratio = roundRobin.get(best).ttftMs(90) / defaults.get(best).ttftMs(90);
            target.put("highestStableRate", defaults.get(best).rate()).put("roundRobinOverDefault", ratio);
            verdict = String.format(Locale.ROOT, "%s: at %s req/s (the default profile's highest stable stage) "
                    + "round-robin's TTFT p90 is %.1fx the default profile's (%s ms vs %s ms)",
                    ratio >= 10 ? "met" : "not met", rate(defaults.get(best).rate()), ratio,
                    ms(roundRobin.get(best).ttftMs(90)), ms(defaults.get(best).ttftMs(90)));
        }
        target.put("verdict", verdict);
        text.append("\nTarget (default TTFT p90 at least 10x lower than round-robin's at the highest stable rate) ")
                .append(verdict).append(".\n");
        String llmdVerdict = llmdVerdict(results, best);
        target.put("llmdRouterVerdict", llmdVerdict);
        text.append("\nTarget (default TTFT p90 no worse than llm-d Router's with the same profile, at the same rate) ")
                .append(llmdVerdict).append(".\n");
        return text.toString();
    }

    /** Lodestar's default profile against llm-d Router's EPP with the same profile, at the default's highest stable rate. */
    private static String llmdVerdict(Results results, int best) {
        List<StageStats> defaults = results.stages(DEFAULT, TARGET_WORKLOAD);
        List<StageStats> llmd = results.stages(LLMD_ROUTER, TARGET_WORKLOAD);
        if (best < 0) {
            return "not met: the default profile had no stable stage";
        }
        if (best >= llmd.size()) {
            return "not measured: no llm-d-router run";
        }
        double ratio = llmd.get(best).ttftMs(90) / defaults.get(best).ttftMs(90);
        return String.format(Locale.ROOT, "%s: at %s req/s llm-d Router's TTFT p90 is %.2fx Lodestar's (%s ms vs %s ms)",
                ratio >= 1 ? "met" : "not met", rate(defaults.get(best).rate()), ratio,
                ms(llmd.get(best).ttftMs(90)), ms(defaults.get(best).ttftMs(90)));
    }
}
