package dev.lodestar.epp.plugins.runningrequestssizescorer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.RelativeScores;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;

import java.util.List;

/**
 * Prefers endpoints running fewer requests, relative to the other candidates: score =
 * (maxRunning - running) / (maxRunning - minRunning) over the candidates, 1.0 for all when every count is equal.
 */
public final class RunningRequestsSizeScorer implements Scorer {
    public static final String TYPE = "running-requests-size-scorer";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new RunningRequestsSizeScorer(name);
    };

    /** The scorer takes no parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public RunningRequestsSizeScorer(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.DISTRIBUTION;
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        return RelativeScores.lowerIsBetter(endpoints, EndpointMetrics::runningRequestsSize);
    }
}
