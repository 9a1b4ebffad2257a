package dev.lodestar.epp.plugins.maxscorepicker;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ScoredEndpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MaxScorePickerTest {
    private final Endpoint a = Fixtures.endpoint("10.0.0.1", 8000);
    private final Endpoint b = Fixtures.endpoint("10.0.0.2", 8000);
    private final Endpoint c = Fixtures.endpoint("10.0.0.3", 8000);
    private final Endpoint d = Fixtures.endpoint("10.0.0.4", 8000);

    private static MaxScorePicker picker(int max, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return new MaxScorePicker("p", max, () -> random);
    }

    @Test
    void picksTheHighestScore() {
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 1.5), new ScoredEndpoint(b, 1.9),
                new ScoredEndpoint(c, 0.8));

        assertThat(picker(1, 1).pick(new CycleState(), scored).targetEndpoints()).containsExactly(b);
    }

    @Test
    void returnsTheTopNHighestFirstAndLeavesTheInputAlone() {
        List<ScoredEndpoint> scored = new ArrayList<>(List.of(new ScoredEndpoint(a, 0.1), new ScoredEndpoint(b, 0.9),
                new ScoredEndpoint(c, 0.5), new ScoredEndpoint(d, 0.7)));
        List<ScoredEndpoint> before = List.copyOf(scored);

        assertThat(picker(3, 7).pick(new CycleState(), scored).targetEndpoints()).containsExactly(b, d, c);
        assertThat(picker(10, 7).pick(new CycleState(), scored).targetEndpoints()).containsExactly(b, d, c, a);
        assertThat(scored).isEqualTo(before);
    }

    @Test
    void tiesBreakUniformlyAtRandom() {
        MaxScorePicker picker = picker(1, 42);
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 2.0), new ScoredEndpoint(b, 2.0),
                new ScoredEndpoint(c, 2.0), new ScoredEndpoint(d, 1.0));
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            counts.merge(picker.pick(new CycleState(), scored).targetEndpoints().getFirst(), 1, Integer::sum);
        }

        assertThat(counts).doesNotContainKey(d);
        // 1000 expected each; the bounds are about 4.6 standard deviations wide.
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(880, 1120));
    }

    @Test
    void aHigherScoreLaterResetsTheTies() {
        MaxScorePicker picker = picker(1, 5);
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(d, 1.0), new ScoredEndpoint(c, 1.0),
                new ScoredEndpoint(a, 2.0), new ScoredEndpoint(b, 2.0));
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < 2000; i++) {
            counts.merge(picker.pick(new CycleState(), scored).targetEndpoints().getFirst(), 1, Integer::sum);
        }

        assertThat(counts).containsOnlyKeys(a, b);
        assertThat(counts.get(a)).isBetween(900, 1100);
    }

    @Test
    void nothingToPickFromPicksNothing() {
        assertThat(picker(1, 1).pick(new CycleState(), List.of()).targetEndpoints()).isEmpty();
        assertThat(picker(2, 1).pick(new CycleState(), List.of()).targetEndpoints()).isEmpty();
    }

    @Test
    void tiedSecondPlacesAlsoBreakRandomly() {
        MaxScorePicker picker = picker(2, 3);
        List<ScoredEndpoint> scored = List.of(new ScoredEndpoint(a, 3.0), new ScoredEndpoint(b, 1.0),
                new ScoredEndpoint(c, 1.0));
        Map<Endpoint, Integer> seconds = new HashMap<>();
        for (int i = 0; i < 2000; i++) {
            List<Endpoint> targets = picker.pick(new CycleState(), scored).targetEndpoints();
            assertThat(targets.getFirst()).isEqualTo(a);
            seconds.merge(targets.get(1), 1, Integer::sum);
        }

        assertThat(seconds.get(b)).isBetween(900, 1100);
        assertThat(seconds.get(c)).isBetween(900, 1100);
    }

    @Test
    void parameters() {
        assertThat(((MaxScorePicker) MaxScorePicker.FACTORY.create("p", Fixtures.noParams(), Fixtures.HANDLE))
                .maxNumOfEndpoints()).isEqualTo(1);
        assertThat(((MaxScorePicker) Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxNumOfEndpoints\":3}"))
                .maxNumOfEndpoints()).isEqualTo(3);
        // Upstream falls back to the default for values below 1 rather than failing.
        assertThat(((MaxScorePicker) Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxNumOfEndpoints\":0}"))
                .maxNumOfEndpoints()).isEqualTo(1);
        assertThat(((MaxScorePicker) Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxNumOfEndpoints\":-2}"))
                .maxNumOfEndpoints()).isEqualTo(1);
        assertThatThrownBy(() -> Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxEndpoints\":2}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'maxEndpoints'");
        assertThatThrownBy(() -> Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxNumOfEndpoints\":1.5}"))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> Fixtures.create(MaxScorePicker.FACTORY, "p", "{\"maxNumOfEndpoints\":\"two\"}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
