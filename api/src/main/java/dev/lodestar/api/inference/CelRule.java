package dev.lodestar.api.inference;

/**
 * An {@code x-kubernetes-validations} rule of a CRD, which {@code validate()} evaluates in Java.
 *
 * @param field   the schema node the rule sits on ({@code spec.targetPorts})
 * @param rule    the CEL expression, as in the CRD
 * @param message the message the API server returns when the rule fails
 */
public record CelRule(String field, String rule, String message) {
}
