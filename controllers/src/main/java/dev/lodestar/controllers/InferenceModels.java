package dev.lodestar.controllers;

import dev.lodestar.api.inference.InferenceModel;
import dev.lodestar.api.inference.InferenceModelRewrite;

import java.util.List;
import java.util.Optional;

/**
 * What an InferenceModel (GIE's API up to v0.5) means to today's EPP: requests for {@code spec.modelName} are
 * rewritten to {@code spec.targetModels} by weight (an exact-match rule of an InferenceModelRewrite named as the
 * InferenceModel, as old as it), and take the priority of {@code spec.criticality} (Critical 1, Standard 0,
 * Sheddable -1; only Sheddable is shed) when they name no known InferenceObjective.
 */
final class InferenceModels {
    private InferenceModels() {
    }

    /** The rewrite, when the model has target models. */
    static Optional<InferenceModelRewrite> rewrite(InferenceModel model) {
        if (model.spec().targetModels().isEmpty()) {
            return Optional.empty();
        }
        List<InferenceModelRewrite.Target> targets = model.spec().targetModels().stream()
                .map(target -> new InferenceModelRewrite.Target(target.weight(), target.name())).toList();
        InferenceModelRewrite.Rule rule = new InferenceModelRewrite.Rule(List.of(new InferenceModelRewrite.Match(
                new InferenceModelRewrite.ModelMatch("Exact", model.spec().modelName()))), targets);
        return Optional.of(new InferenceModelRewrite(InferenceModel.API_VERSION,
                InferenceModelRewrite.KIND, model.metadata(),
                new InferenceModelRewrite.Spec(model.spec().poolRef(), List.of(rule))));
    }
}
