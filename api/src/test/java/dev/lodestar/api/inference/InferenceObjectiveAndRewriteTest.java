package dev.lodestar.api.inference;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class InferenceObjectiveAndRewriteTest {
    @Test
    void objectivesOfBothGroupsGetTheServerDefaults() {
        for (String group : InferenceObjects.API_VERSIONS) {
            InferenceObjective objective = InferenceObjects.read("""
                    apiVersion: %s
                    kind: InferenceObjective
                    metadata: {name: chat}
                    spec: {poolRef: {name: pool}}
                    status: {}
                    """.formatted(group), InferenceObjective.class);
            assertThat(objective.apiVersion()).isEqualTo(group);
            assertThat(objective.poolRef()).isEqualTo(new PoolRef("inference.networking.k8s.io", "InferencePool", "pool"));
            assertThat(objective.status().conditions()).containsExactly(new Condition("Ready", Condition.Status.UNKNOWN,
                    null, Instant.EPOCH, "Pending", "Waiting for controller"));
            assertThat(objective.validate()).isEmpty();
        }
    }

    @Test
    void rewritesDefaultTheMatchTypeAndAcceptRulesWithoutTargets() {
        InferenceModelRewrite rewrite = InferenceObjects.read("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec:
                  poolRef: {name: pool}
                  rules:
                  - matches: [{model: {value: food-review}}]
                    targets: [{modelRewrite: food-review-1}]
                  - matches: [{model: {value: other}}]
                status: {}
                """, InferenceModelRewrite.class);
        assertThat(rewrite.spec().rules().get(0).matches().get(0).model().type()).isEqualTo("Exact");
        assertThat(rewrite.spec().rules().get(1).targets()).isEmpty();
        assertThat(rewrite.status().conditions().get(0).type()).isEqualTo("Accepted");
        assertThat(rewrite.validate()).as("the schema does not require targets, only one when present").isEmpty();
    }

    @Test
    void rewriteLimits() {
        InferenceModelRewrite rewrite = InferenceObjects.read("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec:
                  poolRef: {name: pool, kind: "1nvalid"}
                  rules:
                  - matches: [{model: {type: Prefix, value: ""}}]
                    targets: []
                """, InferenceModelRewrite.class);
        assertThat(rewrite.validate()).extracting(Violation::toString).containsExactly(
                "spec.poolRef.kind: should match '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'",
                "spec.rules[0].matches[0].model.type: Unsupported value: \"Prefix\": supported values: \"Exact\"",
                "spec.rules[0].matches[0].model.value: should be at least 1 chars long",
                "spec.rules[0].targets: should have at least 1 items");
    }
}
