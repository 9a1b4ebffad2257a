package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.plugin.TypedName;

/**
 * Receives each request's disaggregation decision, for the {@code disagg_decision_total} counters
 * ({@code disagg-profile-handler}) or the deprecated {@code pd_decision_total} ones ({@code pd-profile-handler}).
 */
public interface DecisionRecorder {
    DecisionRecorder NONE = new DecisionRecorder() {
        @Override
        public void disaggDecision(TypedName handler, String modelName, DecisionType decision) {
        }

        @Override
        public void pdDecision(TypedName handler, String modelName, DecisionType decision) {
        }
    };

    /** The model label of the decision counters: the target model, "unknown" when empty (upstream). */
    static String modelLabel(String targetModel) {
        return targetModel.isEmpty() ? "unknown" : targetModel;
    }

    void disaggDecision(TypedName handler, String modelName, DecisionType decision);

    void pdDecision(TypedName handler, String modelName, DecisionType decision);

    /** Plugins that report decisions; the server connects them to its metrics. */
    interface Source {
        void recordDecisionsWith(DecisionRecorder recorder);
    }
}
