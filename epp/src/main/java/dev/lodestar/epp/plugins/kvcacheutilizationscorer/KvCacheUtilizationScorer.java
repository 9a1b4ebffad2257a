package dev.lodestar.epp.plugins.kvcacheutilizationscorer;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;

import java.util.List;

/** Prefers endpoints with free KV cache: score = 1 - KV-cache usage (0..1). */
public final class KvCacheUtilizationScorer implements Scorer {
    public static final String TYPE = "kv-cache-utilization-scorer";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new KvCacheUtilizationScorer(name);
    };

    /** The scorer takes no parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public KvCacheUtilizationScorer(String name) {
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
        double[] scores = new double[endpoints.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = 1 - endpoints.get(i).metrics().kvCacheUsagePercent();
        }
        return scores;
    }
}
