package dev.lodestar.api.inference;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class InferenceModelTest {
    private static InferenceModel model(String spec) {
        return InferenceObjects.read("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModel
                metadata: {name: food-review, namespace: default}
                spec:
                """ + spec.indent(2), InferenceModel.class);
    }

    private static List<String> messages(List<Violation> violations) {
        return violations.stream().map(Violation::toString).toList();
    }

    @Test
    void poolRefDefaultsToTheV1alpha2Group() {
        InferenceModel model = model("""
                modelName: food-review
                poolRef: {name: pool}
                """);
        assertThat(model.spec().poolRef()).isEqualTo(new PoolRef("inference.networking.x-k8s.io", "InferencePool", "pool"));
        assertThat(model.spec().criticality()).as("no default in the schema").isNull();
        assertThat(model.spec().effectiveCriticality()).isEqualTo(InferenceModel.Criticality.STANDARD);
        assertThat(model.spec().targetModels()).isEmpty();
        assertThat(model.validate()).isEmpty();
    }

    @Test
    void weightsAreSetOnAllTargetModelsOrOnNone() {
        assertThat(model("""
                modelName: m
                poolRef: {name: pool}
                targetModels: [{name: a, weight: 90}, {name: b, weight: 10}]
                """).validate()).isEmpty();
        assertThat(model("""
                modelName: m
                poolRef: {name: pool}
                targetModels: [{name: a}, {name: b}]
                """).validate()).isEmpty();
        assertThat(messages(model("""
                modelName: m
                poolRef: {name: pool}
                targetModels: [{name: a, weight: 90}, {name: b}]
                """).validate())).containsExactly(
                "spec.targetModels: Weights should be set for all models, or none of the models.");
    }

    @Test
    void modelNameIsImmutable() {
        InferenceModel old = model("""
                modelName: food-review
                poolRef: {name: pool}
                """);
        InferenceModel renamed = model("""
                modelName: food-review-v2
                poolRef: {name: pool}
                """);
        assertThat(old.validateUpdate(old)).isEmpty();
        assertThat(renamed.validate()).as("creation has no old object").isEmpty();
        assertThat(messages(renamed.validateUpdate(old))).containsExactly("spec.modelName: modelName is immutable");
    }

    @Test
    void limits() {
        assertThat(messages(model("""
                modelName: %s
                poolRef: {name: pool}
                targetModels: [{name: a, weight: 1000001}]
                """.formatted("m".repeat(257))).validate())).containsExactly(
                "spec.modelName: Too long: may not be more than 256 bytes",
                "spec.targetModels[0].weight: should be less than or equal to 1000000");
        assertThat(messages(model("poolRef: {name: pool}").validate()))
                .containsExactly("spec.modelName: Required value");
    }

    @Test
    void criticalityMapsOntoPriorities() {
        assertThat(InferenceModel.Criticality.CRITICAL.priority()).isEqualTo(1);
        assertThat(InferenceModel.Criticality.STANDARD.priority()).isZero();
        assertThat(InferenceModel.Criticality.SHEDDABLE.priority()).as("negative = sheddable").isEqualTo(-1);
    }
}
