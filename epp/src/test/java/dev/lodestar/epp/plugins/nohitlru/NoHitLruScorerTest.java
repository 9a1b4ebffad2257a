package dev.lodestar.epp.plugins.nohitlru;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.lodestar.epp.plugins.PluginTestFixtures.completion;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.key;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static dev.lodestar.epp.plugins.PluginTestFixtures.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NoHitLruScorerTest {
    private int requests;

    private static NoHitLruScorer scorer(String json) {
        return (NoHitLruScorer) NoHitLruScorer.FACTORY.create("no-hit-lru-scorer", params(json), handle());
    }

    /** Candidates with the given prefix matches (0 = miss). */
    private static List<Endpoint> candidates(Map<String, Integer> matches) {
        List<Endpoint> endpoints = new ArrayList<>();
        matches.forEach((name, matched) -> {
            Endpoint endpoint = endpoint(name);
            endpoint.putAttribute(PrefixCacheMatchInfo.key(""), new PrefixCacheMatchInfo(matched, 4, 16));
            endpoints.add(endpoint);
        });
        return endpoints;
    }

    private static List<Endpoint> cold(String... names) {
        Map<String, Integer> matches = new LinkedHashMap<>();
        for (String name : names) {
            matches.put(name, 0);
        }
        return candidates(matches);
    }

    /** Scores, then schedules onto {@code pick}; returns the scores. */
    private double[] schedule(NoHitLruScorer scorer, List<Endpoint> endpoints, String pick) {
        LlmRequest request = completion("r" + requests++, "m", "p");
        double[] scores = scorer.score(new CycleState(), request, endpoints);
        Endpoint target = endpoints.stream().filter(e -> e.metadata().key().name().equals(pick)).findFirst()
                .orElseThrow();
        scorer.preRequest(request, result(target), new HashMap<>());
        return scores;
    }

    @Test
    void isADistributionScorerRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("no-hit-lru-scorer")).isPresent();
        assertThat(scorer("{}").category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(scorer("{}").consumes()).containsExactly("PrefixCacheMatchInfoDataKey/approx-prefix-cache-producer");
    }

    @Test
    void coldRequestOnAFreshLruRanksCandidatesInOrder() {
        assertThat(schedule(scorer("{}"), cold("a", "b", "c"), "a")).containsExactly(1.0, 0.5, 0.0);
    }

    @Test
    void neverUsedEndpointsComeFirstThenLeastRecentlyUsed() {
        NoHitLruScorer scorer = scorer("{}");
        schedule(scorer, cold("a", "b", "c"), "a");
        schedule(scorer, cold("a", "b", "c"), "b");
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("a"), key("b"));

        // c never served a cold request: rank 0; a (oldest) rank 1; b rank 2.
        assertThat(schedule(scorer, cold("a", "b", "c"), "c")).containsExactly(0.5, 0.0, 1.0);
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("a"), key("b"), key("c"));
    }

    @Test
    void warmRequestScoresNeutralAndLeavesTheLruAlone() {
        NoHitLruScorer scorer = scorer("{}");
        Map<String, Integer> matches = new LinkedHashMap<>();
        matches.put("a", 0);
        matches.put("b", 2);
        assertThat(schedule(scorer, candidates(matches), "a")).containsExactly(0.5, 0.5);
        assertThat(scorer.leastRecentlyUsedFirst()).isEmpty();
    }

    @Test
    void missingMatchInfoCountsAsCold() {
        NoHitLruScorer scorer = scorer("{}");
        assertThat(schedule(scorer, List.of(endpoint("a"), endpoint("b")), "b")).containsExactly(1.0, 0.0);
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("b"));
    }

    @Test
    void singleCandidateScoresOne() {
        assertThat(schedule(scorer("{}"), cold("a"), "a")).containsExactly(1.0);
    }

    @Test
    void lruKeepsAtMostLruSizeEndpoints() {
        NoHitLruScorer scorer = scorer("{\"lruSize\": 2}");
        schedule(scorer, cold("a", "b", "c"), "a");
        schedule(scorer, cold("a", "b", "c"), "b");
        schedule(scorer, cold("a", "b", "c"), "c");
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("b"), key("c"));
        schedule(scorer, cold("a", "b", "c"), "b");
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("c"), key("b"));
    }

    @Test
    void lruPositionsCountEndpointsThatAreNotCandidates() {
        NoHitLruScorer scorer = scorer("{}");
        schedule(scorer, cold("x", "y"), "x");
        schedule(scorer, cold("x", "y"), "y");
        // a and b are new: ranks 0 and 1; y sits at LRU position 1 -> rank 3 of n-1 = 2 -> clamped to 0.
        assertThat(schedule(scorer, cold("a", "b", "y"), "a")).containsExactly(1.0, 0.5, 0.0);
    }

    @Test
    void prefillTargetIsMarkedToo() {
        NoHitLruScorer scorer = scorer("{}");
        List<Endpoint> endpoints = cold("decode", "prefill-pod");
        LlmRequest request = completion("pd", "m", "p");
        scorer.score(new CycleState(), request, endpoints);
        Map<String, Endpoint> picks = new LinkedHashMap<>();
        picks.put("decode", endpoints.get(0));
        picks.put("prefill", endpoints.get(1));
        scorer.preRequest(request, result(picks), new HashMap<>());
        assertThat(scorer.leastRecentlyUsedFirst()).containsExactly(key("decode"), key("prefill-pod"));
    }

    @Test
    void parametersHaveUpstreamDefaults() {
        NoHitLruScorer.Params defaults = NoHitLruScorer.Params.DEFAULTS;
        assertThat(defaults.lruSize()).isEqualTo(1024);
        assertThat(defaults.prefixPluginType()).isEqualTo("prefix-cache-scorer");
        assertThat(defaults.prefixPluginName()).isEqualTo("prefix-cache-scorer");
        assertThat(scorer("{\"prefixPluginType\": \"prefix-cache-scorer\", \"prefixPluginName\": \"cache-scorer\","
                + " \"prefixMatchInfoProducerName\": \"precise\"}").consumes())
                .containsExactly("PrefixCacheMatchInfoDataKey/precise");
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> scorer("{\"lruSize\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lruSize");
        assertThatThrownBy(() -> scorer("{\"size\": 1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'size'");
    }
}
