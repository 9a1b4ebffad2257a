package dev.lodestar.simulator;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One server's metrics, with vLLM's names, types, labels and histogram buckets, on its own registry.
 *
 * <p>{@code vllm:lora_requests_info} behaves as in vLLM: each combination of running and waiting
 * adapters is a series whose value is the time (unix seconds) it was last current, so a reader takes
 * the series with the largest value. Old series are kept, as vLLM keeps them, up to the 16 most recent.
 */
final class EngineMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
            0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
    private static final double[] ITL_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
            1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
    private static final double[] REQUEST_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
            30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
    private static final int LORA_INFO_SERIES_KEPT = 16;
    private static final double[] XFER_TIME_BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.5,
            0.75, 1.0, 5.0};
    private static final double[] XFER_BYTES_BUCKETS = {1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24, 1 << 26,
            1 << 28, 1 << 30};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final String modelName;
    private final String maxLoras;
    private final CounterDataPoint promptTokens;
    private final CounterDataPoint generationTokens;
    private final CounterDataPoint prefixCacheQueries;
    private final CounterDataPoint prefixCacheHits;
    private final Counter requestSuccess;
    private final DistributionDataPoint timeToFirstToken;
    private final DistributionDataPoint interTokenLatency;
    private final DistributionDataPoint e2eLatency;
    private final DistributionDataPoint queueTime;
    private final Gauge loraInfo;
    // Only with kv-transfer on; vLLM registers its NIXL metrics only with the connector too.
    private final DistributionDataPoint kvTransferTime;
    private final DistributionDataPoint kvTransferBytes;
    private final CounterDataPoint kvTransferFailures;
    private final Map<List<String>, Boolean> loraInfoSeries = new LinkedHashMap<>();
    private double loraInfoUpdatedAt;

    EngineMetrics(SimulatorConfig config) {
        this.modelName = config.servedModelNames().get(0);
        this.maxLoras = Integer.toString(config.maxLoras());
        promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
        generationTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.");
        prefixCacheQueries = counter("vllm:prefix_cache_queries_total",
                "Prefix cache queries, in terms of number of queried tokens.");
        prefixCacheHits = counter("vllm:prefix_cache_hits_total",
                "Prefix cache hits, in terms of number of cached tokens.");
        requestSuccess = Counter.builder().name("vllm:request_success_total")
                .help("Count of successfully processed requests.")
                .labelNames("finished_reason", "model_name").withoutExemplars().register(registry);
        timeToFirstToken = histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                TTFT_BUCKETS);
        interTokenLatency = histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                ITL_BUCKETS);
        e2eLatency = histogram("vllm:e2e_request_latency_seconds",
                "Histogram of e2e request latency in seconds.", REQUEST_BUCKETS);
        queueTime = histogram("vllm:request_queue_time_seconds",
                "Histogram of time spent in WAITING phase for request.", REQUEST_BUCKETS);
        Info.builder().name("vllm:cache_config_info").help("Information of the LLMEngine CacheConfig.")
                .labelNames("block_size", "enable_prefix_caching", "num_gpu_blocks").register(registry)
                .addLabelValues(Integer.toString(config.blockSize()), config.enablePrefixCaching() ? "True" : "False",
                        Integer.toString(config.kvCacheSize()));
        loraInfo = Gauge.builder().name("vllm:lora_requests_info").help("Running stats on lora requests.")
                .labelNames("max_lora", "running_lora_adapters", "waiting_lora_adapters")
                .withoutExemplars().register(registry);
        loraState(Set.of(), Set.of());
        if (config.kvTransfer().isPresent()) {
            kvTransferTime = histogram("vllm:nixl_xfer_time_seconds",
                    "Histogram of transfer duration for NIXL KV Cache transfers.", XFER_TIME_BUCKETS);
            kvTransferBytes = histogram("vllm:nixl_bytes_transferred",
                    "Histogram of bytes transferred per NIXL KV Cache transfers.", XFER_BYTES_BUCKETS);
            kvTransferFailures = counter("vllm:nixl_num_failed_transfers",
                    "Number of failed NIXL KV Cache transfers.");
        } else {
            kvTransferTime = null;
            kvTransferBytes = null;
            kvTransferFailures = null;
        }
    }

    /** A decode's pull from a remote prefill finished (kv-transfer on). */
    void kvPulled(NixlKvTransfer.Pulled pulled) {
        kvTransferTime.observe(seconds(pulled.transferNanos()));
        kvTransferBytes.observe(pulled.bytes());
    }

    /** A decode's pull from a remote prefill failed (kv-transfer on). */
    void kvPullFailed() {
        kvTransferFailures.inc();
    }

    /** Registers the gauges that read the engine's state at scrape time. */
    void bind(Engine engine) {
        GaugeWithCallback.builder().name("vllm:num_requests_running")
                .help("Number of requests in model execution batches.").labelNames("model_name")
                .callback(cb -> cb.call(engine.runningRequests(), modelName)).register(registry);
        GaugeWithCallback.builder().name("vllm:num_requests_waiting")
                .help("Number of requests waiting to be processed.").labelNames("model_name")
                .callback(cb -> cb.call(engine.waitingRequests(), modelName)).register(registry);
        GaugeWithCallback.builder().name("vllm:kv_cache_usage_perc")
                .help("KV-cache usage. 1 means 100 percent usage.").labelNames("model_name")
                .callback(cb -> cb.call(engine.state().kvCacheUsage(), modelName)).register(registry);
    }

    void admitted(Engine.Sequence sequence, long queueNanos) {
        queueTime.observe(seconds(queueNanos));
        prefixCacheQueries.inc(sequence.spec().promptTokens().length);
        prefixCacheHits.inc(sequence.cachedTokens());
    }

    void firstToken(Engine.Sequence sequence, long timeToFirstTokenNanos) {
        timeToFirstToken.observe(seconds(timeToFirstTokenNanos));
        promptTokens.inc(sequence.spec().promptTokens().length);
        generationTokens.inc();
    }

    void token(long interTokenNanos) {
        interTokenLatency.observe(seconds(interTokenNanos));
        generationTokens.inc();
    }

    void finished(Engine.Sequence sequence, long e2eNanos, FinishReason reason) {
        e2eLatency.observe(seconds(e2eNanos));
        requestSuccess.labelValues(reason.wireName(), modelName).inc();
    }

    /** Records the current running and waiting adapter sets (called by the engine when they change). */
    void loraState(Set<String> running, Set<String> waiting) {
        List<String> labels = List.of(maxLoras, String.join(",", running), String.join(",", waiting));
        loraInfoSeries.remove(labels);
        loraInfoSeries.put(labels, Boolean.TRUE);
        // Strictly increasing, so the current series is always the one with the largest value.
        Instant now = Instant.now();
        loraInfoUpdatedAt = Math.max(now.getEpochSecond() + now.getNano() / 1e9, loraInfoUpdatedAt + 1e-6);
        loraInfo.labelValues(labels.toArray(String[]::new)).set(loraInfoUpdatedAt);
        if (loraInfoSeries.size() > LORA_INFO_SERIES_KEPT) {
            List<String> eldest = loraInfoSeries.keySet().iterator().next();
            loraInfoSeries.remove(eldest);
            loraInfo.remove(eldest.toArray(String[]::new));
        }
    }

    void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }

    PrometheusRegistry registry() {
        return registry;
    }

    private CounterDataPoint counter(String name, String help) {
        return Counter.builder().name(name).help(help).labelNames("model_name").withoutExemplars()
                .register(registry).labelValues(modelName);
    }

    private DistributionDataPoint histogram(String name, String help, double[] buckets) {
        return Histogram.builder().name(name).help(help).labelNames("model_name").classicOnly()
                .classicUpperBounds(buckets).withoutExemplars().register(registry).labelValues(modelName);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
