package dev.lodestar.epp.plugins.tokenload;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.lodestar.epp.plugins.PluginTestFixtures.completion;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenLoadScorerTest {
    private static TokenLoadScorer scorer(String json) {
        return (TokenLoadScorer) TokenLoadScorer.FACTORY.create("token-load-scorer", params(json), handle());
    }

    private static Endpoint withTokens(String name, String producer, long tokens) {
        Endpoint endpoint = endpoint(name);
        endpoint.putAttribute(InFlightLoad.key(producer), new InFlightLoad(tokens, 1));
        return endpoint;
    }

    @Test
    void isADistributionScorerRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("token-load-scorer")).isPresent();
        TokenLoadScorer scorer = scorer("{}");
        assertThat(scorer.category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(scorer.consumes()).containsExactly("InFlightLoadDataKey/inflight-load-producer");
    }

    @Test
    void scoreFallsLinearlyToZeroAtTheThreshold() {
        double[] scores = scorer("{\"queueThresholdTokens\": 1000}").score(new CycleState(), completion("r", "m", "p"),
                List.of(withTokens("idle", "", 0), withTokens("quarter", "", 250), withTokens("over", "", 2000),
                        endpoint("no-attribute")));
        assertThat(scores).containsExactly(1.0, 0.75, 0.0, 1.0);
    }

    @Test
    void defaultThresholdIsFourMebiTokens() {
        assertThat(scorer("{}").score(new CycleState(), completion("r", "m", "p"),
                List.of(withTokens("half", "", 2_097_152)))).containsExactly(0.5);
        assertThat(TokenLoadScorer.Params.DEFAULTS.queueThresholdTokens()).isEqualTo(4_194_304L);
        assertThat(scorer("{\"queueThresholdTokens\": 0}")
                .score(new CycleState(), completion("r", "m", "p"), List.of(withTokens("half", "", 2_097_152))))
                .containsExactly(0.5);
    }

    @Test
    void readsTheNamedProducer() {
        TokenLoadScorer scorer = scorer("{\"queueThresholdTokens\": 100, \"inFlightLoadProducerName\": \"mine\"}");
        assertThat(scorer.score(new CycleState(), completion("r", "m", "p"),
                List.of(withTokens("a", "mine", 50), withTokens("b", "", 50)))).containsExactly(0.5, 1.0);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> scorer("{\"queueThresholdTokens\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("queueThresholdTokens");
        assertThatThrownBy(() -> scorer("{\"threshold\": 5}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'threshold'");
    }
}
