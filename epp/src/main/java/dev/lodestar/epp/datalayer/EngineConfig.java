package dev.lodestar.epp.datalayer;

import java.util.List;

/**
 * Where one model-server engine publishes the metrics the EPP reads: one {@link MetricSpec} string per
 * field, "" for a field the engine does not publish. Field names are upstream's {@code engineConfigs}
 * entries of {@code core-metrics-extractor}.
 *
 * @param name                    engine name, matched against the endpoint's engine-type label
 * @param queuedRequestsSpec      waiting requests (gauge)
 * @param runningRequestsSpec     running requests (gauge)
 * @param kvUsageSpec             KV-cache use, 0..1 (gauge)
 * @param loraSpec                LoRA info series ({@code running_lora_adapters}, {@code waiting_lora_adapters},
 *                                {@code max_lora} labels; the value is the series' creation time)
 * @param cacheInfoSpec           cache geometry as labels of an info series
 * @param cacheBlockSizeLabelName the block-size label of {@code cacheInfoSpec}; "" = {@code block_size}
 * @param cacheNumBlocksLabelName the block-count label of {@code cacheInfoSpec}; "" = {@code num_gpu_blocks}
 * @param cacheBlockSizeSpec      block size as a gauge value (engines without an info series)
 * @param cacheNumBlocksSpec      block count as a gauge value
 */
public record EngineConfig(String name, String queuedRequestsSpec, String runningRequestsSpec, String kvUsageSpec,
                           String loraSpec, String cacheInfoSpec, String cacheBlockSizeLabelName,
                           String cacheNumBlocksLabelName, String cacheBlockSizeSpec, String cacheNumBlocksSpec) {
    public static final String DEFAULT_BLOCK_SIZE_LABEL = "block_size";
    public static final String DEFAULT_NUM_BLOCKS_LABEL = "num_gpu_blocks";

    public static final EngineConfig VLLM = new EngineConfig("vllm", "vllm:num_requests_waiting",
            "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:lora_requests_info", "vllm:cache_config_info",
            "", "", "", "");
    public static final EngineConfig SGLANG = new EngineConfig("sglang", "sglang:num_queue_reqs",
            "sglang:num_running_reqs", "sglang:token_usage", "", "sglang:cache_config_info", "page_size", "num_pages",
            "", "");
    public static final EngineConfig TRTLLM_SERVE = new EngineConfig("trtllm-serve", "trtllm_num_requests_waiting",
            "trtllm_num_requests_running", "trtllm_kv_cache_utilization", "", "", "", "",
            "trtllm_kv_cache_tokens_per_block", "trtllm_kv_cache_max_blocks");
    public static final EngineConfig TRITON_TENSORRT_LLM = new EngineConfig("triton-tensorrt-llm",
            "nv_trt_llm_request_metrics{request_type=waiting}", "nv_trt_llm_request_metrics{request_type=scheduled}",
            "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}", "", "", "", "",
            "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}",
            "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=max}");

    /** The engines every extractor knows unless its configuration replaces them, in upstream's order. */
    public static final List<EngineConfig> BUILT_IN = List.of(VLLM, SGLANG, TRTLLM_SERVE, TRITON_TENSORRT_LLM);

    public EngineConfig {
        name = orEmpty(name);
        queuedRequestsSpec = orEmpty(queuedRequestsSpec);
        runningRequestsSpec = orEmpty(runningRequestsSpec);
        kvUsageSpec = orEmpty(kvUsageSpec);
        loraSpec = orEmpty(loraSpec);
        cacheInfoSpec = orEmpty(cacheInfoSpec);
        cacheBlockSizeLabelName = orEmpty(cacheBlockSizeLabelName);
        cacheNumBlocksLabelName = orEmpty(cacheNumBlocksLabelName);
        cacheBlockSizeSpec = orEmpty(cacheBlockSizeSpec);
        cacheNumBlocksSpec = orEmpty(cacheNumBlocksSpec);
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value.trim();
    }
}
