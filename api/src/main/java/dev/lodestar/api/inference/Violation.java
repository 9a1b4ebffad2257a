package dev.lodestar.api.inference;

/**
 * One reason the API server would refuse an object.
 *
 * @param field   the field at fault, as the API server names it ({@code spec.targetPorts[0].number})
 * @param message for CEL rules the rule's message verbatim; for schema limits the API server's wording
 */
public record Violation(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
