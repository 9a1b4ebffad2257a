package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A reference to an InferencePool in the same namespace.
 *
 * @param group default {@code inference.networking.k8s.io}
 * @param kind  default {@code InferencePool}
 * @param name  required
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PoolRef(String group, String kind, String name) {
    public static final String DEFAULT_GROUP = "inference.networking.k8s.io";
    public static final String DEFAULT_KIND = "InferencePool";

    public String groupOrDefault() {
        return group == null || group.isEmpty() ? DEFAULT_GROUP : group;
    }

    public String kindOrDefault() {
        return kind == null || kind.isEmpty() ? DEFAULT_KIND : kind;
    }
}
