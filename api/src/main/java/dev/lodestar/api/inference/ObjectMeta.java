package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The part of Kubernetes object metadata Lodestar reads. Fields Kubernetes manages (uid,
 * resourceVersion, managedFields, ...) are accepted and ignored, so objects copied from a cluster load.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties({"uid", "resourceVersion", "generation", "managedFields", "selfLink", "finalizers",
        "ownerReferences", "generateName", "deletionTimestamp", "deletionGracePeriodSeconds"})
public record ObjectMeta(String name, String namespace, Instant creationTimestamp, Map<String, String> labels,
                         Map<String, String> annotations) {

    public ObjectMeta {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public static ObjectMeta of(String namespace, String name, Instant creationTimestamp) {
        return new ObjectMeta(name, namespace, creationTimestamp, Map.of(), Map.of());
    }

    public Optional<Instant> created() {
        return Optional.ofNullable(creationTimestamp);
    }
}
