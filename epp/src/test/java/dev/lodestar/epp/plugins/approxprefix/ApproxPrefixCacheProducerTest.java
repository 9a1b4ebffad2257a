package dev.lodestar.epp.plugins.approxprefix;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.lodestar.epp.plugins.PluginTestFixtures.completion;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static dev.lodestar.epp.plugins.PluginTestFixtures.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApproxPrefixCacheProducerTest {
    /** 64 characters: 4 blocks of 4 tokens (16 characters). */
    private static final String PROMPT = "0123456789abcdef".repeat(4);
    private static final ApproxPrefixCacheProducer.Params FOUR_TOKEN_BLOCKS =
            new ApproxPrefixCacheProducer.Params(false, 4, null, null, null, null);

    private final List<ApproxPrefixCacheProducer> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(ApproxPrefixCacheProducer::close);
    }

    private ApproxPrefixCacheProducer producer(ApproxPrefixCacheProducer.Params params) {
        ApproxPrefixCacheProducer producer = ApproxPrefixCacheProducer.create("approx-prefix-cache-producer", params,
                handle());
        opened.add(producer);
        return producer;
    }

    private static PrefixCacheMatchInfo info(Endpoint endpoint) {
        return endpoint.attribute(PrefixCacheMatchInfo.key("")).orElseThrow();
    }

    /** Runs PrepareData for {@code request} over fresh endpoint views, then PreRequest picking {@code pick}. */
    private static Map<String, PrefixCacheMatchInfo> schedule(ApproxPrefixCacheProducer producer, LlmRequest request,
                                                              String pick, Map<String, EndpointMetrics> pool) {
        List<Endpoint> candidates = new ArrayList<>();
        pool.forEach((name, metrics) -> candidates.add(endpoint(name, metrics)));
        producer.prepareRequestData(request, candidates);
        Map<String, PrefixCacheMatchInfo> infos = new HashMap<>();
        Endpoint picked = null;
        for (Endpoint candidate : candidates) {
            infos.put(candidate.metadata().key().name(), info(candidate));
            if (candidate.metadata().key().name().equals(pick)) {
                picked = candidate;
            }
        }
        producer.preRequest(request, result(picked), new HashMap<>());
        producer.index().flush().join();
        return infos;
    }

    private static Map<String, EndpointMetrics> pool(String... names) {
        Map<String, EndpointMetrics> pool = new LinkedHashMap<>();
        for (String name : names) {
            pool.put(name, EndpointMetrics.EMPTY);
        }
        return pool;
    }

    @Test
    void isRegisteredUnderItsUpstreamType() {
        assertThat(ApproxPrefixCacheProducer.TYPE).isEqualTo("approx-prefix-cache-producer");
        assertThat(PluginRegistry.builtIn().factory(ApproxPrefixCacheProducer.TYPE)).isPresent();
    }

    @Test
    void secondRequestWithTheSamePrefixMatchesThePickedEndpointOnly() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);

        Map<String, PrefixCacheMatchInfo> first = schedule(producer, completion("r1", "m", PROMPT), "a", pool("a", "b"));
        assertThat(first.get("a")).isEqualTo(new PrefixCacheMatchInfo(0, 4, 4));

        // Same first 2 blocks, different last 2.
        String sharedHalf = PROMPT.substring(0, 32) + "X".repeat(32);
        Map<String, PrefixCacheMatchInfo> second = schedule(producer, completion("r2", "m", sharedHalf), "b",
                pool("a", "b"));
        assertThat(second.get("a")).isEqualTo(new PrefixCacheMatchInfo(2, 4, 4));
        assertThat(second.get("b")).isEqualTo(new PrefixCacheMatchInfo(0, 4, 4));
        assertThat(producer.indexedBlocks()).isEqualTo(8);
    }

    @Test
    void anotherModelOrCacheSaltDoesNotMatch() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        schedule(producer, completion("r1", "m", PROMPT), "a", pool("a"));

        assertThat(schedule(producer, completion("r2", "other", PROMPT), "a", pool("a")).get("a").matchBlocks())
                .isZero();
        LlmRequest salted = completion("r3", "m", PROMPT);
        salted.body().payload().orElseThrow().put("cache_salt", "tenant-1");
        assertThat(schedule(producer, salted, "a", pool("a")).get("a").matchBlocks()).isZero();
    }

    @Test
    void trailingPartialBlockAndShortInputsAreNotHashed() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        assertThat(schedule(producer, completion("r1", "m", PROMPT + "tail"), "a", pool("a")).get("a").totalBlocks())
                .isEqualTo(4);
        assertThat(schedule(producer, completion("r2", "m", "short"), "a", pool("a")).get("a"))
                .isEqualTo(new PrefixCacheMatchInfo(0, 0, 4));
    }

    @Test
    void autoTuneTakesBlockSizeFromTheFirstCandidate() {
        ApproxPrefixCacheProducer producer = producer(ApproxPrefixCacheProducer.Params.DEFAULTS);
        Map<String, EndpointMetrics> pool = new LinkedHashMap<>();
        pool.put("a", EndpointMetrics.builder().cacheBlockSize(2).build());
        pool.put("b", EndpointMetrics.builder().cacheBlockSize(8).build());

        // 2 tokens = 8 characters: 64 characters are 8 blocks.
        assertThat(schedule(producer, completion("r1", "m", PROMPT), "a", pool).get("b"))
                .isEqualTo(new PrefixCacheMatchInfo(0, 8, 2));
        // Without the metric the configured 16 tokens (64 characters) apply.
        assertThat(schedule(producer, completion("r2", "m", PROMPT), "a", pool("a")).get("a"))
                .isEqualTo(new PrefixCacheMatchInfo(0, 1, 16));
    }

    @Test
    void autoTuneOffIgnoresTheMetric() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        Map<String, EndpointMetrics> pool = Map.of("a", EndpointMetrics.builder().cacheBlockSize(2).build());
        assertThat(schedule(producer, completion("r1", "m", PROMPT), "a", pool).get("a").blockSizeTokens())
                .isEqualTo(4);
    }

    @Test
    void maxPrefixTokensToMatchOverridesTheBlockCap() {
        ApproxPrefixCacheProducer tokensCap = producer(new ApproxPrefixCacheProducer.Params(false, 4, null, 256, 8, null));
        assertThat(schedule(tokensCap, completion("r1", "m", PROMPT), "a", pool("a")).get("a").totalBlocks())
                .isEqualTo(2);
        ApproxPrefixCacheProducer blocksCap = producer(new ApproxPrefixCacheProducer.Params(false, 4, null, 3, null, null));
        assertThat(schedule(blocksCap, completion("r1", "m", PROMPT), "a", pool("a")).get("a").totalBlocks())
                .isEqualTo(3);
    }

    @Test
    void lruCapacityComesFromCacheNumBlocksWithAutoTune() {
        // 8-character blocks (CacheBlockSize 2) and room for 2 of them: the 8 blocks evict all but the last 2,
        // so the walk stops at the first block.
        ApproxPrefixCacheProducer producer = producer(new ApproxPrefixCacheProducer.Params(true, 4, null, null, null, 100));
        Map<String, EndpointMetrics> small = Map.of("a", EndpointMetrics.builder().cacheBlockSize(2).cacheNumBlocks(2).build());
        schedule(producer, completion("r1", "m", PROMPT), "a", small);
        assertThat(producer.indexedBlocks()).isEqualTo(2);
        assertThat(schedule(producer, completion("r2", "m", PROMPT), "a", small).get("a").matchBlocks()).isZero();

        assertThat(producer.lruCapacity(EndpointMetrics.EMPTY)).isEqualTo(100);
        ApproxPrefixCacheProducer noTune = producer(new ApproxPrefixCacheProducer.Params(false, 4, null, null, null, null));
        assertThat(noTune.lruCapacity(EndpointMetrics.builder().cacheNumBlocks(2).build())).isEqualTo(31250);
    }

    @Test
    void prefillProfileTargetIsRecordedToo() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        LlmRequest request = completion("r1", "m", PROMPT);
        Endpoint decode = endpoint("decode");
        Endpoint prefill = endpoint("prefill-pod");
        producer.prepareRequestData(request, List.of(decode, prefill));
        Map<String, Endpoint> picks = new LinkedHashMap<>();
        picks.put("decode", decode);
        picks.put("prefill", prefill);
        producer.preRequest(request, result(picks), new HashMap<>());
        producer.index().flush().join();

        Map<String, PrefixCacheMatchInfo> next = schedule(producer, completion("r2", "m", PROMPT), "decode",
                pool("decode", "prefill-pod", "other"));
        assertThat(next.get("decode").matchBlocks()).isEqualTo(4);
        assertThat(next.get("prefill-pod").matchBlocks()).isEqualTo(4);
        assertThat(next.get("other").matchBlocks()).isZero();
    }

    @Test
    void preRequestWithoutPrepareDataRecordsNothing() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        producer.preRequest(completion("r1", "m", PROMPT), result(endpoint("a")), new HashMap<>());
        producer.index().flush().join();
        assertThat(producer.indexedBlocks()).isZero();
    }

    @Test
    void observerSeesMatchedAndTotalBytesOfThePick() {
        ApproxPrefixCacheProducer producer = producer(FOUR_TOKEN_BLOCKS);
        AtomicLong matched = new AtomicLong(-1);
        AtomicLong total = new AtomicLong(-1);
        producer.observeMatches((m, t) -> {
            matched.set(m);
            total.set(t);
        });
        schedule(producer, completion("r1", "m", PROMPT), "a", pool("a"));
        schedule(producer, completion("r2", "m", PROMPT.substring(0, 48) + "zzzzzzzzzzzzzzzz"), "a", pool("a"));
        assertThat(matched.get()).isEqualTo(48);
        assertThat(total.get()).isEqualTo(64);
    }

    @Test
    void producesMatchInfoUnderItsOwnName() {
        ApproxPrefixCacheProducer producer = ApproxPrefixCacheProducer.create("gpu", FOUR_TOKEN_BLOCKS, handle());
        opened.add(producer);
        assertThat(producer.produces()).containsExactly("PrefixCacheMatchInfoDataKey/gpu");
        Endpoint a = endpoint("a");
        producer.prepareRequestData(completion("r1", "m", PROMPT), List.of(a));
        assertThat(a.attribute(PrefixCacheMatchInfo.key("gpu"))).isPresent();
        assertThat(a.attribute(PrefixCacheMatchInfo.key(""))).isEmpty();
    }

    @Test
    void parametersHaveUpstreamDefaults() {
        ApproxPrefixCacheProducer.Params defaults = decode("{}");
        assertThat(defaults).isEqualTo(new ApproxPrefixCacheProducer.Params(true, 16, 0, 256, 0, 31250));
        assertThat(decode("{\"lruCapacityPerServer\": 0}").lruCapacityPerServer()).isEqualTo(31250);
        assertThat(decode("{\"blockSize\": 64}").blockSizeTokens()).isEqualTo(16);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> decode("{\"blockSize\": 64, \"blockSizeTokens\": 0}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("blockSize (64) is deprecated");
        assertThatThrownBy(() -> decode("{\"autoTune\": false, \"blockSizeTokens\": 0}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("autoTune is false");
        assertThatThrownBy(() -> decode("{\"maxPrefixTokensToMatch\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("maxPrefixTokensToMatch must be >= 0");
        assertThatThrownBy(() -> decode("{\"hashBlockSize\": 64}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'hashBlockSize'");
        assertThatThrownBy(() -> decode("{\"blockSizeTokens\": \"sixteen\"}"))
                .isInstanceOf(InvalidConfigException.class);
    }

    private ApproxPrefixCacheProducer.Params decode(String json) {
        ApproxPrefixCacheProducer producer = (ApproxPrefixCacheProducer) ApproxPrefixCacheProducer.FACTORY
                .create("p", params(json), handle());
        opened.add(producer);
        return producer.params();
    }
}
