package dev.lodestar.epp.plugins.randompicker;

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

class RandomPickerTest {
    private final Endpoint a = Fixtures.endpoint("10.0.0.1", 8000);
    private final Endpoint b = Fixtures.endpoint("10.0.0.2", 8000);
    private final Endpoint c = Fixtures.endpoint("10.0.0.3", 8000);

    private static RandomPicker picker(int max, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new RandomPicker("p", max, () -> random);
    }

    @Test
    void ignoresScoresAndPicksUniformly() {
        RandomPicker picker = picker(1, 11);
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 100), new ScoredEndpoint(b, 0),
                new ScoredEndpoint(c, 0));
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            counts.merge(picker.pick(new CycleState(), scored).targetEndpoints().getFirst(), 1, Integer::sum);
        }

        assertThat(counts).containsOnlyKeys(a, b, c);
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(880, 1120));
    }

    @Test
    void returnsAtMostNDistinctEndpoints() {
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 1), new ScoredEndpoint(b, 1),
                new ScoredEndpoint(c, 1));

        assertThat(picker(2, 5).pick(new CycleState(), scored).targetEndpoints()).hasSize(2).doesNotHaveDuplicates();
        assertThat(picker(5, 5).pick(new CycleState(), scored).targetEndpoints()).containsExactlyInAnyOrder(a, b, c);
    }

    @Test
    void everyPermutationOfTheShuffleIsEquallyLikely() {
        SplittableRandom random = new SplittableRandom(99);
        Map<List<String>, Integer> permutations = new HashMap<>();
        for (int i = 0; i < 6000; i++) {
            permutations.merge(RandomPicker.shuffled(List.of("x", "y", "z"), random), 1, Integer::sum);
        }

        assertThat(permutations).hasSize(6);
        assertThat(permutations.values()).allSatisfy(count -> assertThat(count).isBetween(880, 1120));
    }

    @Test
    void parameters() {
        assertThat(((RandomPicker) RandomPicker.FACTORY.create("p", Fixtures.noParams(), Fixtures.HANDLE))
                .maxNumOfEndpoints()).isEqualTo(1);
        assertThat(((RandomPicker) Fixtures.create(RandomPicker.FACTORY, "p", "{\"maxNumOfEndpoints\":2}"))
                .maxNumOfEndpoints()).isEqualTo(2);
        assertThatThrownBy(() -> Fixtures.create(RandomPicker.FACTORY, "p", "{\"seed\":2}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'seed'");
    }
}
