package dev.lodestar.epp.plugins.loraaffinityscorer;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;

import java.util.List;

/**
 * Prefers endpoints that have the request's target model (a LoRA adapter) loaded or can load it, checked
 * in this order: 1.0 when the adapter is active; 0.8 when the server has a free adapter slot
 * (active + waiting adapters &lt; {@code max_lora}); 0.6 when the adapter is waiting to load; else 0.
 * A server reporting no {@code max_lora} (0) therefore never scores 0.8.
 */
public final class LoraAffinityScorer implements Scorer {
    public static final String TYPE = "lora-affinity-scorer";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new LoraAffinityScorer(name);
    };

    public static final double ACTIVE = 1.0;
    public static final double FREE_SLOT = 0.8;
    public static final double WAITING = 0.6;
    public static final double UNSUITABLE = 0.0;

    /** The scorer takes no parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public LoraAffinityScorer(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.AFFINITY;
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        String adapter = request.targetModel();
        double[] scores = new double[endpoints.size()];
        for (int i = 0; i < scores.length; i++) {
            EndpointMetrics metrics = endpoints.get(i).metrics();
            if (metrics.activeModels().containsKey(adapter)) {
                scores[i] = ACTIVE;
            } else if (metrics.activeModels().size() + metrics.waitingModels().size() < metrics.maxActiveModels()) {
                scores[i] = FREE_SLOT;
            } else if (metrics.waitingModels().containsKey(adapter)) {
                scores[i] = WAITING;
            } else {
                scores[i] = UNSUITABLE;
            }
        }
        return scores;
    }
}
