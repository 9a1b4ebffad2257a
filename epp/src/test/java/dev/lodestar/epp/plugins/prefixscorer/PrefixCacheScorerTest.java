package dev.lodestar.epp.plugins.prefixscorer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.lodestar.epp.plugins.PluginTestFixtures.completion;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PrefixCacheScorerTest {
    private static PrefixCacheScorer scorer(String json) {
        return (PrefixCacheScorer) PrefixCacheScorer.FACTORY.create("prefix-cache-scorer", params(json), handle());
    }

    private static Endpoint withMatch(String name, String producer, int matched, int total, int blockSize) {
        Endpoint endpoint = endpoint(name);
        endpoint.putAttribute(PrefixCacheMatchInfo.key(producer), new PrefixCacheMatchInfo(matched, total, blockSize));
        return endpoint;
    }

    private static double[] score(PrefixCacheScorer scorer, Endpoint... endpoints) {
        return scorer.score(new CycleState(), completion("r", "m", "p"), List.of(endpoints));
    }

    @Test
    void isAnAffinityScorerRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("prefix-cache-scorer")).isPresent();
        PrefixCacheScorer scorer = scorer("{}");
        assertThat(scorer.category()).isEqualTo(ScorerCategory.AFFINITY);
        assertThat(scorer.consumes()).containsExactly("PrefixCacheMatchInfoDataKey/approx-prefix-cache-producer");
    }

    @Test
    void defaultScoreIsTheMatchedFraction() {
        double[] scores = score(scorer("{}"),
                withMatch("a", "", 3, 4, 16),
                withMatch("b", "", 0, 4, 16),
                withMatch("c", "", 0, 0, 16),
                endpoint("no-attribute"));
        assertThat(scores).containsExactly(0.75, 0.0, 0.0, 0.0);
    }

    @Test
    void matchLengthWeightBlendsInTheSquaredNormalisedLength() {
        PrefixCacheScorer scorer = scorer("{\"matchLengthWeight\": 0.5, \"matchLengthScaleTokens\": 100}");
        double[] scores = score(scorer,
                withMatch("a", "", 3, 4, 16),
                withMatch("b", "", 8, 10, 16));
        // a: 48 matched tokens -> (0.48)^2 = 0.2304; 0.5 x 0.2304 + 0.5 x 0.75
        assertThat(scores[0]).isCloseTo(0.4902, within(1e-12));
        // b: 128 tokens exceed the scale -> length score 1; 0.5 x 1 + 0.5 x 0.8
        assertThat(scores[1]).isCloseTo(0.9, within(1e-12));
    }

    @Test
    void readsTheNamedProducer() {
        PrefixCacheScorer scorer = scorer("{\"prefixMatchInfoProducerName\": \"gpu\"}");
        assertThat(scorer.producerName()).isEqualTo("gpu");
        assertThat(score(scorer, withMatch("a", "gpu", 1, 2, 16), withMatch("b", "", 2, 2, 16)))
                .containsExactly(0.5, 0.0);
    }

    @Test
    void parametersHaveUpstreamDefaultsAndCarryTheProducerOnes() {
        PrefixCacheScorer.Params params = scorer("{\"blockSizeTokens\": 32, \"lruCapacityPerServer\": 500}").params();
        assertThat(params.matchLengthWeight()).isZero();
        assertThat(params.matchLengthScaleTokens()).isEqualTo(8192);
        assertThat(params.producerParams())
                .isEqualTo(new ApproxPrefixCacheProducer.Params(true, 32, 0, 256, 0, 500));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> scorer("{\"matchLengthWeight\": 1.5}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("matchLengthWeight must be between 0.0 and 1.0");
        assertThatThrownBy(() -> scorer("{\"matchLengthWeight\": 0.5, \"matchLengthScaleTokens\": 0}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("matchLengthScaleTokens must be > 0");
        assertThatThrownBy(() -> scorer("{\"blockSize\": 64, \"blockSizeTokens\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("deprecated");
        assertThatThrownBy(() -> scorer("{\"weight\": 3}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'weight'");
    }

    @Test
    void aScorerWithoutProducerGetsOneBuiltFromItsParameters() {
        PrefixCacheScorer first = scorer("{\"blockSizeTokens\": 8}");
        PrefixCacheScorer last = scorer("{\"blockSizeTokens\": 32}");

        Optional<ApproxPrefixCacheProducer> created =
                PrefixCacheScorer.missingDefaultProducer(List.of(first, last), handle());

        assertThat(created).isPresent();
        try (ApproxPrefixCacheProducer producer = created.get()) {
            assertThat(producer.typedName().name()).isEqualTo("approx-prefix-cache-producer");
            assertThat(producer.params().blockSizeTokens()).isEqualTo(32);
            assertThat(producer.produces()).containsExactlyElementsOf(last.consumes());
        }
    }

    @Test
    void noProducerIsCreatedWhenOneIsConfiguredOrTheScorerNamesAnother() {
        try (ApproxPrefixCacheProducer configured = (ApproxPrefixCacheProducer) ApproxPrefixCacheProducer.FACTORY
                .create("approx-prefix-cache-producer", params("{}"), handle())) {
            List<Plugin> plugins = List.of(scorer("{}"), configured);
            assertThat(PrefixCacheScorer.missingDefaultProducer(plugins, handle())).isEmpty();
        }
        List<Plugin> bound = List.of(scorer("{\"prefixMatchInfoProducerName\": \"precise\"}"));
        assertThat(PrefixCacheScorer.missingDefaultProducer(bound, handle())).isEmpty();
        assertThat(PrefixCacheScorer.missingDefaultProducer(List.of(), handle())).isEmpty();
    }
}
