package dev.lodestar.controllers;

import dev.lodestar.api.inference.InferenceModel;
import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjects;
import dev.lodestar.epp.datastore.ModelRewrites;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class InferenceModelsTest {
    private static InferenceModel model(String spec) {
        return InferenceObjects.read("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModel
                metadata: {name: food-review, namespace: default, creationTimestamp: "2025-03-01T00:00:00Z"}
                spec:
                """ + spec.indent(2), InferenceModel.class);
    }

    @Test
    void targetModelsBecomeAnExactWeightedRewriteOfTheModelName() {
        InferenceModelRewrite rewrite = InferenceModels.rewrite(model("""
                modelName: food-review
                criticality: Critical
                poolRef: {name: pool}
                targetModels:
                  - {name: food-review-v1, weight: 90}
                  - {name: food-review-v2, weight: 10}
                """)).orElseThrow();

        assertThat(rewrite.metadata().name()).isEqualTo("food-review");
        assertThat(rewrite.poolRef().name()).isEqualTo("pool");
        assertThat(rewrite.spec().rules()).singleElement().satisfies(rule -> {
            assertThat(rule.generic()).isFalse();
            assertThat(rule.targets()).extracting(InferenceModelRewrite.Target::modelRewrite, InferenceModelRewrite.Target::weight)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("food-review-v1", 90),
                            org.assertj.core.groups.Tuple.tuple("food-review-v2", 10));
        });
        ModelRewrites rewrites = new ModelRewrites(List.of(rewrite));
        SplittableRandom random = new SplittableRandom(3);
        long v1 = java.util.stream.IntStream.range(0, 1000)
                .filter(i -> rewrites.rewrite("food-review", random).orElseThrow().targetModel().equals("food-review-v1"))
                .count();
        assertThat(v1).isBetween(860L, 940L);
        assertThat(rewrites.rewrite("other", random)).isEmpty();
    }

    @Test
    void aModelWithoutTargetModelsHasNoRewrite() {
        assertThat(InferenceModels.rewrite(model("""
                modelName: base
                poolRef: {name: pool}
                """))).isEmpty();
    }

    @Test
    void criticalityMapsToPriorityAndOnlySheddableIsNegative() {
        assertThat(model("{modelName: a, criticality: Critical, poolRef: {name: p}}").spec().effectiveCriticality()
                .priority()).isEqualTo(1);
        assertThat(model("{modelName: a, criticality: Standard, poolRef: {name: p}}").spec().effectiveCriticality()
                .priority()).isEqualTo(0);
        assertThat(model("{modelName: a, poolRef: {name: p}}").spec().effectiveCriticality().priority()).isEqualTo(0);
        assertThat(model("{modelName: a, criticality: Sheddable, poolRef: {name: p}}").spec().effectiveCriticality()
                .priority()).isEqualTo(-1);
    }
}
