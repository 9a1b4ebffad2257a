package dev.lodestar.epp.plugins.loadawarescorer;

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
 * llm-d's absolute queue scorer: an empty waiting queue scores 0.5, a queue of {@code threshold} or more
 * scores 0, and in between 0.5 x (1 - queue / threshold). The ceiling is 0.5 by design (an empty queue
 * does not prove spare capacity), so its pull is about half its weight.
 */
public final class LoadAwareScorer implements Scorer {
    public static final String TYPE = "load-aware-scorer";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new LoadAwareScorer(name, PluginParameters.decode(name, parameters, Params.class).threshold());

    private static final System.Logger LOG = System.getLogger(LoadAwareScorer.class.getName());
    private static final double IDLE_SCORE = 0.5;

    /**
     * @param threshold waiting-queue length at which the score reaches 0; default 128, and like upstream a
     *                  value below 1 is replaced by the default (with a warning)
     */
    public record Params(Integer threshold) {
        public static final int DEFAULT_THRESHOLD = 128;

        public Params {
            if (threshold == null) {
                threshold = DEFAULT_THRESHOLD;
            } else if (threshold < 1) {
                LOG.log(System.Logger.Level.WARNING, "load-aware-scorer: threshold {0} should be positive, using the default {1}",
                        threshold, DEFAULT_THRESHOLD);
                threshold = DEFAULT_THRESHOLD;
            }
        }
    }

    private final TypedName typedName;
    private final double threshold;

    public LoadAwareScorer(String name, int threshold) {
        this.typedName = new TypedName(TYPE, name);
        this.threshold = new Params(threshold).threshold();
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.DISTRIBUTION;
    }

    public int threshold() {
        return (int) threshold;
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        double[] scores = new double[endpoints.size()];
        for (int i = 0; i < scores.length; i++) {
            double waiting = endpoints.get(i).metrics().waitingQueueSize();
            scores[i] = waiting == 0 ? IDLE_SCORE : IDLE_SCORE * (1.0 - Math.min(waiting, threshold) / threshold);
        }
        return scores;
    }
}
