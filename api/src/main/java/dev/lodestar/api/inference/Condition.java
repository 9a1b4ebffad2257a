package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;

/**
 * A Kubernetes {@code metav1.Condition}.
 *
 * @param observedGeneration optional, at least 0
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Condition(String type, Status status, Long observedGeneration, Instant lastTransitionTime,
                        String reason, String message) {

    /** The condition every CRD here defaults {@code status.conditions} to. */
    static Condition pending(String type) {
        return new Condition(type, Status.UNKNOWN, null, Instant.EPOCH, "Pending", "Waiting for controller");
    }

    public enum Status {
        @JsonProperty("True") TRUE,
        @JsonProperty("False") FALSE,
        @JsonProperty("Unknown") UNKNOWN
    }

    void validate(String field, Violations violations) {
        violations.required(field + ".type", type);
        violations.string(field + ".type", type, 0, 316, Violations.CONDITION_TYPE);
        violations.required(field + ".status", status);
        violations.number(field + ".observedGeneration", observedGeneration, 0, Long.MAX_VALUE);
        violations.required(field + ".lastTransitionTime", lastTransitionTime);
        violations.required(field + ".reason", reason);
        violations.string(field + ".reason", reason, 1, 1024, Violations.CONDITION_REASON);
        violations.required(field + ".message", message);
        violations.string(field + ".message", message, 0, 32768, null);
    }
}
