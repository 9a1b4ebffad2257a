package dev.lodestar.simulator;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Errors the simulator can inject ({@code --failure-types}), with llm-d-inference-sim's statuses and
 * messages. {@code %s} in a message is the base model name.
 */
public enum FailureType {
    RATE_LIMIT("rate_limit", 429, null,
            "Rate limit reached for %s in organization org-xxx on requests per min (RPM): Limit 3, Used 3, Requested 1."),
    INVALID_API_KEY("invalid_api_key", 401, null, "Incorrect API key provided."),
    CONTEXT_LENGTH("context_length", 400, "messages",
            "This model's maximum context length is 4096 tokens. However, your messages resulted in 4500 tokens."),
    SERVER_ERROR("server_error", 503, null, "The server is overloaded or not ready yet."),
    INVALID_REQUEST("invalid_request", 400, "model", "Invalid request: missing required parameter 'model'."),
    MODEL_NOT_FOUND("model_not_found", 404, "model", "The model '%s-nonexistent' does not exist");

    private final String flagValue;
    private final int status;
    private final String param;
    private final String messageFormat;

    FailureType(String flagValue, int status, String param, String messageFormat) {
        this.flagValue = flagValue;
        this.status = status;
        this.param = param;
        this.messageFormat = messageFormat;
    }

    String flagValue() {
        return flagValue;
    }

    ApiError toError(String model) {
        return new ApiError(status, String.format(messageFormat, model), param);
    }

    static FailureType parse(String value) {
        for (FailureType type : values()) {
            if (type.flagValue.equals(value.trim())) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown failure type '" + value + "', valid types are "
                + Arrays.stream(values()).map(t -> t.flagValue).collect(Collectors.joining(", ")));
    }
}
