package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.util.List;
import java.util.function.ToIntFunction;

/** Scores that rank each candidate against the others, as several of GIE's distribution scorers do. */
public final class RelativeScores {
    private RelativeScores() {
    }

    /**
     * {@code (max - value) / (max - min)} over the candidates, so the lowest value scores 1.0 and the highest
     * 0.0; 1.0 for every candidate when all values are equal.
     */
    public static double[] lowerIsBetter(List<Endpoint> endpoints, ToIntFunction<EndpointMetrics> metric) {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        int[] values = new int[endpoints.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = metric.applyAsInt(endpoints.get(i).metrics());
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
        }
        double[] scores = new double[values.length];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = max == min ? 1.0 : (double) ((long) max - values[i]) / ((long) max - min);
        }
        return scores;
    }
}
