package dev.lodestar.epp.plugins.activerequest;

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
import static org.assertj.core.api.Assertions.within;

class ActiveRequestScorerTest {
    private static ActiveRequestScorer scorer(String json) {
        return (ActiveRequestScorer) ActiveRequestScorer.FACTORY.create("active-request-scorer", params(json), handle());
    }

    private static Endpoint withRequests(String name, long requests) {
        Endpoint endpoint = endpoint(name);
        endpoint.putAttribute(InFlightLoad.key(""), new InFlightLoad(0, requests));
        return endpoint;
    }

    private static double[] score(ActiveRequestScorer scorer, Endpoint... endpoints) {
        return scorer.score(new CycleState(), completion("r", "m", "p"), List.of(endpoints));
    }

    @Test
    void isADistributionScorerRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("active-request-scorer")).isPresent();
        assertThat(scorer("{}").category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(scorer("{}").consumes()).containsExactly("InFlightLoadDataKey/inflight-load-producer");
    }

    @Test
    void busierEndpointsScoreLowerRelativeToTheBusiest() {
        double[] scores = score(scorer("{}"),
                withRequests("idle", 0), withRequests("half", 2), withRequests("busiest", 4), endpoint("unknown"));
        assertThat(scores).containsExactly(1.0, 0.5, 0.0, 1.0);
    }

    @Test
    void idleThresholdAndMaxBusyScoreOpenAGap() {
        double[] scores = score(scorer("{\"idleThreshold\": 2, \"maxBusyScore\": 0.5}"),
                withRequests("a", 0), withRequests("b", 2), withRequests("c", 4), withRequests("d", 3));
        assertThat(scores[0]).isEqualTo(1.0);
        assertThat(scores[1]).isEqualTo(1.0);
        assertThat(scores[2]).isEqualTo(0.0);
        assertThat(scores[3]).isCloseTo(0.125, within(1e-12));
    }

    @Test
    void allIdleScoresOne() {
        assertThat(score(scorer("{}"), withRequests("a", 0), withRequests("b", 0))).containsExactly(1.0, 1.0);
    }

    @Test
    void deprecatedRequestTimeoutIsAcceptedAndIgnored() {
        assertThat(score(scorer("{\"requestTimeout\": \"2m\"}"), withRequests("a", 1), withRequests("b", 2)))
                .containsExactly(0.5, 0.0);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> scorer("{\"maxBusyScore\": 1.5}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("maxBusyScore");
        assertThatThrownBy(() -> scorer("{\"idleThreshold\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("idleThreshold");
        assertThatThrownBy(() -> scorer("{\"idle\": 1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'idle'");
    }
}
