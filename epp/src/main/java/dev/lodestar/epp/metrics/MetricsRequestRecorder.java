package dev.lodestar.epp.metrics;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.requestcontrol.RequestRecorder;

import java.time.Duration;
import java.util.Objects;

/** Records the request path's events as GIE's EPP metrics. */
public final class MetricsRequestRecorder implements RequestRecorder {
    private final EppMetrics metrics;

    public MetricsRequestRecorder(EppMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void requestRouted(String model, String targetModel, int priority, long requestBytes) {
        metrics.requestReceived(model, targetModel, priority);
        metrics.requestSize(model, targetModel, requestBytes);
    }

    @Override
    public void requestFailed(String model, String targetModel, ErrorCode code) {
        metrics.requestError(model, targetModel, code);
    }

    @Override
    public void requestRunning(String model) {
        metrics.runningRequestStarted(model);
    }

    @Override
    public void requestFinished(String model) {
        metrics.runningRequestEnded(model);
    }

    @Override
    public void usage(String model, String targetModel, Usage usage) {
        metrics.usage(model, targetModel, usage);
    }

    @Override
    public void responseComplete(String model, String targetModel, long latencyNanos, long responseBytes,
                                 int completionTokens) {
        Duration latency = Duration.ofNanos(latencyNanos);
        metrics.requestDuration(model, targetModel, latency);
        metrics.normalizedTimePerOutputToken(model, targetModel, latency, completionTokens);
        metrics.responseSize(model, targetModel, responseBytes);
    }

    @Override
    public void schedulingAttempt(String targetModel, long nanos, boolean success, String podName, String namespace,
                                  int port) {
        metrics.schedulerDuration(nanos);
        if (success) {
            metrics.schedulerAttemptSucceeded(targetModel, podName, namespace, port);
        } else {
            metrics.schedulerAttemptFailed(targetModel);
        }
    }

    @Override
    public void modelRewrite(String rewriteName, String model, String targetModel) {
        metrics.modelRewriteDecision(rewriteName, model, targetModel);
    }
}
