package dev.lodestar.epp.metrics;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.DoubleStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class EppMetricsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    // Upstream's boundaries, typed again from pkg/epp/metrics/metrics.go@v1.5.0 (not shared with main code).
    private static final double[] GENERAL_LATENCY = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25,
            1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
            3600};
    private static final double[] FAST = {0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};

    private static PrometheusText scrape(EppMetrics metrics) {
        return PrometheusText.parse(MetricsExposition.text(metrics.registry()));
    }

    private static List<Double> withInf(double... bounds) {
        List<Double> list = new ArrayList<>(DoubleStream.of(bounds).boxed().toList());
        list.add(INF);
        return list;
    }

    private static Map<String, String> models(String model, String target) {
        return Map.of("model_name", model, "target_model_name", target);
    }

    @Test
    void everyMetricHasUpstreamNameAndType() {
        EppMetrics metrics = EppMetrics.builder().clock(CLOCK)
                .pool("pool-a", () -> Optional.of(List.of(member("a-rank-0", 0.1, 1, 1, NOW)))).build();
        metrics.requestReceived("m", "t", 0);
        metrics.requestError("m", "t", ErrorCode.BAD_REQUEST);
        metrics.requestDuration("m", "t", Duration.ofMillis(5));
        metrics.normalizedTimePerOutputToken("m", "t", Duration.ofMillis(5), 1);
        metrics.requestSize("m", "t", 1);
        metrics.responseSize("m", "t", 1);
        metrics.inputTokens("m", "t", 1);
        metrics.outputTokens("m", "t", 1);
        metrics.cachedTokens("m", "t", 1);
        metrics.runningRequestStarted("m");
        metrics.schedulerDuration(1);
        metrics.schedulerAttemptFailed("t");
        metrics.record("Filter", new TypedName("t", "n"), 1);
        metrics.prefixIndexerSize(() -> 1);
        metrics.prefixMatch(1, 2);
        metrics.modelRewriteDecision("r", "m", "t");
        metrics.flowControlRequestQueueDuration("f", "0", "Dispatched", "p", "m", "t", Duration.ofMillis(1));
        metrics.flowControlDispatchCycleDuration(Duration.ofMillis(1));
        metrics.flowControlRequestEnqueueDuration("f", "0", "Enqueued", Duration.ofMillis(1));
        metrics.flowControlEnqueued("f", "0", "p", "m", "t", 10);
        metrics.flowControlPoolSaturation("p", 0.5);

        assertThat(scrape(metrics).types()).containsAllEntriesOf(Map.ofEntries(
                Map.entry("inference_objective_request_total", "counter"),
                Map.entry("inference_objective_request_error_total", "counter"),
                Map.entry("inference_objective_request_duration_seconds", "histogram"),
                Map.entry("inference_objective_normalized_time_per_output_token_seconds", "histogram"),
                Map.entry("inference_objective_request_sizes", "histogram"),
                Map.entry("inference_objective_response_sizes", "histogram"),
                Map.entry("inference_objective_input_tokens", "histogram"),
                Map.entry("inference_objective_output_tokens", "histogram"),
                Map.entry("inference_objective_prompt_cached_tokens", "histogram"),
                Map.entry("inference_objective_running_requests", "gauge"),
                Map.entry("inference_extension_info", "gauge"),
                Map.entry("inference_extension_scheduler_e2e_duration_seconds", "histogram"),
                Map.entry("inference_extension_scheduler_attempts_total", "counter"),
                Map.entry("inference_extension_plugin_duration_seconds", "histogram"),
                Map.entry("inference_extension_prefix_indexer_size", "gauge"),
                Map.entry("inference_extension_prefix_indexer_hit_ratio", "histogram"),
                Map.entry("inference_extension_prefix_indexer_hit_bytes", "histogram"),
                Map.entry("inference_extension_model_rewrite_decisions_total", "counter"),
                Map.entry("inference_extension_flow_control_request_queue_duration_seconds", "histogram"),
                Map.entry("inference_extension_flow_control_dispatch_cycle_duration_seconds", "histogram"),
                Map.entry("inference_extension_flow_control_request_enqueue_duration_seconds", "histogram"),
                Map.entry("inference_extension_flow_control_queue_size", "gauge"),
                Map.entry("inference_extension_flow_control_queue_bytes", "gauge"),
                Map.entry("inference_extension_flow_control_pool_saturation", "gauge"),
                Map.entry("inference_pool_average_kv_cache_utilization", "gauge"),
                Map.entry("inference_pool_average_queue_size", "gauge"),
                Map.entry("inference_pool_average_running_requests", "gauge"),
                Map.entry("inference_pool_ready_pods", "gauge"),
                Map.entry("inference_pool_per_pod_queue_size", "gauge")));
    }

    @Test
    void histogramsHaveUpstreamBucketBoundaries() {
        EppMetrics metrics = EppMetrics.builder().build();
        Map<String, String> mt = models("m", "t");
        metrics.requestDuration("m", "t", Duration.ofSeconds(1));
        metrics.normalizedTimePerOutputToken("m", "t", Duration.ofSeconds(1), 10);
        metrics.requestSize("m", "t", 100);
        metrics.responseSize("m", "t", 100);
        metrics.inputTokens("m", "t", 100);
        metrics.outputTokens("m", "t", 100);
        metrics.cachedTokens("m", "t", 100);
        metrics.schedulerDuration(1000);
        metrics.record("Scorer", new TypedName("queue-scorer", "q"), 1000);
        metrics.prefixMatch(10, 20);
        metrics.flowControlRequestQueueDuration("f", "0", "Dispatched", "p", "m", "t", Duration.ofMillis(1));
        metrics.flowControlDispatchCycleDuration(Duration.ofMillis(1));
        metrics.flowControlRequestEnqueueDuration("f", "0", "Enqueued", Duration.ofMillis(1));
        PrometheusText text = scrape(metrics);

        assertThat(text.bucketBounds("inference_objective_request_duration_seconds", mt))
                .containsExactlyElementsOf(withInf(GENERAL_LATENCY));
        assertThat(text.bucketBounds("inference_objective_normalized_time_per_output_token_seconds", mt))
                .containsExactlyElementsOf(withInf(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
                        5.0, 10.0));
        assertThat(text.bucketBounds("inference_objective_request_sizes", mt))
                .containsExactlyElementsOf(withInf(64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
                        131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864,
                        134217728, 268435456, 536870912, 1073741824));
        // 32778, not 32768: upstream's typo, kept so dashboards and recording rules match.
        assertThat(text.bucketBounds("inference_objective_response_sizes", mt))
                .containsExactlyElementsOf(withInf(1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                        32778, 65536));
        List<Double> promptTokens = withInf(1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                32778, 65536, 131072, 262144, 524288, 1048576);
        assertThat(text.bucketBounds("inference_objective_input_tokens", mt)).containsExactlyElementsOf(promptTokens);
        assertThat(text.bucketBounds("inference_objective_prompt_cached_tokens", mt))
                .containsExactlyElementsOf(promptTokens);
        assertThat(text.bucketBounds("inference_objective_output_tokens", mt))
                .containsExactlyElementsOf(withInf(1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192));
        assertThat(text.bucketBounds("inference_extension_scheduler_e2e_duration_seconds", Map.of()))
                .containsExactlyElementsOf(withInf(FAST));
        assertThat(text.bucketBounds("inference_extension_plugin_duration_seconds",
                Map.of("extension_point", "Scorer", "plugin_type", "queue-scorer", "plugin_name", "q")))
                .containsExactlyElementsOf(withInf(FAST));
        assertThat(text.bucketBounds("inference_extension_prefix_indexer_hit_ratio", Map.of()))
                .containsExactlyElementsOf(withInf(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0));
        assertThat(text.bucketBounds("inference_extension_prefix_indexer_hit_bytes", Map.of()))
                .containsExactlyElementsOf(withInf(0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                        32768, 65536));
        assertThat(text.bucketBounds("inference_extension_flow_control_request_queue_duration_seconds",
                Map.of("fairness_id", "f")))
                .containsExactlyElementsOf(withInf(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                        1.0, 2.5, 5.0, 10.0, 30.0, 60.0));
        assertThat(text.bucketBounds("inference_extension_flow_control_dispatch_cycle_duration_seconds", Map.of()))
                .containsExactlyElementsOf(withInf(FAST));
        assertThat(text.bucketBounds("inference_extension_flow_control_request_enqueue_duration_seconds",
                Map.of("fairness_id", "f"))).containsExactlyElementsOf(withInf(FAST));
    }

    @Test
    void requestCountersCarryModelsPriorityAndErrorCode() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.requestReceived("llama", "llama-lora", 2);
        metrics.requestReceived("llama", "llama-lora", 2);
        metrics.requestReceived("llama", "llama", -1);
        metrics.requestError("llama", "llama-lora", ErrorCode.MODEL_SERVER_ERROR);
        metrics.requestError("llama", "", ErrorCode.BAD_REQUEST);
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_objective_request_total",
                Map.of("model_name", "llama", "target_model_name", "llama-lora", "priority", "2"))).contains(2.0);
        assertThat(text.value("inference_objective_request_total",
                Map.of("model_name", "llama", "target_model_name", "llama", "priority", "-1"))).contains(1.0);
        assertThat(text.value("inference_objective_request_error_total",
                Map.of("model_name", "llama", "target_model_name", "llama-lora", "error_code", "ModelServerError")))
                .contains(1.0);
        assertThat(text.value("inference_objective_request_error_total",
                Map.of("model_name", "llama", "target_model_name", "", "error_code", "BadRequest"))).contains(1.0);
    }

    @Test
    void durationsLandInTheirBucketsAndSumInSeconds() {
        EppMetrics metrics = EppMetrics.builder().build();
        Map<String, String> mt = models("m", "t");
        assertThat(metrics.requestDuration("m", "t", Duration.ofMillis(300))).isTrue();
        assertThat(metrics.requestDuration("m", "t", Duration.ofSeconds(2))).isTrue();
        assertThat(metrics.requestDuration("m", "t", Duration.ZERO)).isFalse();
        assertThat(metrics.requestDuration("m", "t", Duration.ofMillis(-1))).isFalse();
        // 2 s over 100 tokens = 0.02 s per token.
        assertThat(metrics.normalizedTimePerOutputToken("m", "t", Duration.ofSeconds(2), 100)).isTrue();
        assertThat(metrics.normalizedTimePerOutputToken("m", "t", Duration.ofSeconds(2), 0)).isFalse();
        PrometheusText text = scrape(metrics);

        Map<Double, Double> buckets = text.buckets("inference_objective_request_duration_seconds", mt);
        assertThat(buckets.get(0.2)).isEqualTo(0.0);
        assertThat(buckets.get(0.4)).isEqualTo(1.0);
        assertThat(buckets.get(1.5)).isEqualTo(1.0);
        assertThat(buckets.get(2.0)).isEqualTo(2.0);
        assertThat(buckets.get(INF)).isEqualTo(2.0);
        assertThat(text.value("inference_objective_request_duration_seconds_count", mt)).contains(2.0);
        assertThat(text.value("inference_objective_request_duration_seconds_sum", mt).orElseThrow())
                .isCloseTo(2.3, within(1e-9));

        Map<Double, Double> ntpot = text.buckets("inference_objective_normalized_time_per_output_token_seconds", mt);
        assertThat(ntpot.get(0.01)).isEqualTo(0.0);
        assertThat(ntpot.get(0.02)).isEqualTo(1.0);
        assertThat(text.value("inference_objective_normalized_time_per_output_token_seconds_count", mt))
                .contains(1.0);
    }

    @Test
    void tokenHistogramsSkipZeroExceptCachedTokens() {
        EppMetrics metrics = EppMetrics.builder().build();
        Map<String, String> mt = models("m", "t");
        metrics.inputTokens("m", "t", 0);
        metrics.outputTokens("m", "t", 0);
        metrics.cachedTokens("m", "t", 0);
        metrics.inputTokens("m", "t", 32770);
        metrics.outputTokens("m", "t", 9);
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_objective_input_tokens_count", mt)).contains(1.0);
        assertThat(text.buckets("inference_objective_input_tokens", mt).get(32778.0)).isEqualTo(1.0);
        assertThat(text.buckets("inference_objective_input_tokens", mt).get(16384.0)).isEqualTo(0.0);
        assertThat(text.value("inference_objective_output_tokens_count", mt)).contains(1.0);
        assertThat(text.buckets("inference_objective_output_tokens", mt).get(16.0)).isEqualTo(1.0);
        assertThat(text.value("inference_objective_prompt_cached_tokens_count", mt)).contains(1.0);
        assertThat(text.buckets("inference_objective_prompt_cached_tokens", mt).get(1.0)).isEqualTo(1.0);
    }

    @Test
    void usageRecordsCachedTokensOnlyWhenReported() {
        EppMetrics metrics = EppMetrics.builder().build();
        Map<String, String> mt = models("m", "t");
        metrics.usage("m", "t", new Usage(100, 20, 120, 0));
        metrics.usage("m", "t", new Usage(300, 10, 310, 64));
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_objective_input_tokens_count", mt)).contains(2.0);
        assertThat(text.value("inference_objective_input_tokens_sum", mt)).contains(400.0);
        assertThat(text.value("inference_objective_output_tokens_sum", mt)).contains(30.0);
        assertThat(text.value("inference_objective_prompt_cached_tokens_count", mt)).contains(1.0);
        assertThat(text.value("inference_objective_prompt_cached_tokens_sum", mt)).contains(64.0);
    }

    @Test
    void sizesAreRecordedInBytes() {
        EppMetrics metrics = EppMetrics.builder().build();
        Map<String, String> mt = models("m", "t");
        metrics.requestSize("m", "t", 5000);
        metrics.responseSize("m", "t", 40000);
        PrometheusText text = scrape(metrics);

        assertThat(text.buckets("inference_objective_request_sizes", mt).get(4096.0)).isEqualTo(0.0);
        assertThat(text.buckets("inference_objective_request_sizes", mt).get(8192.0)).isEqualTo(1.0);
        assertThat(text.buckets("inference_objective_response_sizes", mt).get(32778.0)).isEqualTo(0.0);
        assertThat(text.buckets("inference_objective_response_sizes", mt).get(65536.0)).isEqualTo(1.0);
        assertThat(text.value("inference_objective_response_sizes_sum", mt)).contains(40000.0);
    }

    @Test
    void runningRequestsGoUpAndDownAndIgnoreEmptyModel() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.runningRequestStarted("m");
        metrics.runningRequestStarted("m");
        metrics.runningRequestStarted("");
        metrics.runningRequestEnded("m");
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_objective_running_requests", Map.of("model_name", "m"))).contains(1.0);
        assertThat(text.find("inference_objective_running_requests", Map.of("model_name", ""))).isEmpty();
    }

    @Test
    void schedulerAttemptsAreLabelledWithThePrimaryTarget() {
        EppMetrics metrics = EppMetrics.builder().build();
        EndpointMetadata chosen = new EndpointMetadata(EndpointKey.ofRank("ns1", "vllm-0", 1), "vllm-0", "10.0.0.7",
                8001, "10.0.0.7:8001", Map.of());
        EndpointMetadata fallback = new EndpointMetadata(EndpointKey.ofRank("ns1", "vllm-1", 0), "vllm-1",
                "10.0.0.8", 8000, "10.0.0.8:8000", Map.of());
        SchedulingResult result = new SchedulingResult(Map.of(
                "decode", new ProfileRunResult(List.of(new Endpoint(chosen, EndpointMetrics.EMPTY),
                        new Endpoint(fallback, EndpointMetrics.EMPTY))),
                "prefill", new ProfileRunResult(List.of(new Endpoint(fallback, EndpointMetrics.EMPTY)))),
                "decode");
        metrics.schedulerAttemptSucceeded("llama", result);
        metrics.schedulerAttemptSucceeded("llama", new SchedulingResult(
                Map.of("default", ProfileRunResult.FAILED), "default"));
        metrics.schedulerAttemptFailed("llama");
        metrics.schedulerAttemptFailed("llama");
        metrics.schedulerDuration(1_500_000);
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_extension_scheduler_attempts_total", Map.of("status", "success",
                "target_model_name", "llama", "pod_name", "vllm-0", "namespace", "ns1", "port", "8001")))
                .contains(1.0);
        assertThat(text.value("inference_extension_scheduler_attempts_total", Map.of("status", "success",
                "target_model_name", "llama", "pod_name", "", "namespace", "", "port", ""))).contains(1.0);
        assertThat(text.value("inference_extension_scheduler_attempts_total", Map.of("status", "failure",
                "target_model_name", "llama", "pod_name", "", "namespace", "", "port", ""))).contains(2.0);
        Map<Double, Double> e2e = text.buckets("inference_extension_scheduler_e2e_duration_seconds", Map.of());
        assertThat(e2e.get(0.001)).isEqualTo(0.0);
        assertThat(e2e.get(0.002)).isEqualTo(1.0);
        assertThat(text.value("inference_extension_scheduler_e2e_duration_seconds_sum", Map.of()))
                .contains(0.0015);
    }

    @Test
    void pluginTimerFeedsPluginDuration() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.record("Scorer", new TypedName("prefix-cache-scorer", "prefix"), 300_000);
        metrics.record("Scorer", new TypedName("prefix-cache-scorer", "prefix"), 30_000_000);
        metrics.record("Picker", new TypedName("max-score-picker", "max-score-picker"), 50_000);
        PrometheusText text = scrape(metrics);

        Map<String, String> scorer = Map.of("extension_point", "Scorer", "plugin_type", "prefix-cache-scorer",
                "plugin_name", "prefix");
        Map<Double, Double> buckets = text.buckets("inference_extension_plugin_duration_seconds", scorer);
        assertThat(buckets.get(0.0002)).isEqualTo(0.0);
        assertThat(buckets.get(0.0005)).isEqualTo(1.0);
        assertThat(buckets.get(0.02)).isEqualTo(1.0);
        assertThat(buckets.get(0.05)).isEqualTo(2.0);
        assertThat(text.value("inference_extension_plugin_duration_seconds_count", Map.of("extension_point",
                "Picker", "plugin_type", "max-score-picker", "plugin_name", "max-score-picker"))).contains(1.0);
    }

    @Test
    void prefixMatchRecordsBytesAlwaysAndRatioOnlyWithATotal() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.prefixIndexerSize(() -> 12345);
        metrics.prefixMatch(192, 256);
        metrics.prefixMatch(0, 0);
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_extension_prefix_indexer_size", Map.of())).contains(12345.0);
        assertThat(text.value("inference_extension_prefix_indexer_hit_bytes_count", Map.of())).contains(2.0);
        assertThat(text.buckets("inference_extension_prefix_indexer_hit_bytes", Map.of()).get(0.0)).isEqualTo(1.0);
        assertThat(text.buckets("inference_extension_prefix_indexer_hit_bytes", Map.of()).get(256.0))
                .isEqualTo(2.0);
        assertThat(text.value("inference_extension_prefix_indexer_hit_ratio_count", Map.of())).contains(1.0);
        Map<Double, Double> ratio = text.buckets("inference_extension_prefix_indexer_hit_ratio", Map.of());
        assertThat(ratio.get(0.7)).isEqualTo(0.0);
        assertThat(ratio.get(0.8)).isEqualTo(1.0);
    }

    @Test
    void disaggregationDecisionsAreCountedUnderLlmdsNamesAndTheirDeprecatedTwins() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.disaggDecision("pd", "disagg-profile-handler", "llama", "prefill-decode");
        metrics.disaggDecision("pd", "disagg-profile-handler", "llama", "prefill-decode");
        metrics.disaggDecision("pd", "disagg-profile-handler", "llama", "decode-only");
        metrics.pdDecision("old", "pd-profile-handler", "unknown", "decode-only");
        PrometheusText text = scrape(metrics);

        assertThat(text.types()).containsEntry("llm_d_epp_disagg_decision_total", "counter")
                .containsEntry("llm_d_inference_scheduler_disagg_decision_total", "counter")
                .containsEntry("llm_d_epp_pd_decision_total", "counter")
                .containsEntry("llm_d_inference_scheduler_pd_decision_total", "counter");
        assertThat(text.value("llm_d_epp_disagg_decision_total", Map.of("plugin_name", "pd",
                "plugin_type", "disagg-profile-handler", "model_name", "llama", "decision_type", "prefill-decode")))
                .contains(2.0);
        assertThat(text.value("llm_d_inference_scheduler_disagg_decision_total",
                Map.of("model_name", "llama", "decision_type", "decode-only"))).contains(1.0);
        assertThat(text.value("llm_d_epp_pd_decision_total", Map.of("plugin_name", "old",
                "plugin_type", "pd-profile-handler", "model_name", "unknown", "decision_type", "decode-only")))
                .contains(1.0);
        assertThat(text.value("llm_d_inference_scheduler_pd_decision_total",
                Map.of("model_name", "unknown", "decision_type", "decode-only"))).contains(1.0);
        assertThat(text.value("llm_d_inference_scheduler_pd_decision_total",
                Map.of("model_name", "llama", "decision_type", "decode-only"))).isEmpty();
    }

    @Test
    void modelRewriteAndFlowControl() {
        EppMetrics metrics = EppMetrics.builder().build();
        metrics.modelRewriteDecision("canary", "llama", "llama-v2");
        metrics.flowControlEnqueued("tenant-a", "1", "pool", "m", "t", 1000);
        metrics.flowControlEnqueued("tenant-a", "1", "pool", "m", "t", 500);
        metrics.flowControlDequeued("tenant-a", "1", "pool", "m", "t", 1000);
        metrics.flowControlPoolSaturation("pool", 0.75);
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_extension_model_rewrite_decisions_total",
                Map.of("model_rewrite_name", "canary", "model_name", "llama", "target_model", "llama-v2")))
                .contains(1.0);
        Map<String, String> queue = Map.of("fairness_id", "tenant-a", "priority", "1", "inference_pool", "pool",
                "model_name", "m", "target_model_name", "t");
        assertThat(text.value("inference_extension_flow_control_queue_size", queue)).contains(1.0);
        assertThat(text.value("inference_extension_flow_control_queue_bytes", queue)).contains(500.0);
        assertThat(text.value("inference_extension_flow_control_pool_saturation", Map.of("inference_pool", "pool")))
                .contains(0.75);
    }

    @Test
    void infoCarriesCommitAndBuildRef() {
        EppMetrics metrics = EppMetrics.builder().commit("84436a96").buildRef("v0.1.0").build();

        assertThat(scrape(metrics).value("inference_extension_info",
                Map.of("commit", "84436a96", "build_ref", "v0.1.0"))).contains(1.0);
    }

    @Test
    void poolGaugesAverageFreshEndpointsAndListEveryEndpointQueue() {
        AtomicReference<List<PoolMember>> pool = new AtomicReference<>(List.of(
                member("vllm-0-rank-0", 0.5, 4, 2, NOW.minusMillis(100)),
                member("vllm-1-rank-0", 0.1, 2, 6, NOW.minusSeconds(2)),
                member("vllm-2-rank-0", 0.9, 30, 9, NOW.minusMillis(2001))));
        EppMetrics metrics = EppMetrics.builder().pool("pool-a", () -> Optional.of(pool.get())).clock(CLOCK).build();
        PrometheusText text = scrape(metrics);
        Map<String, String> name = Map.of("name", "pool-a");

        // vllm-2 is 2.001 s old (> 2 s threshold): not ready, not averaged; vllm-1 at exactly 2 s still counts.
        assertThat(text.value("inference_pool_ready_pods", name)).contains(2.0);
        assertThat(text.value("inference_pool_average_kv_cache_utilization", name).orElseThrow())
                .isCloseTo(0.3, within(1e-12));
        assertThat(text.value("inference_pool_average_queue_size", name)).contains(3.0);
        assertThat(text.value("inference_pool_average_running_requests", name)).contains(4.0);
        assertThat(text.value("inference_pool_per_pod_queue_size",
                Map.of("name", "pool-a", "model_server_pod", "vllm-0-rank-0"))).contains(4.0);
        assertThat(text.value("inference_pool_per_pod_queue_size",
                Map.of("name", "pool-a", "model_server_pod", "vllm-2-rank-0"))).contains(30.0);

        // No fresh endpoint: ready_pods drops to 0, the averages keep their last value (as upstream).
        pool.set(List.of(member("vllm-0-rank-0", 0.5, 4, 2, Instant.EPOCH)));
        PrometheusText stale = scrape(metrics);
        assertThat(stale.value("inference_pool_ready_pods", name)).contains(0.0);
        assertThat(stale.value("inference_pool_average_queue_size", name)).contains(3.0);
        assertThat(stale.value("inference_pool_average_running_requests", name)).contains(4.0);
    }

    @Test
    void poolGaugesFollowTheStalenessThreshold() {
        List<PoolMember> pool = List.of(member("a-rank-0", 0.2, 1, 1, NOW.minusSeconds(3)));
        EppMetrics metrics = EppMetrics.builder().pool("p", () -> Optional.of(pool)).clock(CLOCK)
                .metricsStaleness(Duration.ofSeconds(5)).build();

        assertThat(scrape(metrics).value("inference_pool_ready_pods", Map.of("name", "p"))).contains(1.0);
    }

    @Test
    void unknownPoolHasNoPoolSeries() {
        EppMetrics metrics = EppMetrics.builder().pool("p", PoolMembers.of(new Datastore())).build();
        PrometheusText text = scrape(metrics);

        assertThat(text.samples()).noneMatch(sample -> sample.name().startsWith("inference_pool_"));
    }

    @Test
    void datastoreMembersAreReadAtScrapeTime() {
        Datastore datastore = new Datastore();
        EndpointMetadata endpoint = new EndpointMetadata(EndpointKey.ofRank("ns", "vllm-0", 0), "vllm-0",
                "10.0.0.1", 8000, "10.0.0.1:8000", Map.of());
        datastore.upsertEndpoint(endpoint);
        datastore.markSynced();
        EppMetrics metrics = EppMetrics.builder().pool("p", PoolMembers.of(datastore)).clock(CLOCK).build();
        assertThat(scrape(metrics).value("inference_pool_ready_pods", Map.of("name", "p"))).contains(0.0);

        datastore.endpoint(endpoint.key()).orElseThrow().updateMetrics(EndpointMetrics.builder()
                .waitingQueueSize(7).runningRequestsSize(3).kvCacheUsagePercent(0.25).updateTime(NOW).build());
        PrometheusText text = scrape(metrics);

        assertThat(text.value("inference_pool_ready_pods", Map.of("name", "p"))).contains(1.0);
        assertThat(text.value("inference_pool_average_queue_size", Map.of("name", "p"))).contains(7.0);
        assertThat(text.value("inference_pool_per_pod_queue_size",
                Map.of("name", "p", "model_server_pod", "vllm-0-rank-0"))).contains(7.0);
    }

    @Test
    void withoutPoolThereAreNoPoolMetrics() {
        EppMetrics metrics = EppMetrics.builder().build();

        assertThat(scrape(metrics).types().keySet()).noneMatch(name -> name.startsWith("inference_pool_"));
    }

    private static PoolMember member(String name, double kvCache, int queue, int running, Instant updated) {
        return new PoolMember(new EndpointKey("ns", name), EndpointMetrics.builder().kvCacheUsagePercent(kvCache)
                .waitingQueueSize(queue).runningRequestsSize(running).updateTime(updated).build());
    }
}
