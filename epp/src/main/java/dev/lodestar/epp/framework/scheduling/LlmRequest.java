package dev.lodestar.epp.framework.scheduling;

import java.util.Map;
import java.util.Objects;

/**
 * One inference request as the scheduler sees it.
 *
 * @param requestId        {@code x-request-id} (generated when the client sent none)
 * @param incomingModel    the model the client named (empty for bodies that are not parsed)
 * @param targetModel      the model after the rewrite header and InferenceModelRewrite rules
 * @param body             the parsed body
 * @param headers          request headers, lower-case names, control headers removed
 * @param priority         from the InferenceObjective named by the request (0 when none); below 0 = sheddable
 * @param fairnessId       flow-control fairness key ({@code default-flow} when absent)
 * @param requestSizeBytes size of the body as received
 */
public record LlmRequest(String requestId, String incomingModel, String targetModel, LlmRequestBody body,
                         Map<String, String> headers, int priority, String fairnessId, long requestSizeBytes) {
    public static final String DEFAULT_FAIRNESS_ID = "default-flow";

    public LlmRequest {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(incomingModel, "incomingModel");
        Objects.requireNonNull(targetModel, "targetModel");
        Objects.requireNonNull(body, "body");
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        fairnessId = fairnessId == null || fairnessId.isEmpty() ? DEFAULT_FAIRNESS_ID : fairnessId;
    }

    /** Whether the request may be shed when the pool is saturated (priority below 0). */
    public boolean sheddable() {
        return priority < 0;
    }

    /** A header value by lower-case name, or null. */
    public String header(String name) {
        return headers.get(name);
    }
}
