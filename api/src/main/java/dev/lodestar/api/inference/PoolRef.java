package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A reference to an InferencePool in the same namespace. The API server fills in {@code group} and
 * {@code kind} when absent; the objects holding a reference do the same ({@link #withDefaults}), because
 * the default group depends on the holder: {@value #DEFAULT_GROUP} for InferenceObjective and
 * InferenceModelRewrite, {@value #V1ALPHA2_GROUP} for InferenceModel.
 *
 * @param group at most 253 characters, a DNS subdomain or empty
 * @param kind  default {@code InferencePool}
 * @param name  required
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PoolRef(String group, String kind, String name) {
    public static final String DEFAULT_GROUP = "inference.networking.k8s.io";
    public static final String V1ALPHA2_GROUP = "inference.networking.x-k8s.io";
    public static final String DEFAULT_KIND = "InferencePool";

    public String groupOrDefault() {
        return group == null || group.isEmpty() ? DEFAULT_GROUP : group;
    }

    public String kindOrDefault() {
        return kind == null || kind.isEmpty() ? DEFAULT_KIND : kind;
    }

    /** This reference with the API server's defaults for absent (not empty) fields. */
    PoolRef withDefaults(String defaultGroup) {
        if (group != null && kind != null) {
            return this;
        }
        return new PoolRef(group == null ? defaultGroup : group, kind == null ? DEFAULT_KIND : kind, name);
    }

    void validate(String field, Violations violations) {
        violations.group(field + ".group", group);
        violations.kind(field + ".kind", kind);
        violations.objectName(field + ".name", name);
    }
}
