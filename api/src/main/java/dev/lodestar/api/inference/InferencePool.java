package dev.lodestar.api.inference;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * InferencePool {@code inference.networking.k8s.io/v1}: the model server pods (by label, in the pool's
 * namespace) and ports a gateway balances over, and the Endpoint Picker that chooses among them.
 * Follows v1.6.0, where {@code endpointPickerRef} became optional.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InferencePool(String apiVersion, String kind, ObjectMeta metadata, Spec spec, Status status) {
    public static final String GROUP = "inference.networking.k8s.io";
    public static final String API_VERSION = GROUP + "/v1";
    public static final String KIND = "InferencePool";

    public static final CelRule UNIQUE_PORTS = new CelRule("spec.targetPorts",
            "self.all(p1, self.exists_one(p2, p1.number==p2.number))", "port number must be unique");
    public static final CelRule SERVICE_NEEDS_PORT = new CelRule("spec.endpointPickerRef",
            "self.kind != 'Service' || has(self.port)",
            "port is required when kind is 'Service' or unspecified (defaults to 'Service')");
    public static final List<CelRule> RULES = List.of(UNIQUE_PORTS, SERVICE_NEEDS_PORT);

    /** What the API server would refuse in this object (schema limits and CEL rules); empty when valid. */
    public List<Violation> validate() {
        Violations violations = new Violations();
        if (violations.required("spec", spec)) {
            spec.validate(violations);
        }
        if (status != null) {
            status.validate(violations);
        }
        return violations.toList();
    }

    /**
     * @param selector          required
     * @param targetPorts       required, 1-8, unique by number; absent reads as empty
     * @param appProtocol       default {@code http}
     * @param endpointPickerRef optional (since v1.6.0)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(LabelSelector selector, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Port> targetPorts,
                       AppProtocol appProtocol, EndpointPickerRef endpointPickerRef) {
        public Spec {
            targetPorts = targetPorts == null ? null : List.copyOf(targetPorts);
            appProtocol = appProtocol == null ? AppProtocol.HTTP : appProtocol;
        }

        @Override
        public List<Port> targetPorts() {
            return targetPorts == null ? List.of() : targetPorts;
        }

        public Optional<EndpointPickerRef> endpointPicker() {
            return Optional.ofNullable(endpointPickerRef);
        }

        void validate(Violations violations) {
            if (violations.required("spec.selector", selector)) {
                selector.validate("spec.selector", violations);
            }
            if (violations.required("spec.targetPorts", targetPorts)) {
                violations.items("spec.targetPorts", targetPorts, 1, 8);
                for (int i = 0; i < targetPorts.size(); i++) {
                    targetPorts.get(i).validate("spec.targetPorts[" + i + "]", violations);
                }
                if (targetPorts.stream().map(Port::number).distinct().count() != targetPorts.size()) {
                    violations.rule("spec.targetPorts", UNIQUE_PORTS);
                }
            }
            if (endpointPickerRef != null) {
                endpointPickerRef.validate("spec.endpointPickerRef", violations);
            }
        }
    }

    /** @param matchLabels required, 1-64 entries, all must match (AND); values are label values */
    public record LabelSelector(Map<String, String> matchLabels) {
        public LabelSelector {
            matchLabels = matchLabels == null ? null : Map.copyOf(matchLabels);
        }

        @Override
        public Map<String, String> matchLabels() {
            return matchLabels == null ? Map.of() : matchLabels;
        }

        void validate(String field, Violations violations) {
            if (violations.required(field + ".matchLabels", matchLabels)) {
                violations.properties(field + ".matchLabels", matchLabels, 1, 64);
                new TreeMap<>(matchLabels).forEach((key, value) ->
                        violations.string(field + ".matchLabels." + key, value, 0, 63, Violations.LABEL_VALUE));
            }
        }
    }

    /** @param number required, 1-65535 */
    public record Port(Integer number) {
        void validate(String field, Violations violations) {
            if (violations.required(field + ".number", number)) {
                violations.number(field + ".number", number, 1, 65535);
            }
        }
    }

    /** The protocol of every target port. */
    public enum AppProtocol {
        /** HTTP/1.1. */
        @JsonProperty("http") HTTP,
        /** HTTP/2 over cleartext, for gRPC model servers. */
        @JsonProperty("kubernetes.io/h2c") H2C
    }

    /** What the gateway does when the Endpoint Picker does not answer. */
    public enum FailureMode {
        /** Forward to an endpoint of the gateway's choosing. */
        @JsonProperty("FailOpen") FAIL_OPEN,
        /** Drop the request. */
        @JsonProperty("FailClose") FAIL_CLOSE
    }

    /**
     * The Endpoint Picker the gateway consults.
     *
     * @param group       default {@code ""} (core)
     * @param kind        default {@code Service}; a Service (the default) needs {@code port}
     * @param name        required
     * @param port        the Service port, not the target port
     * @param failureMode default {@code FailClose}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EndpointPickerRef(String group, String kind, String name, Port port, FailureMode failureMode) {
        public EndpointPickerRef {
            group = group == null ? "" : group;
            kind = kind == null ? "Service" : kind;
            failureMode = failureMode == null ? FailureMode.FAIL_CLOSE : failureMode;
        }

        void validate(String field, Violations violations) {
            violations.group(field + ".group", group);
            violations.kind(field + ".kind", kind);
            violations.objectName(field + ".name", name);
            if (port != null) {
                port.validate(field + ".port", violations);
            }
            if (kind.equals("Service") && port == null) {
                violations.rule(field, SERVICE_NEEDS_PORT);
            }
        }
    }

    /** @param parents at most 32; one entry per parent (Gateway) a controller manages */
    public record Status(@JsonInclude(JsonInclude.Include.NON_EMPTY) List<ParentStatus> parents) {
        public Status {
            parents = parents == null ? List.of() : List.copyOf(parents);
        }

        void validate(Violations violations) {
            violations.items("status.parents", parents, 0, 32);
            for (int i = 0; i < parents.size(); i++) {
                parents.get(i).validate("status.parents[" + i + "]", violations);
            }
        }
    }

    /**
     * @param conditions     at most 8, unique by type ({@code Accepted}, {@code ResolvedRefs})
     * @param parentRef      required
     * @param controllerName optional, {@code DOMAIN/PATH}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ParentStatus(@JsonInclude(JsonInclude.Include.NON_EMPTY) List<Condition> conditions,
                               ParentReference parentRef, String controllerName) {
        public ParentStatus {
            conditions = conditions == null ? List.of() : List.copyOf(conditions);
        }

        void validate(String field, Violations violations) {
            violations.conditions(field + ".conditions", conditions, 8);
            if (violations.required(field + ".parentRef", parentRef)) {
                parentRef.validate(field + ".parentRef", violations);
            }
            violations.string(field + ".controllerName", controllerName, 1, 253, Violations.CONTROLLER_NAME);
        }
    }

    /**
     * @param group     default {@code gateway.networking.k8s.io}
     * @param kind      default {@code Gateway}
     * @param name      required
     * @param namespace optional; the pool's namespace when absent
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ParentReference(String group, String kind, String name, String namespace) {
        public ParentReference {
            group = group == null ? "gateway.networking.k8s.io" : group;
            kind = kind == null ? "Gateway" : kind;
        }

        void validate(String field, Violations violations) {
            violations.group(field + ".group", group);
            violations.kind(field + ".kind", kind);
            violations.objectName(field + ".name", name);
            violations.string(field + ".namespace", namespace, 1, 63, Violations.NAMESPACE);
        }
    }
}
