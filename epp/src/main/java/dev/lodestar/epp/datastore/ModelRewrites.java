package dev.lodestar.epp.datastore;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.ObjectMeta;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The pool's InferenceModelRewrite rules, looked up by the model a request names. Precedence, as GIE:
 * an exact match beats a generic rule (one without matches); among equals the oldest object wins; within
 * an object the first matching rule wins. The target is drawn by weight, uniformly when no weights are
 * given. Immutable.
 */
public final class ModelRewrites {
    private static final Comparator<InferenceModelRewrite> OLDEST_FIRST = Comparator
            .comparing((InferenceModelRewrite r) -> r.metadata().created().orElse(Instant.MAX))
            .thenComparing(r -> String.valueOf(r.metadata().namespace()))
            .thenComparing(r -> r.metadata().name());

    public static final ModelRewrites NONE = new ModelRewrites(List.of());

    private final List<InferenceModelRewrite> rewrites;

    public ModelRewrites(List<InferenceModelRewrite> rewrites) {
        this.rewrites = rewrites.stream().sorted(OLDEST_FIRST).toList();
    }

    public boolean isEmpty() {
        return rewrites.isEmpty();
    }

    /** The rewrite for {@code model}, if a rule applies. */
    public Optional<Decision> rewrite(String model, RandomGenerator random) {
        for (InferenceModelRewrite rewrite : rewrites) {
            for (InferenceModelRewrite.Rule rule : rewrite.spec().rules()) {
                boolean exact = rule.matches().stream().anyMatch(match -> model.equals(match.model().value()));
                if (exact) {
                    return decide(rewrite.metadata(), rule, random);
                }
            }
        }
        for (InferenceModelRewrite rewrite : rewrites) {
            for (InferenceModelRewrite.Rule rule : rewrite.spec().rules()) {
                if (rule.generic()) {
                    return decide(rewrite.metadata(), rule, random);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The rule's weighted draw. A rule without targets (the CRD allows it) matches but rewrites nothing: GIE would
     * send the empty model name on, which no model server serves.
     */
    private static Optional<Decision> decide(ObjectMeta owner, InferenceModelRewrite.Rule rule,
                                             RandomGenerator random) {
        List<InferenceModelRewrite.Target> targets = rule.targets();
        if (targets.isEmpty()) {
            return Optional.empty();
        }
        long total = 0;
        for (InferenceModelRewrite.Target target : targets) {
            total += target.weight() == null ? 0 : target.weight();
        }
        InferenceModelRewrite.Target chosen;
        if (total == 0) {
            chosen = targets.get(random.nextInt(targets.size()));
        } else {
            long draw = random.nextLong(total);
            chosen = targets.get(targets.size() - 1);
            for (InferenceModelRewrite.Target target : targets) {
                draw -= target.weight() == null ? 0 : target.weight();
                if (draw < 0) {
                    chosen = target;
                    break;
                }
            }
        }
        return Optional.of(new Decision(owner.name(), chosen.modelRewrite()));
    }

    /** The rewrite that applied: the object's name and the model to use. */
    public record Decision(String rewriteName, String targetModel) {
    }
}
