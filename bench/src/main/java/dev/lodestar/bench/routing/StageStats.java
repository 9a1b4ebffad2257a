package dev.lodestar.bench.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.DataFormatException;

/**
 * What one rate stage of one (routing configuration, workload) cell measured. Latencies are recorded in
 * microseconds for the requests <em>sent</em> during the stage (however late they end); throughput counts
 * the output tokens of requests that <em>completed</em> during the stage's window, so an overloaded
 * configuration shows as a throughput below the offered load.
 */
public final class StageStats {
    static final int KEPT_ERRORS = 10;

    final String config;
    final String workload;
    final int stage;
    final double rate;
    double seconds;
    final Histogram ttft;
    final Histogram itl;
    final Histogram e2e;
    long sent;
    long succeeded;
    long failed;
    long outputTokens;
    long promptTokens;
    long cachedTokens;
    long completedInWindow;
    long tokensCompletedInWindow;
    double fleetPrefixQueries;
    double fleetPrefixHits;
    /** The machine's 1-minute load average when the stage's window ended (how busy the shared machine was). */
    double loadAverage = Double.NaN;
    /** Requests waiting in the servers' queues (fleet total) when the stage's window ended. */
    double waitingAtEnd = Double.NaN;
    final List<String> errors = new ArrayList<>();

    StageStats(String config, String workload, int stage, double rate, double seconds) {
        this(config, workload, stage, rate, seconds, newHistogram(), newHistogram(), newHistogram());
    }

    private StageStats(String config, String workload, int stage, double rate, double seconds, Histogram ttft,
                       Histogram itl, Histogram e2e) {
        this.config = config;
        this.workload = workload;
        this.stage = stage;
        this.rate = rate;
        this.seconds = seconds;
        this.ttft = ttft;
        this.itl = itl;
        this.e2e = e2e;
    }

    static Histogram newHistogram() {
        return new Histogram(3); // microseconds, auto-resizing
    }

    synchronized void recordSuccess(long ttftMicros, long[] gapsMicros, int gaps, long e2eMicros, int tokens,
                                    int prompt, int cached) {
        succeeded++;
        ttft.recordValue(Math.max(0, ttftMicros));
        for (int i = 0; i < gaps; i++) {
            itl.recordValue(Math.max(0, gapsMicros[i]));
        }
        e2e.recordValue(Math.max(0, e2eMicros));
        outputTokens += tokens;
        promptTokens += prompt;
        cachedTokens += cached;
    }

    synchronized void recordFailure(String message) {
        failed++;
        if (errors.size() < KEPT_ERRORS) {
            errors.add(message);
        }
    }

    synchronized void recordSent() {
        sent++;
    }

    synchronized void recordCompletedInWindow(int tokens) {
        completedInWindow++;
        tokensCompletedInWindow += tokens;
    }

    public String config() {
        return config;
    }

    public String workload() {
        return workload;
    }

    public int stage() {
        return stage;
    }

    public double rate() {
        return rate;
    }

    public double successRate() {
        long ended = succeeded + failed;
        return ended == 0 ? Double.NaN : succeeded / (double) ended;
    }

    public double ttftMs(double percentile) {
        return percentileMs(ttft, percentile);
    }

    public double itlMs(double percentile) {
        return percentileMs(itl, percentile);
    }

    public double e2eMs(double percentile) {
        return percentileMs(e2e, percentile);
    }

