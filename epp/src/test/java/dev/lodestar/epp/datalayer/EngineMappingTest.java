package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading one scrape through an engine's specs; the built-in engines end to end are in CoreMetricsExtractorTest. */
class EngineMappingTest {
    private static final Instant SCRAPED = Instant.parse("2026-03-01T00:00:00Z");

    private static Extraction extract(EngineConfig config, String scrape, EndpointMetrics previous) {
        EngineMapping mapping = EngineMapping.compile(config);
        return mapping.extract(mapping.parser().parse(scrape), previous, SCRAPED);
    }

    private static EngineConfig gauges(String queue, String blockSize, String numBlocks) {
        return new EngineConfig("test", queue, "", "", "", "", "", "", blockSize, numBlocks);
    }

    @Test
    void aFoundFieldReplacesThePreviousValueAndAMissingOneKeepsItWithAnError() {
        EndpointMetrics previous = EndpointMetrics.builder().waitingQueueSize(7).runningRequestsSize(3).build();
        EngineConfig config = new EngineConfig("test", "queue", "running", "", "", "", "", "", "", "");

        Extraction extraction = extract(config, "queue 2\n", previous);

        EndpointMetrics metrics = extraction.metrics().orElseThrow();
        assertThat(metrics.waitingQueueSize()).isEqualTo(2);
        assertThat(metrics.runningRequestsSize()).isEqualTo(3);
        assertThat(metrics.updateTime()).isEqualTo(SCRAPED);
        assertThat(extraction.errors()).containsExactly("metric family \"running\" not found");
    }

    @Test
    void aFamilyWithoutAMatchingSeriesIsReportedBySelector() {
        Extraction extraction = extract(gauges("req{type=\"waiting\"}", "", ""), "req{type=\"running\"} 4\n",
                EndpointMetrics.EMPTY);

        assertThat(extraction.metrics()).isEmpty();
        assertThat(extraction.errors()).containsExactly("no series of req{type=\"waiting\"} found");
    }

    @Test
    void nothingFoundGivesNoMetricsSoTheEndpointAges() {
        Extraction extraction = extract(gauges("queue", "", ""), "other 1\n", EndpointMetrics.EMPTY);

        assertThat(extraction.metrics()).isEmpty();
    }

    @Test
    void capacityIsBlockSizeTimesBlocksCappedAtTheIntRange() {
        EngineConfig config = gauges("", "block_size", "blocks");

        assertThat(extract(config, "block_size 16\nblocks 1000\n", EndpointMetrics.EMPTY).metrics().orElseThrow()
                .kvCacheMaxTokenCapacity()).isEqualTo(16_000);
        assertThat(extract(config, "block_size 65536\nblocks 1000000\n", EndpointMetrics.EMPTY).metrics().orElseThrow()
                .kvCacheMaxTokenCapacity()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void cacheInfoLabelsDefaultToVllmsNamesAndCanBeRenamed() {
        String scrape = "info{block_size=\"16\",num_gpu_blocks=\"100\",page_size=\"32\",num_pages=\"50\"} 1\n";

        EndpointMetrics vllmNames = extract(new EngineConfig("a", "", "", "", "", "info", "", "", "", ""), scrape,
                EndpointMetrics.EMPTY).metrics().orElseThrow();
        EndpointMetrics renamed = extract(new EngineConfig("b", "", "", "", "", "info", "page_size", "num_pages", "", ""),
                scrape, EndpointMetrics.EMPTY).metrics().orElseThrow();

        assertThat(vllmNames.cacheBlockSize()).isEqualTo(16);
        assertThat(vllmNames.cacheNumBlocks()).isEqualTo(100);
        assertThat(renamed.cacheBlockSize()).isEqualTo(32);
        assertThat(renamed.cacheNumBlocks()).isEqualTo(50);
    }

    @Test
    void loraAdapterListsAreTrimmedAndBlankEntriesDropped() {
        EngineConfig config = new EngineConfig("test", "", "", "", "lora", "", "", "", "", "");

        EndpointMetrics metrics = extract(config,
                "lora{running_lora_adapters=\" a , b,,\",waiting_lora_adapters=\"\",max_lora=\"4\"} 100\n",
                EndpointMetrics.EMPTY).metrics().orElseThrow();

        assertThat(metrics.activeModels()).isEqualTo(Map.of("a", 0, "b", 0));
        assertThat(metrics.waitingModels()).isEmpty();
        assertThat(metrics.maxActiveModels()).isEqualTo(4);
    }

    @Test
    void aSpecThatDoesNotParseNamesTheEngineAndTheField() {
        assertThatThrownBy(() -> EngineMapping.compile(gauges("", "bs{", "")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("engine 'test': cacheBlockSizeSpec: invalid metric spec 'bs{'");
    }

    @Test
    void theMappingReadsOnlyTheSeriesItsSpecsName() {
        EngineMapping mapping = EngineMapping.compile(gauges("q{a=\"1\"}", "bs", ""));

        assertThat(mapping.engine()).isEqualTo("test");
        assertThat(mapping.sampleNames()).containsExactly("q", "bs");
        assertThat(mapping.parser().parse("q{a=\"1\"} 3\nunrelated 9\nbs 16\n").samples("unrelated")).isEmpty();
        assertThat(mapping.toString()).contains("queue=q{a=\"1\"}").contains("blockSize=bs").contains("running=-");
    }
}
