package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Objects;

/**
 * InferenceModel {@code inference.networking.x-k8s.io/v1alpha2} (GIE up to v0.5.x), the predecessor of
 * InferenceObjective and InferenceModelRewrite: requests whose body names {@code modelName} get the
 * criticality and are rewritten to one of the weighted {@code targetModels}. See the README for how it
 * maps onto its successors.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InferenceModel(String apiVersion, String kind, ObjectMeta metadata, Spec spec, Status status) {
    public static final String API_VERSION = "inference.networking.x-k8s.io/v1alpha2";
    public static final String KIND = "InferenceModel";

    public static final CelRule MODEL_NAME_IMMUTABLE = new CelRule("spec.modelName", "self == oldSelf",
            "modelName is immutable");
    public static final CelRule WEIGHTS_ALL_OR_NONE = new CelRule("spec.targetModels",
            "self.all(model, has(model.weight)) || self.all(model, !has(model.weight))",
            "Weights should be set for all models, or none of the models.");
    public static final List<CelRule> RULES = List.of(MODEL_NAME_IMMUTABLE, WEIGHTS_ALL_OR_NONE);

    /** What the API server would refuse when this object is created; empty when valid. */
    public List<Violation> validate() {
        Violations violations = new Violations();
        if (spec != null) {
            spec.validate(violations);
        }
        if (status != null) {
            violations.conditions("status.conditions", status.conditions(), 8);
        }
        return violations.toList();
    }

    /** What the API server would refuse when this object replaces {@code old}: also the transition rules. */
    public List<Violation> validateUpdate(InferenceModel old) {
        Violations violations = new Violations();
        validate().forEach(violation -> violations.add(violation.field(), violation.message()));
        // A transition rule runs only when the field is set in both the old and the new object.
        if (spec != null && old.spec() != null && spec.modelName() != null && old.spec().modelName() != null
                && !spec.modelName().equals(old.spec().modelName())) {
            violations.rule("spec.modelName", MODEL_NAME_IMMUTABLE);
        }
        return violations.toList();
    }

    /**
     * @param modelName    required, at most 256 characters, immutable; the body {@code model} it serves
     * @param criticality  optional, no default; consumers treat unset as {@code Standard}
     * @param targetModels at most 10; weights on all or none
     * @param poolRef      required; {@code group} defaults to {@value PoolRef#V1ALPHA2_GROUP}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(String modelName, Criticality criticality,
                       @JsonInclude(JsonInclude.Include.NON_EMPTY) List<TargetModel> targetModels, PoolRef poolRef) {
        public Spec {
            targetModels = targetModels == null ? List.of() : List.copyOf(targetModels);
            poolRef = poolRef == null ? null : poolRef.withDefaults(PoolRef.V1ALPHA2_GROUP);
        }

        /** The criticality consumers use: the spec's, {@code Standard} when unset. */
        public Criticality effectiveCriticality() {
            return criticality == null ? Criticality.STANDARD : criticality;
        }

        void validate(Violations violations) {
            if (violations.required("spec.modelName", modelName)) {
                violations.string("spec.modelName", modelName, 0, 256, null);
            }
            violations.items("spec.targetModels", targetModels, 0, 10);
            for (int i = 0; i < targetModels.size(); i++) {
                targetModels.get(i).validate("spec.targetModels[" + i + "]", violations);
            }
            long weighted = targetModels.stream().map(TargetModel::weight).filter(Objects::nonNull).count();
            if (weighted != 0 && weighted != targetModels.size()) {
                violations.rule("spec.targetModels", WEIGHTS_ALL_OR_NONE);
            }
            if (violations.required("spec.poolRef", poolRef)) {
                poolRef.validate("spec.poolRef", violations);
            }
        }
    }

    /**
     * How requests fare when the pool is short of capacity, mapped onto InferenceObjective priorities (see
     * the README for the reasons behind the numbers).
     */
    public enum Criticality {
        /** Never shed; served before Standard. */
        @JsonProperty("Critical") CRITICAL(1),
        /** Never shed. */
        @JsonProperty("Standard") STANDARD(0),
        /** Shed first when the pool is saturated. */
        @JsonProperty("Sheddable") SHEDDABLE(-1);

        private final int priority;

        Criticality(int priority) {
            this.priority = priority;
        }

        /** The InferenceObjective priority with the same effect in today's EPP. */
        public int priority() {
            return priority;
        }
    }

    /**
     * @param name   required, at most 253 characters: the model or LoRA adapter name on the model server
     * @param weight optional, 1-1,000,000; share = weight / sum of weights
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TargetModel(String name, Integer weight) {
        void validate(String field, Violations violations) {
            if (violations.required(field + ".name", name)) {
                violations.string(field + ".name", name, 0, 253, null);
            }
            violations.number(field + ".weight", weight, 1, 1_000_000);
        }
    }

    /** @param conditions at most 8, unique by type; defaults to one {@code Ready/Unknown/Pending} condition */
    public record Status(List<Condition> conditions) {
        public Status {
            conditions = conditions == null ? List.of(Condition.pending("Ready")) : List.copyOf(conditions);
        }
    }
}
