package dev.lodestar.epp.plugins.kvcacheutilizationscorer;

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

class KvCacheUtilizationScorerTest {
    private final KvCacheUtilizationScorer scorer = new KvCacheUtilizationScorer("kv");

    @Test
    void scoresFreeKvCache() {
        assertThat(scorer.score(new CycleState(), Fixtures.request("r"), List.of(Fixtures.endpoint("10.0.0.1", 0, 0.0),
                Fixtures.endpoint("10.0.0.2", 0, 0.25), Fixtures.endpoint("10.0.0.3", 0, 0.85),
                Fixtures.endpoint("10.0.0.4", 0, 1.0))))
                .containsExactly(new double[] {1.0, 0.75, 0.15, 0.0}, within(1e-12));
    }

    @Test
    void isADistributionScorerWithoutParameters() {
        assertThat(scorer.category()).isEqualTo(ScorerCategory.DISTRIBUTION);
        assertThat(KvCacheUtilizationScorer.FACTORY.create("kv", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("kv-cache-utilization-scorer", "kv"));
        assertThatThrownBy(() -> Fixtures.create(KvCacheUtilizationScorer.FACTORY, "kv", "{\"x\":1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'x'");
    }
}
