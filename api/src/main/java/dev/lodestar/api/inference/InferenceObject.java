package dev.lodestar.api.inference;

/** An Inference Extension object the EPP reads besides the pool. */
public sealed interface InferenceObject permits InferenceObjective, InferenceModelRewrite {
    String apiVersion();

    String kind();

    ObjectMeta metadata();

    /** The pool the object applies to. */
    PoolRef poolRef();
}
