package dev.lodestar.epp.spi;

import java.util.Map;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;

import java.util.Collection;

/** What a {@link PoolSource} may change in the EPP's view of the pool. Thread-safe. */
public interface PoolWriter {
    /** Adds or updates one endpoint (keyed by {@link EndpointMetadata#key()}). */
    void upsertEndpoint(EndpointMetadata endpoint);

    void removeEndpoint(EndpointKey key);

    /** Makes {@code endpoints} the whole pool: adds, updates and removes as needed. */
    void replaceEndpoints(Collection<EndpointMetadata> endpoints);

    /** Makes {@code objectives} all InferenceObjectives of the pool. */
    void replaceObjectives(Collection<InferenceObjective> objectives);

    /** Makes {@code rewrites} all InferenceModelRewrites of the pool. */
    void replaceRewrites(Collection<InferenceModelRewrite> rewrites);

    /**
     * Makes {@code byModelName} the priorities of requests that name no known InferenceObjective, by the model the
     * request asks for: the criticality of the older InferenceModel API. Sources without InferenceModels leave it
     * empty.
     */
    default void replaceModelPriorities(Map<String, Integer> byModelName) {
    }

    /** The pool is known (first full sync done): the EPP reports ready from now on. */
    void markSynced();
}
