package dev.lodestar.epp.datastore;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.spi.PoolWriter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The EPP's view of its pool: endpoints with their latest metrics, InferenceObjectives and
 * InferenceModelRewrites. Pool sources write it (rarely, under a lock); the request path reads
 * immutable snapshots without locking.
 */
public final class Datastore implements PoolWriter {
    private static final Logger LOGGER = Logger.getLogger(Datastore.class.getName());
    private final Map<EndpointKey, EndpointState> byKey = new ConcurrentHashMap<>();
    private final List<EndpointListener> listeners = new CopyOnWriteArrayList<>();
    private final Object writeLock = new Object();
    private volatile List<EndpointState> endpoints = List.of();
    private volatile Map<String, InferenceObjective> objectives = Map.of();
    private volatile Map<String, Integer> modelPriorities = Map.of();
    private volatile ModelRewrites rewrites = ModelRewrites.NONE;
    private volatile boolean synced;

    /** Endpoints in key order. */
    public List<EndpointState> endpoints() {
        return endpoints;
    }

    public Optional<EndpointState> endpoint(EndpointKey key) {
        return Optional.ofNullable(byKey.get(key));
    }

    /** Per-request views of every endpoint, with the metrics current now. */
    public List<Endpoint> snapshot() {
        List<EndpointState> current = endpoints;
        List<Endpoint> views = new ArrayList<>(current.size());
        for (EndpointState state : current) {
            views.add(state.snapshot());
        }
        return views;
    }

    /** The priority of the InferenceObjective named {@code name}, if it exists (unset priority = 0). */
    public OptionalInt objectivePriority(String name) {
        InferenceObjective objective = objectives.get(name);
        return objective == null ? OptionalInt.empty() : OptionalInt.of(objective.effectivePriority());
    }

    /** The priority given to requests for {@code model} by an InferenceModel's criticality, if any. */
    public OptionalInt modelPriority(String model) {
        Integer priority = modelPriorities.get(model);
        return priority == null ? OptionalInt.empty() : OptionalInt.of(priority);
    }

    @Override
    public void replaceModelPriorities(Map<String, Integer> byModelName) {
        modelPriorities = Map.copyOf(byModelName);
    }

    public Collection<InferenceObjective> objectives() {
        return objectives.values();
    }

    public ModelRewrites rewrites() {
        return rewrites;
    }

    /** Whether the pool has been fully read once. */
    public boolean synced() {
        return synced;
    }

    /** Registers a listener and tells it about the endpoints already present. */
    public void addListener(EndpointListener listener) {
        synchronized (writeLock) {
            listeners.add(listener);
            endpoints.forEach(endpoint -> notify(listener, endpoint, true));
        }
    }

    @Override
    public void upsertEndpoint(EndpointMetadata endpoint) {
        synchronized (writeLock) {
            upsertLocked(endpoint);
            publish();
        }
    }

    @Override
    public void removeEndpoint(EndpointKey key) {
        synchronized (writeLock) {
            removeLocked(key);
            publish();
        }
    }

    @Override
    public void replaceEndpoints(Collection<EndpointMetadata> next) {
        synchronized (writeLock) {
            Set<EndpointKey> keep = new HashSet<>();
            for (EndpointMetadata endpoint : next) {
                keep.add(endpoint.key());
                upsertLocked(endpoint);
            }
            for (EndpointKey key : List.copyOf(byKey.keySet())) {
                if (!keep.contains(key)) {
                    removeLocked(key);
                }
            }
            publish();
        }
    }

    @Override
    public void replaceObjectives(Collection<InferenceObjective> next) {
        Map<String, InferenceObjective> byName = new HashMap<>();
        for (InferenceObjective objective : next) {
            byName.put(objective.metadata().name(), objective);
        }
        objectives = Map.copyOf(byName);
    }

    @Override
    public void replaceRewrites(Collection<InferenceModelRewrite> next) {
        rewrites = new ModelRewrites(List.copyOf(next));
    }

    @Override
    public void markSynced() {
        synced = true;
    }

    private void upsertLocked(EndpointMetadata metadata) {
        EndpointState existing = byKey.get(metadata.key());
        if (existing != null) {
            existing.metadata(metadata);
            return;
        }
        EndpointState added = new EndpointState(metadata);
        byKey.put(metadata.key(), added);
        listeners.forEach(listener -> notify(listener, added, true));
    }

    private void removeLocked(EndpointKey key) {
        EndpointState removed = byKey.remove(key);
        if (removed != null) {
            listeners.forEach(listener -> notify(listener, removed, false));
        }
    }

    /** A listener that fails must neither stop the pool update half-way nor keep the others uninformed. */
    private static void notify(EndpointListener listener, EndpointState endpoint, boolean added) {
        try {
            if (added) {
                listener.endpointAdded(endpoint);
            } else {
                listener.endpointRemoved(endpoint);
            }
        } catch (RuntimeException e) {
            LOGGER.log(Level.WARNING, "endpoint listener " + listener + " failed on "
                    + (added ? "addition" : "removal") + " of " + endpoint.metadata().key(), e);
        }
    }

    private void publish() {
        endpoints = byKey.values().stream()
                .sorted(Comparator.comparing(state -> state.metadata().key()))
                .toList();
    }
}
