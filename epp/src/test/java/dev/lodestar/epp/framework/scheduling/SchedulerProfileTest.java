package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.FirstPicker;
import dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.FixedScorer;
import dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.KeepFilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.endpoint;
import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.pods;
import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SchedulerProfileTest {
    private final List<Endpoint> candidates = List.of(endpoint("a", 0, 0), endpoint("b", 1, 0), endpoint("c", 2, 0));
    private final List<String> timings = new ArrayList<>();
    private final PluginTimer timer = (point, plugin, nanos) -> {
        assertThat(nanos).isNotNegative();
        timings.add(point + ":" + plugin.name());
    };

    private ProfileRunResult run(SchedulerProfile profile) {
        return profile.run(new CycleState(), request("r"), candidates, timer);
    }

    private static List<Double> totals(FirstPicker picker) {
        return picker.seen.getLast().stream().map(ScoredEndpoint::score).toList();
    }

    @Test
    void filtersNarrowTheCandidatesInOrder() {
        KeepFilter notA = new KeepFilter("not-a", e -> !e.metadata().podName().equals("a"));
        KeepFilter notC = new KeepFilter("not-c", e -> !e.metadata().podName().equals("c"));
        FixedScorer scorer = new FixedScorer("s", 0.5);
        FirstPicker picker = new FirstPicker("p");

        ProfileRunResult result = run(new SchedulerProfile("default", List.of(notA, notC),
                List.of(new WeightedScorer(scorer, 1)), picker));

        assertThat(notA.seen).containsExactly(List.of("a", "b", "c"));
        assertThat(notC.seen).containsExactly(List.of("b", "c"));
        assertThat(scorer.seen).containsExactly(List.of("b"));
        assertThat(pods(result.targetEndpoints())).containsExactly("b");
        assertThat(result.failed()).isFalse();
    }

    @Test
    void whenAFilterLeavesNothingTheProfileFailsAndNothingElseRuns() {
        KeepFilter none = new KeepFilter("none", e -> false);
        KeepFilter after = new KeepFilter("after", e -> true);
        FixedScorer scorer = new FixedScorer("s");
        FirstPicker picker = new FirstPicker("p");

        ProfileRunResult result = run(new SchedulerProfile("default", List.of(none, after),
                List.of(new WeightedScorer(scorer, 1)), picker));

        assertThat(result).isSameAs(ProfileRunResult.FAILED);
        assertThat(result.failed()).isTrue();
        assertThat(after.seen).isEmpty();
        assertThat(scorer.seen).isEmpty();
        assertThat(picker.seen).isEmpty();
        assertThat(timings).containsExactly("Filter:none");
    }

    @Test
    void theTotalIsTheWeightedSumOfScoresNotNormalisedByTheWeights() {
        FirstPicker picker = new FirstPicker("p");

        run(new SchedulerProfile("default", List.of(), List.of(
                new WeightedScorer(new FixedScorer("s1", 1.0, 0.5, 0.0), 2),
                new WeightedScorer(new FixedScorer("s2", 1.0, 0.2, 0.9), 3)), picker));

        // a: 2*1 + 3*1 = 5; b: 2*0.5 + 3*0.2 = 1.6; c: 0 + 3*0.9 = 2.7
        assertThat(pods(picker.seen.getLast().stream().map(ScoredEndpoint::endpoint).toList()))
                .containsExactly("a", "b", "c");
        List<Double> totals = totals(picker);
        assertThat(totals.get(0)).isCloseTo(5.0, within(1e-12));
        assertThat(totals.get(1)).isCloseTo(1.6, within(1e-12));
        assertThat(totals.get(2)).isCloseTo(2.7, within(1e-12));
    }

    @Test
    void scoresAreClampedToZeroOneAndNaNCountsAsZero() {
        FirstPicker picker = new FirstPicker("p");

        run(new SchedulerProfile("default", List.of(), List.of(
                new WeightedScorer(new FixedScorer("wild", 1.5, -0.5, Double.NaN), 2)), picker));

        assertThat(totals(picker)).containsExactly(2.0, 0.0, 0.0);
    }

    @Test
    void aZeroWeightScorerRunsButCountsForNothingAndWithoutScorersEveryTotalIsZero() {
        FirstPicker weighted = new FirstPicker("p");
        FixedScorer ignored = new FixedScorer("ignored", 1, 1, 1);
        run(new SchedulerProfile("default", List.of(), List.of(new WeightedScorer(ignored, 0)), weighted));
        assertThat(ignored.seen).hasSize(1);
        assertThat(totals(weighted)).containsExactly(0.0, 0.0, 0.0);

        FirstPicker unscored = new FirstPicker("p");
        run(new SchedulerProfile("default", List.of(), List.of(), unscored));
        assertThat(totals(unscored)).containsExactly(0.0, 0.0, 0.0);
    }

    @Test
    void aScorerThatReturnsTheWrongNumberOfScoresIsAnError() {
        SchedulerProfile profile = new SchedulerProfile("default", List.of(),
                List.of(new WeightedScorer(new FixedScorer("short", 1.0, 1.0), 1)), new FirstPicker("p"));

        assertThatThrownBy(() -> run(profile)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("short").hasMessageContaining("2 scores for 3 endpoints");
    }

    @Test
    void everyPluginCallIsTimedUnderItsExtensionPoint() {
        run(new SchedulerProfile("default", List.of(new KeepFilter("f1", e -> true), new KeepFilter("f2", e -> true)),
                List.of(new WeightedScorer(new FixedScorer("s1", 0, 0, 0), 1),
                        new WeightedScorer(new FixedScorer("s2", 0, 0, 0), 1)), new FirstPicker("p")));

        assertThat(timings).containsExactly("Filter:f1", "Filter:f2", "Scorer:s1", "Scorer:s2", "Picker:p");
    }

    @Test
    void theProfileKeepsItsPluginsAsConfigured() {
        KeepFilter filter = new KeepFilter("f", e -> true);
        WeightedScorer scorer = new WeightedScorer(new FixedScorer("s"), 2.5);
        FirstPicker picker = new FirstPicker("p");
        List<Filter> filters = new ArrayList<>(List.of(filter));

        SchedulerProfile profile = new SchedulerProfile("decode", filters, List.of(scorer), picker);
        filters.clear();

        assertThat(profile.name()).isEqualTo("decode");
        assertThat(profile.filters()).containsExactly(filter);
        assertThat(profile.scorers()).containsExactly(scorer);
        assertThat(profile.picker()).isSameAs(picker);
    }

    @Test
    void weightsMustBeFiniteAndNotNegative() {
        FixedScorer scorer = new FixedScorer("s");
        for (double weight : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> new WeightedScorer(scorer, weight)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("finite number >= 0");
        }
        assertThat(new WeightedScorer(scorer, 0).weight()).isZero();
    }
}
