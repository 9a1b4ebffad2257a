package dev.lodestar.epp.framework.scheduling;

import java.util.Objects;

/** A scorer in a profile with its weight (1.0 when the configuration names none). */
public record WeightedScorer(Scorer scorer, double weight) {
    public WeightedScorer {
        Objects.requireNonNull(scorer, "scorer");
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("scorer weight must be a finite number >= 0, got " + weight);
        }
    }
}
