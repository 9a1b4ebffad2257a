package dev.lodestar.epp.datalayer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EngineConfigTest {
    @Test
    void absentSpecsAreEmptyAndSpecsAreTrimmed() {
        EngineConfig config = new EngineConfig(" custom ", " q ", null, null, null, null, null, null, null, null);

        assertThat(config).isEqualTo(new EngineConfig("custom", "q", "", "", "", "", "", "", "", ""));
    }

    @Test
    void theBuiltInEnginesComeInUpstreamsOrder() {
        assertThat(EngineConfig.BUILT_IN).extracting(EngineConfig::name)
                .containsExactly("vllm", "sglang", "trtllm-serve", "triton-tensorrt-llm");
        assertThat(EngineConfig.DEFAULT_BLOCK_SIZE_LABEL).isEqualTo("block_size");
        assertThat(EngineConfig.DEFAULT_NUM_BLOCKS_LABEL).isEqualTo("num_gpu_blocks");
    }

    @Test
    void everyBuiltInSpecCompiles() {
        for (EngineConfig engine : EngineConfig.BUILT_IN) {
            assertThat(EngineMapping.compile(engine).sampleNames()).isNotEmpty();
        }
    }
}
