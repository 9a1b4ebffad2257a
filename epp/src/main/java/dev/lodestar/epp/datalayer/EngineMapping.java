package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An {@link EngineConfig} with its specs parsed, and the parser that keeps only the series they name.
 * Reads one scrape into {@link EndpointMetrics} the way upstream's core metrics extractor does.
 */
public final class EngineMapping {
    static final String RUNNING_ADAPTERS_LABEL = "running_lora_adapters";
    static final String WAITING_ADAPTERS_LABEL = "waiting_lora_adapters";
    static final String MAX_ADAPTERS_LABEL = "max_lora";

    private final String engine;
    private final Optional<MetricSpec> queued;
    private final Optional<MetricSpec> running;
    private final Optional<MetricSpec> kvUsage;
    private final Optional<MetricSpec> lora;
    private final Optional<MetricSpec> cacheInfo;
    private final String blockSizeLabel;
    private final String numBlocksLabel;
    private final Optional<MetricSpec> cacheBlockSize;
    private final Optional<MetricSpec> cacheNumBlocks;
    private final PrometheusTextParser parser;

    private EngineMapping(EngineConfig config) {
        engine = config.name();
        queued = spec(config, "queuedRequestsSpec", config.queuedRequestsSpec());
        running = spec(config, "runningRequestsSpec", config.runningRequestsSpec());
        kvUsage = spec(config, "kvUsageSpec", config.kvUsageSpec());
        lora = spec(config, "loraSpec", config.loraSpec());
        cacheInfo = spec(config, "cacheInfoSpec", config.cacheInfoSpec());
        blockSizeLabel = config.cacheBlockSizeLabelName().isEmpty()
                ? EngineConfig.DEFAULT_BLOCK_SIZE_LABEL : config.cacheBlockSizeLabelName();
        numBlocksLabel = config.cacheNumBlocksLabelName().isEmpty()
                ? EngineConfig.DEFAULT_NUM_BLOCKS_LABEL : config.cacheNumBlocksLabelName();
        cacheBlockSize = spec(config, "cacheBlockSizeSpec", config.cacheBlockSizeSpec());
        cacheNumBlocks = spec(config, "cacheNumBlocksSpec", config.cacheNumBlocksSpec());
        parser = PrometheusTextParser.selecting(sampleNames());
    }

    /**
     * @throws IllegalArgumentException naming the engine and the field whose spec does not parse
     */
    public static EngineMapping compile(EngineConfig config) {
        return new EngineMapping(config);
    }

    private static Optional<MetricSpec> spec(EngineConfig config, String field, String text) {
        try {
            return MetricSpec.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("engine '" + config.name() + "': " + field + ": " + e.getMessage(), e);
        }
    }

    public String engine() {
        return engine;
    }

    /** Series names this engine's specs read; the parser keeps only those. */
    public Set<String> sampleNames() {
        Set<String> names = new LinkedHashSet<>();
        for (Optional<MetricSpec> spec : List.of(queued, running, kvUsage, lora, cacheInfo, cacheBlockSize,
                cacheNumBlocks)) {
            spec.ifPresent(s -> names.add(s.name()));
        }
        return names;
    }

    public PrometheusTextParser parser() {
        return parser;
    }

    /**
     * Reads a scrape. Each enabled field found replaces the previous value; a field not found keeps it and
     * adds an error. When nothing was found the result holds no metrics, so the endpoint's metrics age.
     */
    public Extraction extract(MetricFamilies families, EndpointMetrics previous, Instant scrapeTime) {
        List<String> errors = new ArrayList<>(0);
        boolean updated = false;
        int waitingQueueSize = previous.waitingQueueSize();
        int runningRequestsSize = previous.runningRequestsSize();
        double kvCacheUsage = previous.kvCacheUsagePercent();
        Map<String, Integer> activeModels = previous.activeModels();
        Map<String, Integer> waitingModels = previous.waitingModels();
        int maxActiveModels = previous.maxActiveModels();
        int blockSize = previous.cacheBlockSize();
        int numBlocks = previous.cacheNumBlocks();

        Optional<Sample> sample = gauge(families, queued, errors);
        if (sample.isPresent()) {
            waitingQueueSize = (int) sample.get().value();
            updated = true;
        }
        sample = gauge(families, running, errors);
        if (sample.isPresent()) {
            runningRequestsSize = (int) sample.get().value();
            updated = true;
        }
        sample = gauge(families, kvUsage, errors);
        if (sample.isPresent()) {
            kvCacheUsage = sample.get().value();
            updated = true;
        }
        sample = latestLora(families, errors);
        if (sample.isPresent()) {
            Labels labels = sample.get().labels();
            activeModels = adapters(labels.valueOrEmpty(RUNNING_ADAPTERS_LABEL));
            waitingModels = adapters(labels.valueOrEmpty(WAITING_ADAPTERS_LABEL));
            maxActiveModels = intLabel(labels, MAX_ADAPTERS_LABEL, maxActiveModels, errors);
            updated = true;
        }
        sample = gauge(families, cacheInfo, errors);
        if (sample.isPresent()) {
            // As upstream: a missing block-size label zeroes the size, a missing count label keeps the count.
            blockSize = intLabel(sample.get().labels(), blockSizeLabel, 0, errors);
            numBlocks = intLabel(sample.get().labels(), numBlocksLabel, numBlocks, errors);
            updated = true;
        }
        sample = gauge(families, cacheBlockSize, errors);
        if (sample.isPresent()) {
            blockSize = (int) sample.get().value();
            updated = true;
        }
        sample = gauge(families, cacheNumBlocks, errors);
        if (sample.isPresent()) {
            numBlocks = (int) sample.get().value();
            updated = true;
        }
        if (!updated) {
            return new Extraction(Optional.empty(), errors);
        }
        long capacity = (long) blockSize * numBlocks;
        EndpointMetrics metrics = EndpointMetrics.builder()
                .waitingQueueSize(waitingQueueSize)
                .runningRequestsSize(runningRequestsSize)
                .kvCacheUsagePercent(kvCacheUsage)
                .activeModels(activeModels)
                .waitingModels(waitingModels)
                .maxActiveModels(maxActiveModels)
                .cacheBlockSize(blockSize)
                .cacheNumBlocks(numBlocks)
                .kvCacheMaxTokenCapacity((int) Math.max(0, Math.min(Integer.MAX_VALUE, capacity)))
                .updateTime(scrapeTime)
                .build();
        return new Extraction(Optional.of(metrics), errors);
    }

