package dev.lodestar.api.inference;

import java.util.List;

/** An Inference Extension object the EPP reads besides the pool. */
public sealed interface InferenceObject permits InferenceObjective, InferenceModelRewrite {
    String apiVersion();

    String kind();

    ObjectMeta metadata();

    /** The pool the object applies to. */
    PoolRef poolRef();

    /** What the API server would refuse in this object (schema limits and CEL rules); empty when valid. */
    List<Violation> validate();
}
