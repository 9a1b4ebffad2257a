package dev.lodestar.epp.metrics;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The EPP's own Prometheus metrics, with GIE v1.5.0's names, types, labels and classic bucket
 * boundaries ({@code pkg/epp/metrics/metrics.go}), in a registry of their own. Every metric is ALPHA,
 * as upstream. The latency-predictor-only metrics (TTFT, TPOT, predictions, SLO violations) are left out.
 *
 * <p>The pool gauges are computed from {@link PoolMembers} when scraped: {@code ready_pods} counts the
 * endpoints whose metrics are fresh (scraped within the staleness threshold) and the averages are over
 * those endpoints; with none fresh the averages keep their last value, as upstream's 5 s refresher does.
 */
public final class EppMetrics implements PluginTimer {
    /** The {@code status} label of a scheduling attempt that found an endpoint. */
    public static final String SCHEDULER_SUCCESS = "success";
    /** The {@code status} label of a scheduling attempt that failed. */
    public static final String SCHEDULER_FAILURE = "failure";

    // Bucket boundaries exactly as upstream, including the 32778 (not 32768) in the size and token buckets.
    static final double[] GENERAL_LATENCY_BUCKETS = {
            0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6,
            8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200,
            1800, 2700, 3600};
    static final double[] NTPOT_BUCKETS = {
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0};
    static final double[] REQUEST_SIZE_BUCKETS = {
            64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
            131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608,
            16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824};
    static final double[] RESPONSE_SIZE_BUCKETS = {
            1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536};
    static final double[] PROMPT_TOKEN_BUCKETS = {
            1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144,
            524288, 1048576};
    static final double[] OUTPUT_TOKEN_BUCKETS = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    static final double[] FAST_LATENCY_BUCKETS = {
            0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
    static final double[] HIT_RATIO_BUCKETS = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    static final double[] HIT_BYTES_BUCKETS = {
            0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
    static final double[] FLOW_CONTROL_QUEUE_BUCKETS = {
            0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0};

    private static final String MODEL = "model_name";
    private static final String TARGET_MODEL = "target_model_name";

    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final Counter requestTotal;
    private final Counter requestErrorTotal;
    private final Histogram requestDuration;
    private final Histogram normalizedTimePerOutputToken;
    private final Histogram requestSizes;
    private final Histogram responseSizes;
    private final Histogram inputTokens;
    private final Histogram outputTokens;
    private final Histogram promptCachedTokens;
    private final Gauge runningRequests;

    private final Histogram schedulerE2eDuration;
    private final Counter schedulerAttempts;
    private final Histogram pluginDuration;
    private volatile LongSupplier prefixIndexerEntries = () -> 0;
    private final Histogram prefixIndexerHitRatio;
    private final Histogram prefixIndexerHitBytes;
    private final Counter modelRewriteDecisions;

    private final Histogram flowControlRequestQueueDuration;
    private final Histogram flowControlDispatchCycleDuration;
    private final Histogram flowControlRequestEnqueueDuration;
    private final Gauge flowControlQueueSize;
    private final Gauge flowControlQueueBytes;
    private final Counter disaggDecisions;
    private final Counter disaggDecisionsDeprecated;
    private final Counter pdDecisions;
    private final Counter pdDecisionsDeprecated;
    private final Gauge flowControlPoolSaturation;

    private EppMetrics(Builder builder) {
        requestTotal = counter("inference_objective_request_total",
                "Requests per model and target model, with the objective's priority.",
                MODEL, TARGET_MODEL, "priority");
        requestErrorTotal = counter("inference_objective_request_error_total",
                "Failed requests per model and target model, by error code.",
                MODEL, TARGET_MODEL, "error_code");
        requestDuration = histogram("inference_objective_request_duration_seconds",
                "Time from request received to response complete, in seconds.",
                GENERAL_LATENCY_BUCKETS, MODEL, TARGET_MODEL);
        normalizedTimePerOutputToken = histogram("inference_objective_normalized_time_per_output_token_seconds",
                "Request duration divided by the number of output tokens, in seconds.",
                NTPOT_BUCKETS, MODEL, TARGET_MODEL);
        requestSizes = histogram("inference_objective_request_sizes",
                "Request body sizes in bytes.", REQUEST_SIZE_BUCKETS, MODEL, TARGET_MODEL);
        responseSizes = histogram("inference_objective_response_sizes",
                "Response body sizes in bytes.", RESPONSE_SIZE_BUCKETS, MODEL, TARGET_MODEL);
        inputTokens = histogram("inference_objective_input_tokens",
                "Prompt tokens per request, from the response's usage.", PROMPT_TOKEN_BUCKETS, MODEL, TARGET_MODEL);
        outputTokens = histogram("inference_objective_output_tokens",
                "Completion tokens per request, from the response's usage.", OUTPUT_TOKEN_BUCKETS,
                MODEL, TARGET_MODEL);
        promptCachedTokens = histogram("inference_objective_prompt_cached_tokens",
                "Prompt tokens served from the model server's cache, from the response's usage.",
                PROMPT_TOKEN_BUCKETS, MODEL, TARGET_MODEL);
        runningRequests = Gauge.builder().name("inference_objective_running_requests")
                .help(alpha("Requests in flight per model.")).labelNames(MODEL)
                .withoutExemplars().register(registry);

        schedulerE2eDuration = histogram("inference_extension_scheduler_e2e_duration_seconds",
                "Time to schedule one request, all profiles included, in seconds.", FAST_LATENCY_BUCKETS);
        schedulerAttempts = counter("inference_extension_scheduler_attempts_total",
                "Scheduling attempts by outcome, with the endpoint chosen on success.",
                "status", TARGET_MODEL, "pod_name", "namespace", "port");
        pluginDuration = histogram("inference_extension_plugin_duration_seconds",
                "Time spent in one plugin call, per extension point, plugin type and plugin name, in seconds.",
                FAST_LATENCY_BUCKETS, "extension_point", "plugin_type", "plugin_name");
        GaugeWithCallback.builder().name("inference_extension_prefix_indexer_size")
                .help(alpha("Entries in the prefix-cache index."))
                .callback(callback -> callback.call(prefixIndexerEntries.getAsLong())).register(registry);
        prefixIndexerHitRatio = histogram("inference_extension_prefix_indexer_hit_ratio",
                "Matched prefix length divided by the prompt's prefix length, per lookup.", HIT_RATIO_BUCKETS);
        prefixIndexerHitBytes = histogram("inference_extension_prefix_indexer_hit_bytes",
                "Matched prefix length in bytes, per lookup.", HIT_BYTES_BUCKETS);
        // llm-d's disaggregation counters, each with its deprecated llm_d_inference_scheduler_ twin (fewer labels).
        disaggDecisions = counter("llm_d_epp_disagg_decision_total",
                "Total number of disaggregation routing decisions made", "plugin_name", "plugin_type", MODEL,
                "decision_type");
        disaggDecisionsDeprecated = counter("llm_d_inference_scheduler_disagg_decision_total",
                "[Deprecated: Use llm_d_epp_disagg_decision_total] Total number of disaggregation routing decisions"
                        + " made", MODEL, "decision_type");
        pdDecisions = counter("llm_d_epp_pd_decision_total",
                "Total number of P/D disaggregation decisions made", "plugin_name", "plugin_type", MODEL,
                "decision_type");
        pdDecisionsDeprecated = counter("llm_d_inference_scheduler_pd_decision_total",
                "[Deprecated: Use llm_d_epp_pd_decision_total] Total number of P/D disaggregation decisions made",
                MODEL, "decision_type");
        modelRewriteDecisions = counter("inference_extension_model_rewrite_decisions_total",
                "Model rewrites applied, per InferenceModelRewrite, incoming model and chosen target model.",
                "model_rewrite_name", MODEL, "target_model");

        flowControlRequestQueueDuration = histogram("inference_extension_flow_control_request_queue_duration_seconds",
                "Time a request spent in flow control, from enqueue to its outcome, in seconds.",
                FLOW_CONTROL_QUEUE_BUCKETS, "fairness_id", "priority", "outcome", "inference_pool", MODEL,
                TARGET_MODEL);
        flowControlDispatchCycleDuration = histogram("inference_extension_flow_control_dispatch_cycle_duration_seconds",
                "Time of one flow-control dispatch cycle, in seconds.", FAST_LATENCY_BUCKETS);
        flowControlRequestEnqueueDuration = histogram(
                "inference_extension_flow_control_request_enqueue_duration_seconds",
                "Time to enqueue a request into flow control, in seconds.", FAST_LATENCY_BUCKETS,
                "fairness_id", "priority", "outcome");
        flowControlQueueSize = Gauge.builder().name("inference_extension_flow_control_queue_size")
                .help(alpha("Requests held in flow-control queues."))
                .labelNames("fairness_id", "priority", "inference_pool", MODEL, TARGET_MODEL)
                .withoutExemplars().register(registry);
        flowControlQueueBytes = Gauge.builder().name("inference_extension_flow_control_queue_bytes")
                .help(alpha("Bytes of the requests held in flow-control queues."))
                .labelNames("fairness_id", "priority", "inference_pool", MODEL, TARGET_MODEL)
                .withoutExemplars().register(registry);
        flowControlPoolSaturation = Gauge.builder().name("inference_extension_flow_control_pool_saturation")
                .help(alpha("Pool saturation as flow control sees it, 0 (idle) to 1 (saturated)."))
                .labelNames("inference_pool").withoutExemplars().register(registry);

        Info.builder().name("inference_extension_info")
                .help(alpha("The build of this endpoint picker."))
                .labelNames("commit", "build_ref").register(registry)
                .setLabelValues(builder.commit, builder.buildRef);

        builder.poolName.ifPresent(pool ->
                new PoolGauges(pool, builder.poolMembers, builder.metricsStaleness, builder.clock).register(registry));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The registry holding every metric of this instance (scrape it for {@code /metrics}). */
    public PrometheusRegistry registry() {
        return registry;
    }

    // ---- request lifecycle ----

    /** A request's body was read: counts it under its objective's priority. */
    public void requestReceived(String modelName, String targetModelName, int priority) {
        requestTotal.labelValues(modelName, targetModelName, Integer.toString(priority)).inc();
    }

    /** A request failed; record once per request. */
    public void requestError(String modelName, String targetModelName, ErrorCode code) {
        requestErrorTotal.labelValues(modelName, targetModelName, code.wireName()).inc();
    }

    public void requestSize(String modelName, String targetModelName, long bytes) {
        requestSizes.labelValues(modelName, targetModelName).observe(bytes);
    }

    /**
     * Records the time from request received to response complete.
     *
     * @return false (nothing recorded) when {@code elapsed} is not positive
     */
    public boolean requestDuration(String modelName, String targetModelName, Duration elapsed) {
        if (elapsed.isNegative() || elapsed.isZero()) {
            return false;
        }
        requestDuration.labelValues(modelName, targetModelName).observe(seconds(elapsed));
        return true;
    }

    /**
     * Records the request duration divided by the output tokens.
     *
     * @return false (nothing recorded) when there are no output tokens or {@code elapsed} is not positive
     */
    public boolean normalizedTimePerOutputToken(String modelName, String targetModelName, Duration elapsed,
                                                int outputTokens) {
        if (outputTokens <= 0 || elapsed.isNegative() || elapsed.isZero()) {
            return false;
        }
        normalizedTimePerOutputToken.labelValues(modelName, targetModelName)
                .observe(seconds(elapsed) / outputTokens);
        return true;
    }

    public void responseSize(String modelName, String targetModelName, long bytes) {
        responseSizes.labelValues(modelName, targetModelName).observe(bytes);
    }

    /** Records the prompt tokens of a response's usage; 0 or less is not recorded. */
    public void inputTokens(String modelName, String targetModelName, int tokens) {
        if (tokens > 0) {
            inputTokens.labelValues(modelName, targetModelName).observe(tokens);
        }
    }

    /** Records the completion tokens of a response's usage; 0 or less is not recorded. */
    public void outputTokens(String modelName, String targetModelName, int tokens) {
        if (tokens > 0) {
            outputTokens.labelValues(modelName, targetModelName).observe(tokens);
        }
    }

    /** Records the cached prompt tokens of a usage that reports them, 0 included. */
    public void cachedTokens(String modelName, String targetModelName, int tokens) {
        promptCachedTokens.labelValues(modelName, targetModelName).observe(tokens);
    }

    /**
     * The usage a response reported: prompt, completion and cached tokens. {@link Usage} cannot tell an
     * absent {@code cached_tokens} from 0, so only a positive count is recorded (upstream records an
     * explicit 0 too); without this, every server that omits the field would add a 0 per request.
     */
    public void usage(String modelName, String targetModelName, Usage usage) {
        inputTokens(modelName, targetModelName, usage.promptTokens());
        outputTokens(modelName, targetModelName, usage.completionTokens());
        if (usage.cachedTokens() > 0) {
            cachedTokens(modelName, targetModelName, usage.cachedTokens());
        }
    }

    /** A request started running (its body went to the model server); an empty model name is ignored. */
    public void runningRequestStarted(String modelName) {
        if (!modelName.isEmpty()) {
            runningRequests.labelValues(modelName).inc();
        }
    }

    /** A running request's stream ended; an empty model name is ignored. */
    public void runningRequestEnded(String modelName) {
        if (!modelName.isEmpty()) {
            runningRequests.labelValues(modelName).dec();
        }
    }

    // ---- scheduling ----

    /** Time of one {@code Scheduler.schedule} call, all profiles included. */
    public void schedulerDuration(long nanos) {
        schedulerE2eDuration.observe(nanos / 1e9);
    }

    /**
     * A scheduling attempt succeeded: labelled with the primary profile's first endpoint (the one the
     * request goes to), or with empty endpoint labels when that profile chose none.
     */
    public void schedulerAttemptSucceeded(String targetModelName, SchedulingResult result) {
        ProfileRunResult primary = result.primary();
        if (primary != null && !primary.targetEndpoints().isEmpty()) {
            EndpointMetadata endpoint = primary.targetEndpoints().getFirst().metadata();
            schedulerAttemptSucceeded(targetModelName, endpoint.podName(), endpoint.key().namespace(),
                    endpoint.port());
            return;
        }
        schedulerAttemptSucceeded(targetModelName, "", "", 0);
    }

    /** A scheduling attempt succeeded onto {@code podName}; a port of 0 or less is an empty label. */
    public void schedulerAttemptSucceeded(String targetModelName, String podName, String namespace, int port) {
        schedulerAttempts.labelValues(SCHEDULER_SUCCESS, targetModelName, podName, namespace,
                port > 0 ? Integer.toString(port) : "").inc();
    }

    /** A scheduling attempt failed (no endpoint); the endpoint labels are empty. */
    public void schedulerAttemptFailed(String targetModelName) {
        schedulerAttempts.labelValues(SCHEDULER_FAILURE, targetModelName, "", "", "").inc();
    }

    /** {@inheritDoc} Feeds {@code inference_extension_plugin_duration_seconds}. */
    @Override
    public void record(String extensionPoint, TypedName plugin, long nanos) {
        pluginDuration.labelValues(extensionPoint, plugin.type(), plugin.name()).observe(nanos / 1e9);
    }

    // ---- prefix cache ----

    /** Where the prefix-cache index's entry count is read when the metrics are scraped. */
    public void prefixIndexerSize(LongSupplier entries) {
        prefixIndexerEntries = Objects.requireNonNull(entries, "entries");
    }

    /**
     * One prefix-cache lookup: the matched length always, the hit ratio only when {@code totalBytes} is
     * positive.
     */
    public void prefixMatch(long matchedBytes, long totalBytes) {
        prefixIndexerHitBytes.observe(matchedBytes);
        if (totalBytes > 0) {
            prefixIndexerHitRatio.observe((double) matchedBytes / totalBytes);
        }
    }

    // ---- model rewrite ----

    /** An InferenceModelRewrite rule turned {@code modelName} into {@code targetModel}. */
    public void modelRewriteDecision(String modelRewriteName, String modelName, String targetModel) {
        modelRewriteDecisions.labelValues(modelRewriteName, modelName, targetModel).inc();
    }

    // ---- disaggregation ----

    /** A {@code disagg-profile-handler} routed a request through the stages {@code decisionType} names. */
    public void disaggDecision(String pluginName, String pluginType, String modelName, String decisionType) {
        disaggDecisions.labelValues(pluginName, pluginType, modelName, decisionType).inc();
        disaggDecisionsDeprecated.labelValues(modelName, decisionType).inc();
    }

    /** A {@code pd-profile-handler}'s decider decided ({@code decode-only} or {@code prefill-decode}). */
    public void pdDecision(String pluginName, String pluginType, String modelName, String decisionType) {
        pdDecisions.labelValues(pluginName, pluginType, modelName, decisionType).inc();
        pdDecisionsDeprecated.labelValues(modelName, decisionType).inc();
    }

    // ---- flow control ----

    /** Time a request spent in flow control, from enqueue to its final outcome. */
    public void flowControlRequestQueueDuration(String fairnessId, String priority, String outcome,
                                                String inferencePool, String modelName, String targetModelName,
                                                Duration elapsed) {
        flowControlRequestQueueDuration.labelValues(fairnessId, priority, outcome, inferencePool, modelName,
                targetModelName).observe(seconds(elapsed));
    }

    public void flowControlDispatchCycleDuration(Duration elapsed) {
        flowControlDispatchCycleDuration.observe(seconds(elapsed));
    }

    public void flowControlRequestEnqueueDuration(String fairnessId, String priority, String outcome,
                                                  Duration elapsed) {
        flowControlRequestEnqueueDuration.labelValues(fairnessId, priority, outcome).observe(seconds(elapsed));
    }

    /** A request entered a flow-control queue, with its size in bytes. */
    public void flowControlEnqueued(String fairnessId, String priority, String inferencePool, String modelName,
                                    String targetModelName, long bytes) {
        flowControlQueueSize.labelValues(fairnessId, priority, inferencePool, modelName, targetModelName).inc();
        flowControlQueueBytes.labelValues(fairnessId, priority, inferencePool, modelName, targetModelName)
                .inc(bytes);
    }

    /** A request left a flow-control queue (dispatched, rejected or evicted). */
    public void flowControlDequeued(String fairnessId, String priority, String inferencePool, String modelName,
                                    String targetModelName, long bytes) {
        flowControlQueueSize.labelValues(fairnessId, priority, inferencePool, modelName, targetModelName).dec();
        flowControlQueueBytes.labelValues(fairnessId, priority, inferencePool, modelName, targetModelName)
                .dec(bytes);
    }

    public void flowControlPoolSaturation(String inferencePool, double saturation) {
        flowControlPoolSaturation.labelValues(inferencePool).set(saturation);
    }

    // ---- helpers ----

    private Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(alpha(help)).labelNames(labels).withoutExemplars()
                .register(registry);
    }

    private Histogram histogram(String name, String help, double[] buckets, String... labels) {
        return Histogram.builder().name(name).help(alpha(help)).labelNames(labels)
                .classicOnly().classicUpperBounds(buckets).withoutExemplars().register(registry);
    }

    private static String alpha(String help) {
        return "[ALPHA] " + help;
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    /**
     * {@code inference_pool_*}: computed from the pool's members at scrape time. The averages remember
     * their last value for scrapes that find no fresh endpoint.
     */
    private record PoolGauges(String pool, PoolMembers members, Duration staleness, Clock clock,
                              AtomicReference<Averages> lastAverages) {
        PoolGauges(String pool, PoolMembers members, Duration staleness, Clock clock) {
            this(pool, members, staleness, clock, new AtomicReference<>());
        }

        void register(PrometheusRegistry registry) {
            gauge(registry, "inference_pool_average_kv_cache_utilization",
                    "Average KV-cache utilization (0..1) of the pool's endpoints with fresh metrics.",
                    Averages::kvCache);
            gauge(registry, "inference_pool_average_queue_size",
                    "Average waiting-queue length of the pool's endpoints with fresh metrics.",
                    Averages::queueSize);
            gauge(registry, "inference_pool_average_running_requests",
                    "Average running requests of the pool's endpoints with fresh metrics.",
                    Averages::runningRequests);
            GaugeWithCallback.builder().name("inference_pool_ready_pods")
                    .help(alpha("Endpoints of the pool whose metrics are fresh.")).labelNames("name")
                    .callback(callback -> members.current().ifPresent(list ->
                            callback.call(fresh(list).size(), pool)))
                    .register(registry);
            GaugeWithCallback.builder().name("inference_pool_per_pod_queue_size")
                    .help(alpha("Waiting-queue length of each endpoint of the pool."))
                    .labelNames("name", "model_server_pod")
                    .callback(callback -> members.current().ifPresent(list -> {
                        for (PoolMember member : list) {
                            callback.call(member.metrics().waitingQueueSize(), pool, member.key().name());
                        }
                    }))
                    .register(registry);
        }

        private void gauge(PrometheusRegistry registry, String name, String help,
                           ToDoubleFunction<Averages> value) {
            GaugeWithCallback.builder().name(name).help(alpha(help)).labelNames("name")
                    .callback(callback -> averages().ifPresent(averages ->
                            callback.call(value.applyAsDouble(averages), pool)))
                    .register(registry);
        }

        private Optional<Averages> averages() {
            Optional<List<PoolMember>> current = members.current();
            if (current.isEmpty()) {
                return Optional.empty();
            }
            List<PoolMember> fresh = fresh(current.get());
            if (fresh.isEmpty()) {
                return Optional.ofNullable(lastAverages.get());
            }
            double kvCache = 0;
            long queue = 0;
            long running = 0;
            for (PoolMember member : fresh) {
                kvCache += member.metrics().kvCacheUsagePercent();
                queue += member.metrics().waitingQueueSize();
                running += member.metrics().runningRequestsSize();
            }
            int count = fresh.size();
            Averages averages = new Averages(kvCache / count, (double) queue / count, (double) running / count);
            lastAverages.set(averages);
            return Optional.of(averages);
        }

        private List<PoolMember> fresh(List<PoolMember> all) {
            Instant oldest = clock.instant().minus(staleness);
            return all.stream().filter(member -> !member.metrics().updateTime().isBefore(oldest)).toList();
        }
    }

    private record Averages(double kvCache, double queueSize, double runningRequests) {
    }

    /** Builds {@link EppMetrics}; without {@link #pool} there are no {@code inference_pool_*} metrics. */
    public static final class Builder {
        private Optional<String> poolName = Optional.empty();
        private PoolMembers poolMembers = PoolMembers.NONE;
        private Duration metricsStaleness = Duration.ofSeconds(2);
        private Clock clock = Clock.systemUTC();
        private String commit = "";
        private String buildRef = "";

        private Builder() {
        }

        /** The pool's name (the {@code name} label) and where its endpoints are read from. */
        public Builder pool(String name, PoolMembers members) {
            poolName = Optional.of(Objects.requireNonNull(name, "name"));
            poolMembers = Objects.requireNonNull(members, "members");
            return this;
        }

        /** How old an endpoint's metrics may be and still count as fresh ({@code --metrics-staleness-threshold}, 2 s). */
        public Builder metricsStaleness(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("metrics staleness must not be negative, got " + value);
            }
            metricsStaleness = value;
            return this;
        }

        public Builder clock(Clock value) {
            clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /** The {@code commit} label of {@code inference_extension_info}. */
        public Builder commit(String value) {
            commit = Objects.requireNonNull(value, "commit");
            return this;
        }

        /** The {@code build_ref} label of {@code inference_extension_info}. */
        public Builder buildRef(String value) {
            buildRef = Objects.requireNonNull(value, "buildRef");
            return this;
        }

        public EppMetrics build() {
            return new EppMetrics(this);
        }
    }
}
