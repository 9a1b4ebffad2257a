package dev.lodestar.epp.metrics;

import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.plugins.disagg.DecisionRecorder;
import dev.lodestar.epp.plugins.disagg.DecisionType;

import java.util.Objects;

/** Counts the disaggregation handlers' decisions in the EPP's metrics. */
public final class MetricsDecisionRecorder implements DecisionRecorder {
    private final EppMetrics metrics;

    public MetricsDecisionRecorder(EppMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void disaggDecision(TypedName handler, String modelName, DecisionType decision) {
        metrics.disaggDecision(handler.name(), handler.type(), modelName, decision.label());
    }

    @Override
    public void pdDecision(TypedName handler, String modelName, DecisionType decision) {
        metrics.pdDecision(handler.name(), handler.type(), modelName, decision.label());
    }
}
