package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Optional;

/**
 * InferenceObjective v1alpha2 ({@code inference.networking.x-k8s.io} or {@code llm-d.ai}): the priority
 * of requests that name it in the {@code x-gateway-inference-objective} header. Unset priority means 0;
 * below 0 means the request may be shed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InferenceObjective(String apiVersion, String kind, ObjectMeta metadata, Spec spec, Status status)
        implements InferenceObject {
    public static final String KIND = "InferenceObjective";
    /** The CRD has no CEL rules. */
    public static final List<CelRule> RULES = List.of();

    public InferenceObjective(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {
        this(apiVersion, kind, metadata, spec, null);
    }

    @Override
    public PoolRef poolRef() {
        return spec == null ? null : spec.poolRef();
    }

    /** The priority requests get: the spec's, or 0 when unset. */
    public int effectivePriority() {
        return spec == null || spec.priority() == null ? 0 : spec.priority();
    }

    /** What the API server would refuse in this object; empty when it would accept it. */
    @Override
    public List<Violation> validate() {
        Violations violations = new Violations();
        if (spec != null) {
            if (violations.required("spec.poolRef", spec.poolRef())) {
                spec.poolRef().validate("spec.poolRef", violations);
            }
        }
        if (status != null) {
            violations.conditions("status.conditions", status.conditions(), 8);
        }
        return violations.toList();
    }

    /**
     * @param priority higher is more important; negative allowed; optional
     * @param poolRef  required; {@code group} defaults to {@value PoolRef#DEFAULT_GROUP}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(Integer priority, PoolRef poolRef) {
        public Spec {
            poolRef = poolRef == null ? null : poolRef.withDefaults(PoolRef.DEFAULT_GROUP);
        }

        public Optional<Integer> priorityValue() {
            return Optional.ofNullable(priority);
        }
    }

    /** @param conditions at most 8, unique by type; defaults to one {@code Ready/Unknown/Pending} condition */
    public record Status(List<Condition> conditions) {
        public Status {
            conditions = conditions == null ? List.of(Condition.pending("Ready")) : List.copyOf(conditions);
        }
    }
}
