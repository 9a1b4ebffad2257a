package dev.lodestar.epp.plugins.weightedrandompicker;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ScoredEndpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightedRandomPickerTest {
    private final Endpoint a = Fixtures.endpoint("10.0.0.1", 8000);
    private final Endpoint b = Fixtures.endpoint("10.0.0.2", 8000);
    private final Endpoint c = Fixtures.endpoint("10.0.0.3", 8000);
    private final Endpoint zero = Fixtures.endpoint("10.0.0.4", 8000);

    private static WeightedRandomPicker picker(int max, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new WeightedRandomPicker("p", max, () -> random);
    }

    private Map<Endpoint, Integer> firstPicks(WeightedRandomPicker picker, List<ScoredEndpoint> scored, int trials) {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < trials; i++) {
            counts.merge(picker.pick(new CycleState(), scored).targetEndpoints().getFirst(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void picksInProportionToScoreAndNeverAZeroScore() {
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 0.5), new ScoredEndpoint(b, 1.0),
                new ScoredEndpoint(c, 1.5), new ScoredEndpoint(zero, 0));

        Map<Endpoint, Integer> counts = firstPicks(picker(1, 2024), scored, 6000);

        // With one pick, A-Res chooses endpoint i with probability score_i / sum = 1/6, 2/6, 3/6.
        assertThat(counts).doesNotContainKey(zero);
        assertThat(counts.get(a)).isBetween(880, 1120);
        assertThat(counts.get(b)).isBetween(1850, 2150);
        assertThat(counts.get(c)).isBetween(2830, 3170);
    }

    @Test
    void zeroScoresComeAfterEveryPositiveScore() {
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(zero, 0), new ScoredEndpoint(a, 0.01),
                new ScoredEndpoint(b, 0.02));
        WeightedRandomPicker picker = picker(3, 8);

        for (int i = 0; i < 200; i++) {
            List<Endpoint> targets = picker.pick(new CycleState(), scored).targetEndpoints();
            assertThat(targets).hasSize(3);
            assertThat(targets.getLast()).isEqualTo(zero);
        }
    }

    @Test
    void allZeroScoresPickUniformly() {
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 0), new ScoredEndpoint(b, 0),
                new ScoredEndpoint(c, 0));

        Map<Endpoint, Integer> counts = firstPicks(picker(1, 77), scored, 3000);

        assertThat(counts).containsOnlyKeys(a, b, c);
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(880, 1120));
    }

    @Test
    void parameters() {
        assertThat(((WeightedRandomPicker) WeightedRandomPicker.FACTORY.create("p", Fixtures.noParams(),
                Fixtures.HANDLE)).maxNumOfEndpoints()).isEqualTo(1);
        assertThat(((WeightedRandomPicker) Fixtures.create(WeightedRandomPicker.FACTORY, "p",
                "{\"maxNumOfEndpoints\":4}")).maxNumOfEndpoints()).isEqualTo(4);
        assertThatThrownBy(() -> Fixtures.create(WeightedRandomPicker.FACTORY, "p", "{\"weights\":[1]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'weights'");
    }
}
