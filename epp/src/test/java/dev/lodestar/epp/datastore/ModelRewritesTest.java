package dev.lodestar.epp.datastore;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.ObjectMeta;
import dev.lodestar.api.inference.PoolRef;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ModelRewritesTest {
    private static InferenceModelRewrite rewrite(String name, Instant created, InferenceModelRewrite.Rule... rules) {
        return new InferenceModelRewrite("inference.networking.x-k8s.io/v1alpha2", "InferenceModelRewrite",
                ObjectMeta.of("default", name, created),
                new InferenceModelRewrite.Spec(new PoolRef(null, null, "pool"), List.of(rules)));
    }

    private static InferenceModelRewrite.Rule exact(String model, InferenceModelRewrite.Target... targets) {
        return new InferenceModelRewrite.Rule(
                List.of(new InferenceModelRewrite.Match(new InferenceModelRewrite.ModelMatch("Exact", model))),
                List.of(targets));
    }

    private static InferenceModelRewrite.Rule generic(InferenceModelRewrite.Target... targets) {
        return new InferenceModelRewrite.Rule(List.of(), List.of(targets));
    }

    private static InferenceModelRewrite.Target target(String model, Integer weight) {
        return new InferenceModelRewrite.Target(weight, model);
    }

    @Test
    void exactBeatsGenericEvenWhenTheGenericIsOlder() {
        ModelRewrites rewrites = new ModelRewrites(List.of(
                rewrite("catch-all", Instant.parse("2025-01-01T00:00:00Z"), generic(target("fallback", null))),
                rewrite("specific", Instant.parse("2026-01-01T00:00:00Z"), exact("a", target("a-v2", null)))));
        SplittableRandom random = new SplittableRandom(1);
        assertThat(rewrites.rewrite("a", random)).contains(new ModelRewrites.Decision("specific", "a-v2"));
        assertThat(rewrites.rewrite("b", random)).contains(new ModelRewrites.Decision("catch-all", "fallback"));
    }

    @Test
    void aMatchingRuleWithoutTargetsKeepsTheModelAndStopsTheSearch() {
        ModelRewrites rewrites = new ModelRewrites(List.of(
                rewrite("empty", Instant.parse("2025-01-01T00:00:00Z"), exact("a")),
                rewrite("later", Instant.parse("2026-01-01T00:00:00Z"), exact("a", target("a-v2", null)))));

        assertThat(rewrites.rewrite("a", new SplittableRandom(1))).isEmpty();
    }

    @Test
    void theOldestObjectWinsAndWithinItTheFirstMatchingRule() {
        ModelRewrites rewrites = new ModelRewrites(List.of(
                rewrite("newer", Instant.parse("2026-02-01T00:00:00Z"), exact("a", target("from-newer", null))),
                rewrite("older", Instant.parse("2026-01-01T00:00:00Z"),
                        exact("x", target("x1", null)), exact("a", target("first", null)), exact("a", target("second", null)))));
        assertThat(rewrites.rewrite("a", new SplittableRandom(1))).contains(new ModelRewrites.Decision("older", "first"));
        assertThat(rewrites.rewrite("zzz", new SplittableRandom(1))).isEmpty();
    }

    @Test
    void targetsAreDrawnByWeight() {
        ModelRewrites rewrites = new ModelRewrites(List.of(rewrite("split", Instant.EPOCH,
                exact("m", target("m-a", 70), target("m-b", 30)))));
        SplittableRandom random = new SplittableRandom(42);
        Map<String, Integer> counts = new HashMap<>();
        int draws = 20_000;
        for (int i = 0; i < draws; i++) {
            counts.merge(rewrites.rewrite("m", random).orElseThrow().targetModel(), 1, Integer::sum);
        }
        assertThat(counts.get("m-a") / (double) draws).isCloseTo(0.7, within(0.02));
    }

    @Test
    void withoutWeightsTargetsAreUniform() {
        ModelRewrites rewrites = new ModelRewrites(List.of(rewrite("u", Instant.EPOCH,
                generic(target("x", null), target("y", null)))));
        SplittableRandom random = new SplittableRandom(7);
        int xs = 0;
        for (int i = 0; i < 10_000; i++) {
            if (rewrites.rewrite("any", random).orElseThrow().targetModel().equals("x")) {
                xs++;
            }
        }
        assertThat(xs / 10_000.0).isCloseTo(0.5, within(0.03));
    }
}
