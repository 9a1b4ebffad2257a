package dev.lodestar.bench.routing;

import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.IOException;
import java.util.List;

/**
 * The fleet's prefix-cache counters, summed over the simulated servers' {@code /metrics}:
 * {@code vllm:prefix_cache_queries_total} (prompt tokens looked up) and {@code vllm:prefix_cache_hits_total}
 * (of those, tokens found in the cache), as vLLM counts them.
 */
final class FleetMetrics {
    private final OkHttpClient http;
    private final List<String> servers;

    FleetMetrics(OkHttpClient http, List<String> servers) {
        this.http = http;
        this.servers = List.copyOf(servers);
    }

    /**
     * {queries, hits, waiting requests} now, summed over the servers ({@code vllm:num_requests_waiting} for the
     * last); a server that does not answer counts as 0 and is reported on stderr.
     */
    double[] snapshot() {
        double queries = 0;
        double hits = 0;
        double waiting = 0;
        for (String server : servers) {
            try (Response response = http.newCall(new Request.Builder().url("http://" + server + "/metrics").build())
                    .execute()) {
                for (String line : response.body().string().split("\n")) {
                    if (line.startsWith("vllm:prefix_cache_queries_total")) {
                        queries += value(line);
                    } else if (line.startsWith("vllm:prefix_cache_hits_total")) {
                        hits += value(line);
                    } else if (line.startsWith("vllm:num_requests_waiting")) {
                        waiting += value(line);
                    }
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("metrics of " + server + ": " + e);
            }
        }
        return new double[] {queries, hits, waiting};
    }

    static double value(String line) {
        String[] parts = line.trim().split("\\s+");
        // name{labels} value [timestamp]: the value is the second field after the labels.
        int labelsEnd = line.lastIndexOf('}');
        String rest = labelsEnd >= 0 ? line.substring(labelsEnd + 1).trim() : parts.length > 1 ? parts[1] : "";
        return Double.parseDouble(rest.split("\\s+")[0]);
    }
}
