package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.requestcontrol.Usage;

/**
 * What the request path reports for metrics (GIE's {@code inference_objective_*} and scheduler series).
 * Implemented by the metrics layer; {@link #NONE} records nothing.
 */
public interface RequestRecorder {
    RequestRecorder NONE = new RequestRecorder() {
    };

    /** The body was read and routed: {@code inference_objective_request_total} and request size. */
    default void requestRouted(String model, String targetModel, int priority, long requestBytes) {
    }

    /** The request failed with {@code code} (once per stream). */
    default void requestFailed(String model, String targetModel, ErrorCode code) {
    }

    default void requestRunning(String model) {
    }

    default void requestFinished(String model) {
    }

    /** Usage the model server reported. */
    default void usage(String model, String targetModel, Usage usage) {
    }

    /** The response ended: latency from request headers to response end, and response size. */
    default void responseComplete(String model, String targetModel, long latencyNanos, long responseBytes,
                                  int completionTokens) {
    }

    /** One scheduling attempt: how long it took and whether it found an endpoint. */
    default void schedulingAttempt(String targetModel, long nanos, boolean success, String podName,
                                   String namespace, int port) {
    }

    /** An InferenceModelRewrite changed the target model. */
    default void modelRewrite(String rewriteName, String model, String targetModel) {
    }
}
