package dev.lodestar.epp.plugins.queuescorer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.kvcacheutilizationscorer.KvCacheUtilizationScorer;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class QueueScorerTest {
    private final QueueScorer scorer = new QueueScorer("queue");

    @Test
    void scoresMinMaxNormalisedQueueLength() {
        List<Endpoint> endpoints = List.of(Fixtures.endpoint("10.0.0.1", 3, 0), Fixtures.endpoint("10.0.0.2", 0, 0),
                Fixtures.endpoint("10.0.0.3", 10, 0), Fixtures.endpoint("10.0.0.4", 5, 0));

        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), endpoints))
                .containsExactly(new double[] {0.7, 1.0, 0.0, 0.5}, within(1e-12));
    }

    @Test
    void equalQueuesAllScoreOne() {
        List<Endpoint> endpoints = List.of(Fixtures.endpoint("10.0.0.1", 4, 0), Fixtures.endpoint("10.0.0.2", 4, 0));

        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), endpoints)).containsExactly(1.0, 1.0);
        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), List.of(Fixtures.endpoint("10.0.0.1", 9, 0))))
                .containsExactly(1.0);
        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), List.of())).isEmpty();
    }

    @Test
    void gieHermeticCaseSelectLowerQueueAndKvCache() {
        // test/integration/epp hermetic "select lower queue and kv cache": P0(3, .2) P1(0, .1) P2(10, .2)
        // queue 0.7 / 1.0 / 0.0 + kv 0.8 / 0.9 / 0.8 -> 1.5 / 1.9 / 0.8: P1 = 192.168.1.2.
        Endpoint p0 = Fixtures.endpoint("192.168.1.1", 3, 0.2);
        Endpoint p1 = Fixtures.endpoint("192.168.1.2", 0, 0.1);
        Endpoint p2 = Fixtures.endpoint("192.168.1.3", 10, 0.2);
        SplittableRandom random = new SplittableRandom(1);
        SchedulerProfile profile = new SchedulerProfile("default", List.of(),
                List.of(new WeightedScorer(scorer, 1), new WeightedScorer(new KvCacheUtilizationScorer("kv"), 1)),
                new MaxScorePicker("picker", 1, () -> random));

        assertThat(profile.run(new CycleState(), Fixtures.request("r"), List.of(p0, p1, p2), PluginTimer.NONE)
                .targetEndpoints()).containsExactly(p1);
    }

    @Test
    void isADistributionScorerWithoutParameters() {
        assertThat(scorer.category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(QueueScorer.FACTORY.create("q", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("queue-scorer", "q"));
        assertThatThrownBy(() -> Fixtures.create(QueueScorer.FACTORY, "q", "{\"threshold\":3}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'threshold'");
    }
}
