package dev.lodestar.epp.datalayer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

import static dev.lodestar.epp.datalayer.PrometheusTextParserTest.fixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CoreMetricsExtractorTest {
    private static final Instant NOW = Instant.parse("2026-08-20T10:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ENGINE = CoreMetricsExtractor.DEFAULT_ENGINE_LABEL_KEY;

    static EndpointMetadata endpoint(Map<String, String> labels) {
        return new EndpointMetadata(EndpointKey.ofRank("default", "pod", 0), "pod", "10.0.0.1", 8000, "10.0.0.1:8000",
                labels);
    }

    private static EndpointMetrics extract(CoreMetricsExtractor extractor, String text, Map<String, String> labels) {
        Extraction extraction = extractor.extract(text.getBytes(StandardCharsets.UTF_8), endpoint(labels),
                EndpointMetrics.EMPTY, NOW);
        assertThat(extraction.errors()).isEmpty();
        return extraction.metrics().orElseThrow();
    }

    private static CoreMetricsExtractor fromParameters(String json) throws Exception {
        JsonNode parameters = JSON.readTree(json);
        return (CoreMetricsExtractor) CoreMetricsExtractor.FACTORY.create("extractor", parameters, null);
    }

    @Test
    void registeredAsABuiltInPlugin() {
        assertThat(PluginRegistry.builtIn().factory(CoreMetricsExtractor.TYPE)).containsSame(CoreMetricsExtractor.FACTORY);
    }

    @Test
    void builtInEnginesAreUpstreamsTable() {
        assertThat(EngineConfig.VLLM).isEqualTo(new EngineConfig("vllm", "vllm:num_requests_waiting",
                "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:lora_requests_info",
                "vllm:cache_config_info", "", "", "", ""));
        assertThat(EngineConfig.SGLANG).isEqualTo(new EngineConfig("sglang", "sglang:num_queue_reqs",
                "sglang:num_running_reqs", "sglang:token_usage", "", "sglang:cache_config_info", "page_size",
                "num_pages", "", ""));
        assertThat(EngineConfig.TRTLLM_SERVE).isEqualTo(new EngineConfig("trtllm-serve", "trtllm_num_requests_waiting",
                "trtllm_num_requests_running", "trtllm_kv_cache_utilization", "", "", "", "",
                "trtllm_kv_cache_tokens_per_block", "trtllm_kv_cache_max_blocks"));
        assertThat(EngineConfig.TRITON_TENSORRT_LLM).isEqualTo(new EngineConfig("triton-tensorrt-llm",
                "nv_trt_llm_request_metrics{request_type=waiting}", "nv_trt_llm_request_metrics{request_type=scheduled}",
                "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}", "", "", "", "",
                "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}",
                "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=max}"));
        CoreMetricsExtractor extractor = CoreMetricsExtractor.create();
        assertThat(extractor.engines()).containsOnlyKeys("vllm", "sglang", "trtllm-serve", "triton-tensorrt-llm");
        assertThat(extractor.engineLabelKey()).isEqualTo("inference.networking.k8s.io/engine-type");
        assertThat(extractor.typedName().type()).isEqualTo("core-metrics-extractor");
    }

    @Test
    void vllm() {
        EndpointMetrics metrics = extract(CoreMetricsExtractor.create(), fixture("vllm-metrics.txt"), Map.of());

        assertThat(metrics.waitingQueueSize()).isEqualTo(7);
        assertThat(metrics.runningRequestsSize()).isEqualTo(4);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.4213);
        // The second lora_requests_info series has the largest value (1.738438395912367e9).
        assertThat(metrics.activeModels()).containsOnlyKeys("sql-lora", "tweet-summary").containsValue(0);
        assertThat(metrics.waitingModels()).containsOnlyKeys("fr-lora");
        assertThat(metrics.maxActiveModels()).isEqualTo(4);
        assertThat(metrics.cacheBlockSize()).isEqualTo(16);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(27153);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(16 * 27153);
        assertThat(metrics.updateTime()).isEqualTo(NOW);
    }

    @Test
    void simulatorOutput() {
        EndpointMetrics metrics = extract(CoreMetricsExtractor.create(), fixture("simulator-metrics.txt"), Map.of());

        // The newest lora_requests_info series of this capture has no adapters running or waiting.
        assertThat(metrics.activeModels()).isEmpty();
        assertThat(metrics.waitingModels()).isEmpty();
        assertThat(metrics.maxActiveModels()).isEqualTo(2);
        assertThat(metrics.cacheBlockSize()).isEqualTo(16);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(1024);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(16384);
        assertThat(metrics.waitingQueueSize()).isZero();
    }

    @Test
    void sglangByLabel() {
        EndpointMetrics metrics = extract(CoreMetricsExtractor.create(), fixture("sglang-metrics.txt"),
                Map.of(ENGINE, "sglang"));

        assertThat(metrics.waitingQueueSize()).isEqualTo(11);
        assertThat(metrics.runningRequestsSize()).isEqualTo(3);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.25);
        assertThat(metrics.cacheBlockSize()).isEqualTo(1);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(8192);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(8192);
        assertThat(metrics.activeModels()).isEmpty();
    }

    @Test
    void trtllmServeByLabel() {
        EndpointMetrics metrics = extract(CoreMetricsExtractor.create(), fixture("trtllm-serve-metrics.txt"),
                Map.of(ENGINE, "trtllm-serve"));

        assertThat(metrics.waitingQueueSize()).isEqualTo(5);
        assertThat(metrics.runningRequestsSize()).isEqualTo(2);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.5);
        assertThat(metrics.cacheBlockSize()).isEqualTo(32);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(4096);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(131072);
    }

    @Test
    void tritonTensorRtLlmSelectsSeriesByLabel() {
        EndpointMetrics metrics = extract(CoreMetricsExtractor.create(), fixture("triton-tensorrt-llm-metrics.txt"),
                Map.of(ENGINE, "triton-tensorrt-llm"));

        assertThat(metrics.waitingQueueSize()).isEqualTo(9);
        assertThat(metrics.runningRequestsSize()).isEqualTo(6);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.25);
        assertThat(metrics.cacheBlockSize()).isEqualTo(64);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(400);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(25600);
    }

    @Test
    void unlabelledOrUnknownEngineUsesTheDefaultEngine() throws Exception {
        CoreMetricsExtractor extractor = CoreMetricsExtractor.create();
        assertThat(extractor.mappingFor(endpoint(Map.of())).engine()).isEqualTo("vllm");
        assertThat(extractor.mappingFor(endpoint(Map.of(ENGINE, ""))).engine()).isEqualTo("vllm");
        assertThat(extractor.mappingFor(endpoint(Map.of(ENGINE, "mystery"))).engine()).isEqualTo("vllm");
        assertThat(extractor.mappingFor(endpoint(Map.of(ENGINE, "sglang"))).engine()).isEqualTo("sglang");

        CoreMetricsExtractor sglangDefault = fromParameters("{\"defaultEngine\": \"sglang\"}");
        assertThat(sglangDefault.mappingFor(endpoint(Map.of())).engine()).isEqualTo("sglang");
        assertThat(extract(sglangDefault, fixture("sglang-metrics.txt"), Map.of()).waitingQueueSize()).isEqualTo(11);
    }

    @Test
    void engineLabelKeyIsConfigurable() throws Exception {
        CoreMetricsExtractor extractor = fromParameters("{\"engineLabelKey\": \"app/engine\"}");
        assertThat(extractor.mappingFor(endpoint(Map.of("app/engine", "trtllm-serve"))).engine()).isEqualTo("trtllm-serve");
        assertThat(extractor.mappingFor(endpoint(Map.of(ENGINE, "trtllm-serve"))).engine()).isEqualTo("vllm");
    }

    @Test
    void userEngineConfigReplacesTheBuiltInOneCompletely() throws Exception {
        CoreMetricsExtractor extractor = fromParameters("""
                {"engineConfigs": [{"name": "vllm", "queuedRequestsSpec": "my_queue{kind=\\"waiting\\"}"}]}""");
        EndpointMetrics previous = EndpointMetrics.builder().runningRequestsSize(5).kvCacheUsagePercent(0.5)
                .maxActiveModels(3).build();
        String text = fixture("vllm-metrics.txt") + "my_queue{kind=\"running\"} 1\nmy_queue{kind=\"waiting\"} 12\n";

        Extraction extraction = extractor.extract(text.getBytes(StandardCharsets.UTF_8), endpoint(Map.of()), previous,
                NOW);

        assertThat(extraction.errors()).isEmpty();
        EndpointMetrics metrics = extraction.metrics().orElseThrow();
        assertThat(metrics.waitingQueueSize()).isEqualTo(12);
        // Running, KV, LoRA and cache specs are empty in the replacement: those fields keep their values.
        assertThat(metrics.runningRequestsSize()).isEqualTo(5);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.5);
        assertThat(metrics.maxActiveModels()).isEqualTo(3);
        assertThat(metrics.cacheBlockSize()).isZero();
        assertThat(extractor.engines()).containsKeys("sglang", "trtllm-serve", "triton-tensorrt-llm");
    }

    @Test
    void userEngineIsAdded() throws Exception {
        CoreMetricsExtractor extractor = fromParameters("""
                {"defaultEngine": "mine", "engineConfigs": [{"name": "mine", "queuedRequestsSpec": "q",
                 "runningRequestsSpec": "r", "kvUsageSpec": "kv", "cacheInfoSpec": "info",
                 "cacheBlockSizeLabelName": "bs", "cacheNumBlocksLabelName": "nb"}]}""");
        EndpointMetrics metrics = extract(extractor, "q 1\nr 2\nkv 0.75\ninfo{bs=\"8\",nb=\"100\"} 1\n", Map.of());
        assertThat(metrics.waitingQueueSize()).isEqualTo(1);
        assertThat(metrics.runningRequestsSize()).isEqualTo(2);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.75);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(800);
        assertThat(extractor.engines()).hasSize(5);
    }

    @Test
    void firstMatchingSeriesWinsWithoutTimestampsNewestWithThem() {
        CoreMetricsExtractor extractor = CoreMetricsExtractor.create();
        String withoutTimestamps = """
                vllm:num_requests_waiting{model_name="a"} 3
                vllm:num_requests_waiting{model_name="b"} 9
                """;
        assertThat(extractor.extract(PrometheusTextParser.create().parse(withoutTimestamps), endpoint(Map.of()),
                EndpointMetrics.EMPTY, NOW).metrics().orElseThrow().waitingQueueSize()).isEqualTo(3);
        String withTimestamps = """
                vllm:num_requests_waiting{model_name="a"} 3 1000
                vllm:num_requests_waiting{model_name="b"} 9 2000
                vllm:num_requests_waiting{model_name="c"} 4 1500
                """;
        assertThat(extractor.extract(PrometheusTextParser.create().parse(withTimestamps), endpoint(Map.of()),
                EndpointMetrics.EMPTY, NOW).metrics().orElseThrow().waitingQueueSize()).isEqualTo(9);
    }

    @Test
    void loraSeriesWithTheLargestValueWinsWhereverItIs() {
        String text = """
                vllm:lora_requests_info{max_lora="2",running_lora_adapters="old",waiting_lora_adapters=""} 100
                vllm:lora_requests_info{max_lora="2",running_lora_adapters=" a , b ,, ",waiting_lora_adapters=" c"} 300
                vllm:lora_requests_info{max_lora="2",running_lora_adapters="older",waiting_lora_adapters="x"} 200
                vllm:lora_requests_info{max_lora="2",running_lora_adapters="tie",waiting_lora_adapters=""} 300
                """;
        Extraction extraction = CoreMetricsExtractor.create().extract(text.getBytes(StandardCharsets.UTF_8),
                endpoint(Map.of()), EndpointMetrics.EMPTY, NOW);

        EndpointMetrics metrics = extraction.metrics().orElseThrow();
        assertThat(metrics.activeModels()).isEqualTo(Map.of("a", 0, "b", 0));
        assertThat(metrics.waitingModels()).isEqualTo(Map.of("c", 0));
        assertThat(metrics.maxActiveModels()).isEqualTo(2);
    }

    @Test
    void loraWithoutMaxLoraKeepsThePreviousSlotsAndEmptyListsMeanNoAdapters() {
        EndpointMetrics previous = EndpointMetrics.builder().maxActiveModels(4)
                .activeModels(Map.of("stale", 0)).waitingModels(Map.of("stale", 0)).build();
        String text = "vllm:lora_requests_info{running_lora_adapters=\"\",waiting_lora_adapters=\"\"} 5\n";

        EndpointMetrics metrics = CoreMetricsExtractor.create().extract(text.getBytes(StandardCharsets.UTF_8),
                endpoint(Map.of()), previous, NOW).metrics().orElseThrow();

        assertThat(metrics.activeModels()).isEmpty();
        assertThat(metrics.waitingModels()).isEmpty();
        assertThat(metrics.maxActiveModels()).isEqualTo(4);
    }

    @Test
    void badIntegerLabelsAreReportedAndKeepThePreviousValue() {
        EndpointMetrics previous = EndpointMetrics.builder().maxActiveModels(4).cacheNumBlocks(50).build();
        String text = """
                vllm:lora_requests_info{max_lora="many",running_lora_adapters="a"} 5
                vllm:cache_config_info{block_size="16",num_gpu_blocks="lots"} 1
                """;
        Extraction extraction = CoreMetricsExtractor.create().extract(text.getBytes(StandardCharsets.UTF_8),
                endpoint(Map.of()), previous, NOW);

        assertThat(extraction.errors()).contains("label max_lora=\"many\" is not an integer",
                "label num_gpu_blocks=\"lots\" is not an integer");
        EndpointMetrics metrics = extraction.metrics().orElseThrow();
        assertThat(metrics.maxActiveModels()).isEqualTo(4);
        assertThat(metrics.cacheBlockSize()).isEqualTo(16);
        assertThat(metrics.cacheNumBlocks()).isEqualTo(50);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(800);
    }

    @Test
    void missingMetricsKeepPreviousValuesAndAreReported() {
        EndpointMetrics previous = EndpointMetrics.builder().waitingQueueSize(2).runningRequestsSize(8)
                .kvCacheUsagePercent(0.3).updateTime(NOW.minusSeconds(1)).build();
        String text = "vllm:num_requests_running{model_name=\"m\"} 1\n";

        Extraction extraction = CoreMetricsExtractor.create().extract(text.getBytes(StandardCharsets.UTF_8),
                endpoint(Map.of()), previous, NOW);

        EndpointMetrics metrics = extraction.metrics().orElseThrow();
        assertThat(metrics.runningRequestsSize()).isEqualTo(1);
        assertThat(metrics.waitingQueueSize()).isEqualTo(2);
        assertThat(metrics.kvCacheUsagePercent()).isEqualTo(0.3);
        assertThat(metrics.updateTime()).isEqualTo(NOW);
        assertThat(extraction.errors()).containsExactly(
                "metric family \"vllm:num_requests_waiting\" not found",
                "metric family \"vllm:kv_cache_usage_perc\" not found",
                "metric family \"vllm:lora_requests_info\" not found",
                "metric family \"vllm:cache_config_info\" not found");
    }

    @Test
    void nothingFoundLeavesTheMetricsToAge() {
        Extraction extraction = CoreMetricsExtractor.create().extract(
                "nv_trt_llm_request_metrics{request_type=\"context\"} 1\n".getBytes(StandardCharsets.UTF_8),
                endpoint(Map.of(ENGINE, "triton-tensorrt-llm")), EndpointMetrics.EMPTY, NOW);

        assertThat(extraction.metrics()).isEmpty();
        assertThat(extraction.errors()).contains(
                "no series of nv_trt_llm_request_metrics{request_type=\"waiting\"} found",
                "metric family \"nv_trt_llm_kv_cache_block_metrics\" not found");
    }

    @Test
    void cacheInfoWithoutTheBlockSizeLabelZeroesIt() {
        EndpointMetrics previous = EndpointMetrics.builder().cacheBlockSize(16).cacheNumBlocks(10).build();
        EndpointMetrics metrics = CoreMetricsExtractor.create().extract(
                "vllm:cache_config_info{other=\"x\"} 1\n".getBytes(StandardCharsets.UTF_8), endpoint(Map.of()),
                previous, NOW).metrics().orElseThrow();
        assertThat(metrics.cacheBlockSize()).isZero();
        assertThat(metrics.cacheNumBlocks()).isEqualTo(10);
        assertThat(metrics.kvCacheMaxTokenCapacity()).isZero();
    }

    @Test
    void defaultsWhenParametersAreAbsent() throws Exception {
        CoreMetricsExtractor extractor = (CoreMetricsExtractor) CoreMetricsExtractor.FACTORY.create("x",
                JSON.missingNode(), null);
        assertThat(extractor.engineLabelKey()).isEqualTo(ENGINE);
        assertThat(extractor.mappingFor(endpoint(Map.of())).engine()).isEqualTo("vllm");
        assertThat(extractor.typedName().name()).isEqualTo("x");
    }

    @Test
    void invalidParameters() {
        assertThatThrownBy(() -> fromParameters("{\"engineConfigs\": [{\"name\": \"default\"}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'extractor': engineConfigs: engine name 'default' is reserved");
        assertThatThrownBy(() -> fromParameters("{\"engineConfigs\": [{\"name\": \"\"}]}"))
                .hasMessage("plugin 'extractor': engineConfigs: an engine config has no name");
        assertThatThrownBy(() -> fromParameters("{\"engineConfigs\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}"))
                .hasMessage("plugin 'extractor': engineConfigs: engine 'a' is defined twice");
        assertThatThrownBy(() -> fromParameters("{\"defaultEngine\": \"nope\"}"))
                .hasMessage("plugin 'extractor': defaultEngine 'nope' is not an engine "
                        + "(known: vllm, sglang, trtllm-serve, triton-tensorrt-llm)");
        assertThatThrownBy(() -> fromParameters("{\"engineConfigs\": [{\"name\": \"a\", \"kvUsageSpec\": \"kv{x=\"}]}"))
                .hasMessage("plugin 'extractor': engine 'a': kvUsageSpec: invalid metric spec 'kv{x=': "
                        + "missing label value at position 5");
        assertThatThrownBy(() -> fromParameters("{\"engineLabel\": \"x\"}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown parameter 'engineLabel'");
        assertThatThrownBy(() -> fromParameters("{\"engineConfigs\": [{\"name\": \"a\", \"queueSpec\": \"q\"}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown parameter 'queueSpec'");
    }

    @Test
    void mappingReadsOnlyItsOwnSeries() {
        EngineMapping vllm = CoreMetricsExtractor.create().engines().get("vllm");
        assertThat(vllm.sampleNames()).containsExactly("vllm:num_requests_waiting", "vllm:num_requests_running",
                "vllm:kv_cache_usage_perc", "vllm:lora_requests_info", "vllm:cache_config_info");
        assertThat(vllm.parser().selectedNames()).contains(java.util.Set.copyOf(vllm.sampleNames()));
        EngineMapping triton = CoreMetricsExtractor.create().engines().get("triton-tensorrt-llm");
        assertThat(triton.sampleNames()).containsExactly("nv_trt_llm_request_metrics",
                "nv_trt_llm_kv_cache_block_metrics");
    }
}