    /**
     * The matching series with the newest timestamp; series without one count as time 0, so with no
     * timestamps (the usual case) the first matching series wins.
     */
    private static Optional<Sample> gauge(MetricFamilies families, Optional<MetricSpec> spec, List<String> errors) {
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        MetricSpec selector = spec.get();
        List<Sample> samples = families.samples(selector.name());
        if (samples.isEmpty()) {
            errors.add("metric family \"" + selector.name() + "\" not found");
            return Optional.empty();
        }
        Sample newest = null;
        long newestTime = -1;
        for (Sample sample : samples) {
            if (selector.matches(sample.labels())) {
                long time = sample.timestampMillis().orElse(0);
                if (time > newestTime) {
                    newestTime = time;
                    newest = sample;
                }
            }
        }
        if (newest == null) {
            errors.add("no series of " + selector + " found");
        }
        return Optional.ofNullable(newest);
    }

    /**
     * vLLM starts a new {@code lora_requests_info} series whenever the adapter sets change and sets its
     * value to the time it did, so the series with the largest value is the current one.
     */
    private Optional<Sample> latestLora(MetricFamilies families, List<String> errors) {
        if (lora.isEmpty()) {
            return Optional.empty();
        }
        MetricSpec selector = lora.get();
        List<Sample> samples = families.samples(selector.name());
        if (samples.isEmpty()) {
            errors.add("metric family \"" + selector.name() + "\" not found");
            return Optional.empty();
        }
        Sample latest = null;
        double latestValue = -1;
        for (Sample sample : samples) {
            if (selector.matches(sample.labels()) && sample.value() > latestValue) {
                latestValue = sample.value();
                latest = sample;
            }
        }
        if (latest == null) {
            errors.add("no series of " + selector + " found");
        }
        return Optional.ofNullable(latest);
    }

    private static Map<String, Integer> adapters(String commaSeparated) {
        if (commaSeparated.isBlank()) {
            return Map.of();
        }
        Map<String, Integer> adapters = new HashMap<>();
        for (String name : commaSeparated.split(",")) {
            String trimmed = name.trim();
            if (!trimmed.isEmpty()) {
                adapters.put(trimmed, 0);
            }
        }
        return adapters;
    }

    private static int intLabel(Labels labels, String name, int fallback, List<String> errors) {
        String value = labels.valueOrEmpty(name);
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            errors.add("label " + name + "=\"" + value + "\" is not an integer");
            return fallback;
        }
    }

    @Override
    public String toString() {
        return "EngineMapping[" + engine + ": queue=" + queued.map(MetricSpec::toString).orElse("-")
                + ", running=" + running.map(MetricSpec::toString).orElse("-")
                + ", kv=" + kvUsage.map(MetricSpec::toString).orElse("-")
                + ", lora=" + lora.map(MetricSpec::toString).orElse("-")
                + ", cacheInfo=" + cacheInfo.map(s -> s + "[" + blockSizeLabel + "," + numBlocksLabel + "]").orElse("-")
                + ", blockSize=" + cacheBlockSize.map(MetricSpec::toString).orElse("-")
                + ", numBlocks=" + cacheNumBlocks.map(MetricSpec::toString).orElse("-") + "]";
    }
}