    static double percentileMs(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    /** Output tokens per second of the requests that completed inside the stage's window. */
    public double outputTokensPerSecond() {
        return seconds <= 0 ? Double.NaN : tokensCompletedInWindow / seconds;
    }

    /** Fleet prefix-cache hit rate over the stage's window (simulators' token counters), or NaN. */
    public double fleetHitRate() {
        return fleetPrefixQueries <= 0 ? Double.NaN : fleetPrefixHits / fleetPrefixQueries;
    }

    /** Cached share of the prompt tokens of this stage's successful requests (their usage). */
    public double requestCachedShare() {
        return promptTokens == 0 ? Double.NaN : cachedTokens / (double) promptTokens;
    }

    /** Merges stages (same cell) into one, for whole-cell rows and CDFs. */
    static StageStats merge(String config, String workload, List<StageStats> stages) {
        StageStats all = new StageStats(config, workload, -1, Double.NaN, 0);
        for (StageStats s : stages) {
            all.seconds += s.seconds;
            all.ttft.add(s.ttft);
            all.itl.add(s.itl);
            all.e2e.add(s.e2e);
            all.sent += s.sent;
            all.succeeded += s.succeeded;
            all.failed += s.failed;
            all.outputTokens += s.outputTokens;
            all.promptTokens += s.promptTokens;
            all.cachedTokens += s.cachedTokens;
            all.completedInWindow += s.completedInWindow;
            all.tokensCompletedInWindow += s.tokensCompletedInWindow;
            all.fleetPrefixQueries += s.fleetPrefixQueries;
            all.fleetPrefixHits += s.fleetPrefixHits;
            all.loadAverage = Double.isNaN(all.loadAverage) ? s.loadAverage : Math.max(all.loadAverage, s.loadAverage);
            for (String error : s.errors) {
                if (all.errors.size() < KEPT_ERRORS) {
                    all.errors.add(error);
                }
            }
        }
        return all;
    }

    synchronized ObjectNode toJson(ObjectMapper json) {
        ObjectNode node = json.createObjectNode();
        node.put("config", config).put("workload", workload).put("stage", stage).put("rate", rate)
                .put("seconds", seconds).put("sent", sent).put("succeeded", succeeded).put("failed", failed)
                .put("successRate", successRate()).put("outputTokens", outputTokens)
                .put("promptTokens", promptTokens).put("cachedTokens", cachedTokens)
                .put("completedInWindow", completedInWindow).put("tokensCompletedInWindow", tokensCompletedInWindow)
                .put("outputTokensPerSecond", outputTokensPerSecond())
                .put("fleetPrefixQueries", fleetPrefixQueries).put("fleetPrefixHits", fleetPrefixHits)
                .put("fleetPrefixHitRate", fleetHitRate()).put("requestCachedShare", requestCachedShare())
                .put("loadAverage1m", loadAverage).put("fleetWaitingAtEnd", waitingAtEnd);
        for (int p : new int[] {50, 90, 99}) {
            node.put("ttftP" + p + "Ms", ttftMs(p));
            node.put("itlP" + p + "Ms", itlMs(p));
            node.put("e2eP" + p + "Ms", e2eMs(p));
        }
        ObjectNode histograms = node.putObject("histogramsMicros");
        histograms.put("ttft", encode(ttft)).put("itl", encode(itl)).put("e2e", encode(e2e));
        ArrayNode errorList = node.putArray("firstErrors");
        errors.forEach(errorList::add);
        return node;
    }

    static StageStats fromJson(JsonNode node) {
        JsonNode histograms = node.path("histogramsMicros");
        StageStats s = new StageStats(node.path("config").asText(), node.path("workload").asText(),
                node.path("stage").asInt(), node.path("rate").asDouble(), node.path("seconds").asDouble(),
                decode(histograms.path("ttft").asText()), decode(histograms.path("itl").asText()),
                decode(histograms.path("e2e").asText()));
        s.sent = node.path("sent").asLong();
        s.succeeded = node.path("succeeded").asLong();
        s.failed = node.path("failed").asLong();
        s.outputTokens = node.path("outputTokens").asLong();
        s.promptTokens = node.path("promptTokens").asLong();
        s.cachedTokens = node.path("cachedTokens").asLong();
        s.completedInWindow = node.path("completedInWindow").asLong();
        s.tokensCompletedInWindow = node.path("tokensCompletedInWindow").asLong();
        s.fleetPrefixQueries = node.path("fleetPrefixQueries").asDouble();
        s.fleetPrefixHits = node.path("fleetPrefixHits").asDouble();
        s.loadAverage = node.path("loadAverage1m").asDouble(Double.NaN);
        s.waitingAtEnd = node.path("fleetWaitingAtEnd").asDouble(Double.NaN);
        node.path("firstErrors").forEach(e -> s.errors.add(e.asText()));
        return s;
    }

    private static String encode(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoCompressedByteBuffer(buffer);
        byte[] bytes = new byte[length];
        buffer.flip();
        buffer.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static Histogram decode(String base64) {
        if (base64 == null || base64.isEmpty()) {
            return newHistogram();
        }
        try {
            Histogram histogram = Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
            histogram.setAutoResize(true);
            return histogram;
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("bad histogram in results: " + e.getMessage(), e);
        }
    }
}
