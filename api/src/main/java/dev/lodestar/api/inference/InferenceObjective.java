package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Optional;

/**
 * InferenceObjective v1alpha2 ({@code inference.networking.x-k8s.io} or {@code llm-d.ai}): the priority
 * of requests that name it in the {@code x-gateway-inference-objective} header. Unset priority means 0;
 * below 0 means the request may be shed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties({"status"})
public record InferenceObjective(String apiVersion, String kind, ObjectMeta metadata, Spec spec)
        implements InferenceObject {
    public static final String KIND = "InferenceObjective";

    @Override
    public PoolRef poolRef() {
        return spec == null ? null : spec.poolRef();
    }

    /** The priority requests get: the spec's, or 0 when unset. */
    public int effectivePriority() {
        return spec == null || spec.priority() == null ? 0 : spec.priority();
    }

    /**
     * @param priority higher is more important; negative allowed; optional
     * @param poolRef  required
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(Integer priority, PoolRef poolRef) {
        public Optional<Integer> priorityValue() {
            return Optional.ofNullable(priority);
        }
    }
}
