package dev.lodestar.epp.framework.scheduling;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A named scheduling profile: filters in order, weighted scorers, one picker. Running it narrows the
 * candidates with the filters, sums weight x clamped score per endpoint, and lets the picker choose.
 */
public final class SchedulerProfile {
    private final String name;
    private final List<Filter> filters;
    private final List<WeightedScorer> scorers;
    private final Picker picker;

    public SchedulerProfile(String name, List<Filter> filters, List<WeightedScorer> scorers, Picker picker) {
        this.name = Objects.requireNonNull(name, "name");
        this.filters = List.copyOf(filters);
        this.scorers = List.copyOf(scorers);
        this.picker = Objects.requireNonNull(picker, "picker");
    }

    public String name() {
        return name;
    }

    public List<Filter> filters() {
        return filters;
    }

    public List<WeightedScorer> scorers() {
        return scorers;
    }

    public Picker picker() {
        return picker;
    }

    /** Runs the profile; {@link ProfileRunResult#FAILED} when the filters leave no endpoint. */
    public ProfileRunResult run(CycleState state, LlmRequest request, List<Endpoint> candidates, PluginTimer timer) {
        List<Endpoint> endpoints = candidates;
        for (Filter filter : filters) {
            long start = System.nanoTime();
            endpoints = filter.filter(state, request, endpoints);
            timer.record("Filter", filter.typedName(), System.nanoTime() - start);
            if (endpoints.isEmpty()) {
                return ProfileRunResult.FAILED;
            }
        }
        double[] totals = new double[endpoints.size()];
        for (WeightedScorer weighted : scorers) {
            long start = System.nanoTime();
            double[] scores = weighted.scorer().score(state, request, endpoints);
            timer.record("Scorer", weighted.scorer().typedName(), System.nanoTime() - start);
            if (scores.length != totals.length) {
                throw new IllegalStateException("scorer " + weighted.scorer().typedName() + " returned "
                        + scores.length + " scores for " + totals.length + " endpoints");
            }
            for (int i = 0; i < totals.length; i++) {
                totals[i] += weighted.weight() * clamp(scores[i]);
            }
        }
        List<ScoredEndpoint> scored = new ArrayList<>(endpoints.size());
        for (int i = 0; i < totals.length; i++) {
            scored.add(new ScoredEndpoint(endpoints.get(i), totals[i]));
        }
        long start = System.nanoTime();
        ProfileRunResult result = picker.pick(state, scored);
        timer.record("Picker", picker.typedName(), System.nanoTime() - start);
        return result;
    }

    private static double clamp(double score) {
        if (Double.isNaN(score) || score < 0) {
            return 0;
        }
        return Math.min(score, 1);
    }
}
