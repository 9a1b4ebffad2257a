package dev.lodestar.epp.plugins.loadawarescorer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LoadAwareScorerTest {
    @Test
    void scoresHalfForAnEmptyQueueDownToZeroAtTheThreshold() {
        LoadAwareScorer scorer = new LoadAwareScorer("load", 128);

        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), List.of(Fixtures.endpoint("10.0.0.1", 0, 0),
                Fixtures.endpoint("10.0.0.2", 1, 0), Fixtures.endpoint("10.0.0.3", 64, 0),
                Fixtures.endpoint("10.0.0.4", 96, 0), Fixtures.endpoint("10.0.0.5", 128, 0),
                Fixtures.endpoint("10.0.0.6", 500, 0))))
                .containsExactly(new double[] {0.5, 0.5 * 127 / 128, 0.25, 0.125, 0.0, 0.0}, within(1e-12));
    }

    @Test
    void scoresEachEndpointOnItsOwnQueue() {
        LoadAwareScorer scorer = new LoadAwareScorer("load", 10);

        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), List.of(Fixtures.endpoint("10.0.0.1", 5, 0))))
                .containsExactly(new double[] {0.25}, within(1e-12));
    }

    @Test
    void parameters() {
        LoadAwareScorer byDefault = (LoadAwareScorer) LoadAwareScorer.FACTORY.create("l", Fixtures.noParams(),
                Fixtures.HANDLE);
        assertThat(byDefault.threshold()).isEqualTo(128);
        assertThat(byDefault.category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(byDefault.typedName()).isEqualTo(new TypedName("load-aware-scorer", "l"));
        assertThat(((LoadAwareScorer) Fixtures.create(LoadAwareScorer.FACTORY, "l", "{\"threshold\":100}"))
                .threshold()).isEqualTo(100);
        // llm-d replaces a non-positive threshold by the default instead of failing.
        assertThat(((LoadAwareScorer) Fixtures.create(LoadAwareScorer.FACTORY, "l", "{\"threshold\":0}"))
                .threshold()).isEqualTo(128);
        assertThatThrownBy(() -> Fixtures.create(LoadAwareScorer.FACTORY, "l", "{\"queueThreshold\":5}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'queueThreshold'");
        assertThatThrownBy(() -> Fixtures.create(LoadAwareScorer.FACTORY, "l", "{\"threshold\":\"many\"}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
