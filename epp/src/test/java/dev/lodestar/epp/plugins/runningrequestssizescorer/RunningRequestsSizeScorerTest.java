package dev.lodestar.epp.plugins.runningrequestssizescorer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class RunningRequestsSizeScorerTest {
    private final RunningRequestsSizeScorer scorer = new RunningRequestsSizeScorer("running");

    private static Endpoint running(String ip, int running, int waiting) {
        return Fixtures.endpoint(ip, EndpointMetrics.builder().runningRequestsSize(running).waitingQueueSize(waiting)
                .build());
    }

    @Test
    void scoresMinMaxNormalisedRunningRequestsIgnoringTheQueue() {
        List<Endpoint> endpoints = List.of(running("10.0.0.1", 2, 50), running("10.0.0.2", 10, 0),
                running("10.0.0.3", 6, 0));

        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), endpoints))
                .containsExactly(new double[] {1.0, 0.0, 0.5}, within(1e-12));
    }

    @Test
    void equalCountsAllScoreOne() {
        assertThat(scorer.score(new CycleState(), Fixtures.request("r"),
                List.of(running("10.0.0.1", 7, 0), running("10.0.0.2", 7, 3)))).containsExactly(1.0, 1.0);
    }

    @Test
    void isADistributionScorerWithoutParameters() {
        assertThat(scorer.category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(RunningRequestsSizeScorer.FACTORY.create("r", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("running-requests-size-scorer", "r"));
        assertThatThrownBy(() -> Fixtures.create(RunningRequestsSizeScorer.FACTORY, "r", "{\"max\":3}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
