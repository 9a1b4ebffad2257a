package dev.lodestar.bench.pd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * End-to-end time to first token of long-prompt requests through the dev gateway (and whatever stands behind
 * it: one simulator, or a prefill simulator and a decode simulator behind the routing sidecar), one request
 * at a time, each with a new random prompt so nothing is cached. Streams {@code /v1/completions} and takes
 * the first event with text as the first token. Prints one Markdown table row and writes the samples as JSON.
 * Options (defaults in brackets): --gateway URL, --label NAME, --prompt-tokens [6000], --max-tokens [8],
 * --requests [20], --warmup [3], --seed [1], --decode-metrics URL (a decode simulator's /metrics, for the
 * mean KV pull time from vllm:nixl_xfer_time_seconds), --out FILE.json.
 */
public final class PdTtftBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String MODEL = "meta-llama/Llama-3.1-8B-Instruct";

    private PdTtftBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String gateway = required(opts, "gateway");
        String label = required(opts, "label");
        int promptTokens = Integer.parseInt(opts.getOrDefault("prompt-tokens", "6000"));
        int maxTokens = Integer.parseInt(opts.getOrDefault("max-tokens", "8"));
        int requests = Integer.parseInt(opts.getOrDefault("requests", "20"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "3"));
        SplittableRandom random = new SplittableRandom(Long.parseLong(opts.getOrDefault("seed", "1")));
        Optional<String> decodeMetrics = Optional.ofNullable(opts.get("decode-metrics"));
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        for (int i = 0; i < warmup; i++) {
            Sample sample = request(http, gateway, prompt(random, promptTokens), maxTokens);
            if (sample.error().isPresent()) {
                throw new IllegalStateException("warm-up request failed: " + sample.error().get());
            }
        }
        double[] pullsBefore = decodeMetrics.map(url -> pullTotals(http, url)).orElse(new double[2]);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            samples.add(request(http, gateway, prompt(random, promptTokens), maxTokens));
        }
        double[] pullsAfter = decodeMetrics.map(url -> pullTotals(http, url)).orElse(new double[2]);
        String loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();

        double[] ttft = samples.stream().filter(s -> s.error().isEmpty()).mapToDouble(Sample::ttftMillis).sorted()
                .toArray();
        double[] total = samples.stream().filter(s -> s.error().isEmpty()).mapToDouble(Sample::totalMillis).sorted()
                .toArray();
        long errors = samples.stream().filter(s -> s.error().isPresent()).count();
        double pulls = pullsAfter[1] - pullsBefore[1];
        Double pullMillis = pulls > 0 ? (pullsAfter[0] - pullsBefore[0]) / pulls * 1000 : null;

        System.out.printf(Locale.ROOT, "| %s | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %d |%n",
                label, promptTokens, ttft.length, percentile(ttft, 50), percentile(ttft, 90), mean(ttft),
                ttft.length == 0 ? Double.NaN : ttft[0], ttft.length == 0 ? Double.NaN : ttft[ttft.length - 1],
                percentile(total, 50), pullMillis == null ? "-" : String.format(Locale.ROOT, "%.1f (%d pulls)",
                        pullMillis, (long) pulls), errors);

        ObjectNode out = JSON.createObjectNode();
        out.put("label", label);
        out.put("gateway", gateway);
        out.put("promptWords", promptTokens);
        out.put("maxTokens", maxTokens);
        out.put("requests", requests);
        out.put("warmup", warmup);
        out.put("errors", errors);
        out.put("ttftP50Ms", percentile(ttft, 50));
        out.put("ttftP90Ms", percentile(ttft, 90));
        out.put("ttftMeanMs", mean(ttft));
        out.put("totalP50Ms", percentile(total, 50));
        if (pullMillis != null) {
            out.put("kvPulls", (long) pulls);
            out.put("kvPullMeanMs", pullMillis);
        }
        out.put("loadavgBefore", loadBefore);
        out.put("loadavgAfter", loadAfter);
        var rows = out.putArray("samples");
        for (Sample sample : samples) {
            ObjectNode row = rows.addObject();
            row.put("ttftMs", sample.ttftMillis());
            row.put("totalMs", sample.totalMillis());
            row.put("promptTokens", sample.promptTokens());
            row.put("pod", sample.pod());
            sample.error().ifPresent(e -> row.put("error", e));
        }
        if (opts.containsKey("out")) {
            JSON.writeValue(Path.of(opts.get("out")).toFile(), out);
        }
        if (errors > 0) {
            System.err.println(errors + " of " + requests + " requests failed; see " + opts.getOrDefault("out", "the JSON"));
            System.exit(1);
        }
    }

    /** Words of a few random characters: the simulator's tokenizer makes each (with its space) one token. */
    private static String prompt(SplittableRandom random, int words) {
        StringBuilder text = new StringBuilder(words * 6);
        for (int i = 0; i < words; i++) {
            text.append(i == 0 ? "" : " ").append('w').append(Long.toString(random.nextLong(1L << 24), 36));
        }
        return text.toString();
    }

    private record Sample(double ttftMillis, double totalMillis, int promptTokens, String pod, Optional<String> error) {
    }

    private static Sample request(HttpClient http, String gateway, String prompt, int maxTokens) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", MODEL);
        body.put("prompt", prompt);
        body.put("max_tokens", maxTokens);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway + "/v1/completions"))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
        long start = System.nanoTime();
        HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
        String pod = response.headers().firstValue("x-inference-pod").orElse("");
        if (response.statusCode() != 200) {
            String text = String.join("\n", response.body().toList());
            return new Sample(Double.NaN, Double.NaN, 0, pod,
                    Optional.of("HTTP " + response.statusCode() + ": " + text));
        }
        long firstToken = 0;
        int promptTokens = 0;
        String error = null;
        try (Stream<String> lines = response.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                    continue;
                }
                JsonNode event = JSON.readTree(line.substring(6));
                if (event.has("error")) {
                    error = event.get("error").toString();
                }
                JsonNode choices = event.path("choices");
                if (firstToken == 0 && choices.size() > 0 && !choices.get(0).path("text").asText().isEmpty()) {
                    firstToken = System.nanoTime();
                }
                if (event.hasNonNull("usage")) {
                    promptTokens = event.get("usage").path("prompt_tokens").asInt();
                }
            }
        }
        long end = System.nanoTime();
        if (error == null && firstToken == 0) {
            error = "no token in the stream";
        }
        return new Sample((firstToken - start) / 1e6, (end - start) / 1e6, promptTokens, pod,
                Optional.ofNullable(error));
    }

    /** vllm:nixl_xfer_time_seconds sum and count of a decode simulator. */
    private static double[] pullTotals(HttpClient http, String url) {
        try {
            String text = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            double[] totals = new double[2];
            for (String line : text.split("\n")) {
                if (line.startsWith("vllm:nixl_xfer_time_seconds_sum")) {
                    totals[0] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                } else if (line.startsWith("vllm:nixl_xfer_time_seconds_count")) {
                    totals[1] += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return totals;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + url + ": " + e, e);
        }
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    private static String required(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }
}
