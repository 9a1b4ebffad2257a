package dev.lodestar.api.inference;

import dev.lodestar.api.config.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InferenceObjectsTest {
    @Test
    void readsObjectivesAndRewritesOfBothGroupsFromOneFile() {
        List<InferenceObject> objects = InferenceObjects.parse("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: sql-lora, namespace: default, uid: abc, resourceVersion: "5"}
                spec: {priority: 2, poolRef: {name: vllm-pool}}
                status: {conditions: []}
                ---
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceObjective
                metadata: {name: batch}
                spec: {poolRef: {name: vllm-pool, group: inference.networking.k8s.io}}
                ---
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: rewrite-test, creationTimestamp: "2026-01-02T03:04:05Z"}
                spec:
                  poolRef: {name: vllm-pool}
                  rules:
                  - matches: [{model: {type: Exact, value: model-to-be-rewritten}}]
                    targets: [{modelRewrite: rewritten-model, weight: 100}]
                """);
        assertThat(objects).hasSize(3);
        InferenceObjective sql = (InferenceObjective) objects.get(0);
        assertThat(sql.effectivePriority()).isEqualTo(2);
        assertThat(sql.poolRef().groupOrDefault()).isEqualTo("inference.networking.k8s.io");
        assertThat(((InferenceObjective) objects.get(1)).effectivePriority()).as("unset priority is 0").isZero();
        InferenceModelRewrite rewrite = (InferenceModelRewrite) objects.get(2);
        assertThat(rewrite.metadata().created()).contains(Instant.parse("2026-01-02T03:04:05Z"));
        assertThat(rewrite.spec().rules().get(0).targets().get(0).modelRewrite()).isEqualTo("rewritten-model");
    }

    @Test
    void mistakesNameTheDocumentAndTheField() {
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: a}
                spec: {poolRef: {name: p}, priorty: 3}
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("document 1 (InferenceObjective): unknown field 'priorty'");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: a}
                """)).hasMessageContaining("apiVersion 'inference.networking.k8s.io/v1' is not one of");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceModel
                metadata: {name: a}
                """)).hasMessageContaining("kind 'InferenceModel' is not supported");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceObjective
                metadata: {namespace: x}
                spec: {poolRef: {name: p}}
                """)).hasMessageContaining("metadata.name is required");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec:
                  poolRef: {name: p}
                  rules: [{targets: [{modelRewrite: x, weight: 0}]}]
                """)).hasMessageContaining("spec.rules[0].targets[0].weight: should be greater than or equal to 1");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec: {poolRef: {name: p}, rules: [{matches: [{model: {value: a}}], targets: []}]}
                """)).hasMessageContaining("spec.rules[0].targets: should have at least 1 items");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec: {poolRef: {name: p}, rules: [{matches: [{model: {value: a}}]}]}
                """)).hasMessageContaining("spec.rules[0].targets: the EPP needs at least one target");
        assertThatThrownBy(() -> InferenceObjects.parse("""
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceObjective
                metadata: {name: o}
                spec: {poolRef: {name: p, group: "Not_A_Group"}}
                """)).hasMessageContaining("spec.poolRef.group: should match");
    }

    @Test
    void emptyDocumentsAreSkipped() {
        assertThat(InferenceObjects.parse("---\n---\n")).isEmpty();
    }
}
