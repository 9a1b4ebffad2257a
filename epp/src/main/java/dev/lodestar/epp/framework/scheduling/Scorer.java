package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.plugin.Plugin;

import java.util.List;

/**
 * Scores endpoints for a request. Scores are clamped to [0, 1]; a profile's total for an endpoint is the
 * sum of weight x score over its scorers (not normalised by the weights).
 */
public interface Scorer extends Plugin {
    ScorerCategory category();

    /** One score per endpoint, in the order of {@code endpoints}. */
    double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints);
}
