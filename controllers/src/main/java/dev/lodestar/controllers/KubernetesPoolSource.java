package dev.lodestar.controllers;

import dev.lodestar.api.inference.InferenceObjects;
import dev.lodestar.api.inference.InferencePool;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolWriter;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The pool from Kubernetes, as GIE's EPP reconcilers build it: the InferencePool named by {@code --pool-name}
 * (or, in {@code --endpoint-selector} mode, a fixed selector and target ports) gives the pod selector and target
 * ports; the Pods in the pool's namespace that match it give the endpoints ({@link PodEndpoints}); a change of
 * selector or target ports re-lists the pods. InferenceObjectives, InferenceModelRewrites and InferenceModels that
 * reference the pool become the EPP's objectives and rewrites ({@link InferenceObjectsWatch}).
 *
 * <p>Informer callbacks only update this class's maps and the writer (the datastore, which publishes immutable
 * snapshots); nothing here runs on the request path. Watches that drop, including on 410 Gone, are re-listed by
 * the client's informers. The pool is marked synced once every informer has synced.
 */
public final class KubernetesPoolSource implements PoolSource {
    private static final Logger LOGGER = Logger.getLogger(KubernetesPoolSource.class.getName());

    private final KubernetesClient client;
    private final PoolTarget target;
    private final int metricsPortOverride;
    private final Optional<LeaderElection> leaderElection;
    private final boolean inferenceObjects;
    private final Object lock = new Object();
    /** Endpoints per pod name, as last written. Guarded by {@link #lock}. */
    private final Map<String, List<EndpointMetadata>> podEndpoints = new HashMap<>();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private PoolWriter writer;
    private InferenceObjectsWatch objectsWatch;
    /** Guarded by {@link #lock}. */
    private PoolSpec spec;
    /** Guarded by {@link #lock}. */
    private SharedIndexInformer<Pod> podInformer;

    KubernetesPoolSource(KubernetesClient client, PoolTarget target, int metricsPortOverride,
                         Optional<LeaderElection> leaderElection) {
        this(client, target, metricsPortOverride, leaderElection, true);
    }

    /** With {@code inferenceObjects} false, only the pool and its pods are read (no objectives or rewrites). */
    KubernetesPoolSource(KubernetesClient client, PoolTarget target, int metricsPortOverride,
                         Optional<LeaderElection> leaderElection, boolean inferenceObjects) {
        this.client = Objects.requireNonNull(client, "client");
        this.target = Objects.requireNonNull(target, "target");
        this.metricsPortOverride = metricsPortOverride;
        this.leaderElection = leaderElection;
        this.inferenceObjects = inferenceObjects;
    }

    @Override
    public void start(PoolWriter poolWriter) {
        this.writer = poolWriter;
        leaderElection.ifPresent(LeaderElection::start);
        switch (target) {
            case PoolTarget.Pool pool -> {
                if (inferenceObjects) {
                    objectsWatch = new InferenceObjectsWatch(client, pool.namespace(), pool.name(), poolWriter);
                    objectsWatch.start();
                }
                SharedIndexInformer<GenericKubernetesResource> poolInformer = client
                        .genericKubernetesResources(poolContext(pool.group()))
                        .inNamespace(pool.namespace()).withName(pool.name())
                        .runnableInformer(0);
                poolInformer.addEventHandler(new PoolHandler(pool));
                synchronized (lock) {
                    informers.add(poolInformer);
                }
                poolInformer.start();
            }
            case PoolTarget.Selector selector -> applySpec(new PoolSpec(selector.matchLabels(), selector.targetPorts()),
                    selector.namespace());
        }
        Thread.ofVirtual().name("kubernetes-pool-sync").start(this::markSyncedWhenReady);
    }

    @Override
    public Optional<BooleanSupplier> leadership() {
        return leaderElection.map(election -> election::isLeader);
    }

    /** Waits for the informers' first lists (the pool's, then the pods'), then says the pool is known. */
    private void markSyncedWhenReady() {
        while (!closed.get()) {
            boolean synced;
            synchronized (lock) {
                synced = spec != null && podInformer != null && podInformer.hasSynced()
                        && informers.stream().allMatch(SharedIndexInformer::hasSynced)
                        && (objectsWatch == null || objectsWatch.hasSynced());
            }
            if (synced) {
                writer.markSynced();
                LOGGER.info(() -> "pool " + target + " synced: " + podEndpoints.size() + " ready pod(s)");
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** A new selector or new target ports: watch the pods again and rebuild every endpoint. */
    private void applySpec(PoolSpec newSpec, String namespace) {
        synchronized (lock) {
            if (newSpec.equals(spec)) {
                return;
            }
            LOGGER.info(() -> "pool " + target + ": selector " + newSpec.matchLabels() + ", target ports "
                    + newSpec.targetPorts() + (spec == null ? "" : "; re-listing pods"));
            spec = newSpec;
            if (podInformer != null) {
                informers.remove(podInformer);
                podInformer.close();
                podInformer = null;
            }
            podEndpoints.clear();
            writer.replaceEndpoints(List.of());
            if (newSpec.matchLabels().isEmpty()) {
                LOGGER.warning("pool " + target + " has an empty selector; no pod is part of it");
                return;
            }
            // Started without waiting for its first list: its events take this lock.
            podInformer = client.pods().inNamespace(namespace).withLabels(newSpec.matchLabels()).runnableInformer(0);
            podInformer.addEventHandler(new PodHandler(newSpec));
            podInformer.start();
        }
    }

    private void clearPool() {
        synchronized (lock) {
            spec = null;
            if (podInformer != null) {
                podInformer.close();
                podInformer = null;
            }
            podEndpoints.clear();
            writer.replaceEndpoints(List.of());
        }
    }

    private void podChanged(Pod pod, PoolSpec forSpec) {
        PodView view = PodViews.of(pod);
        synchronized (lock) {
            if (!forSpec.equals(spec)) {
                return; // an event of the informer being replaced
            }
            List<EndpointMetadata> now = PodEndpoints.of(view, forSpec.targetPorts(), metricsPortOverride);
            List<EndpointMetadata> before = podEndpoints.getOrDefault(view.name(), List.of());
            for (EndpointMetadata old : before) {
                if (now.stream().noneMatch(endpoint -> endpoint.key().equals(old.key()))) {
                    writer.removeEndpoint(old.key());
                }
            }
            now.forEach(writer::upsertEndpoint);
            if (now.isEmpty()) {
                podEndpoints.remove(view.name());
            } else {
                podEndpoints.put(view.name(), now);
            }
        }
    }

    private void podDeleted(Pod pod, PoolSpec forSpec) {
        synchronized (lock) {
            if (!forSpec.equals(spec)) {
                return;
            }
            List<EndpointMetadata> before = podEndpoints.remove(pod.getMetadata().getName());
            if (before != null) {
                before.stream().map(EndpointMetadata::key).forEach(writer::removeEndpoint);
            }
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        leaderElection.ifPresent(LeaderElection::close);
        if (objectsWatch != null) {
            objectsWatch.close();
        }
        synchronized (lock) {
            informers.forEach(SharedIndexInformer::close);
            if (podInformer != null) {
                podInformer.close();
            }
        }
    }

    static ResourceDefinitionContext poolContext(String group) {
        return new ResourceDefinitionContext.Builder().withGroup(group).withVersion("v1")
                .withKind("InferencePool").withPlural("inferencepools").withNamespaced(true).build();
    }

    /** Endpoint keys the source currently holds, for tests. */
    List<EndpointKey> endpointKeys() {
        synchronized (lock) {
            return podEndpoints.values().stream().flatMap(List::stream).map(EndpointMetadata::key).sorted().toList();
        }
    }

    private final class PoolHandler implements ResourceEventHandler<GenericKubernetesResource> {
        private final PoolTarget.Pool pool;

        PoolHandler(PoolTarget.Pool pool) {
            this.pool = pool;
        }

        @Override
        public void onAdd(GenericKubernetesResource resource) {
            update(resource);
        }

        @Override
        public void onUpdate(GenericKubernetesResource oldResource, GenericKubernetesResource newResource) {
            update(newResource);
        }

        @Override
        public void onDelete(GenericKubernetesResource resource, boolean deletedFinalStateUnknown) {
            LOGGER.warning("InferencePool " + pool + " was deleted; the pool is empty until it is created again");
            clearPool();
        }

        private void update(GenericKubernetesResource resource) {
            try {
                InferencePool inferencePool = InferenceObjects.read(
                        client.getKubernetesSerialization().asJson(resource), InferencePool.class);
                List<String> violations = inferencePool.validate().stream().map(Object::toString).toList();
                if (!violations.isEmpty()) {
                    LOGGER.warning("InferencePool " + pool + " is invalid, kept the previous spec: " + violations);
                    return;
                }
                applySpec(PoolSpec.of(inferencePool), pool.namespace());
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "InferencePool " + pool + " cannot be used: " + e.getMessage());
            }
        }
    }

    private final class PodHandler implements ResourceEventHandler<Pod> {
        private final PoolSpec forSpec;

        PodHandler(PoolSpec forSpec) {
            this.forSpec = forSpec;
        }

        @Override
        public void onAdd(Pod pod) {
            podChanged(pod, forSpec);
        }

        @Override
        public void onUpdate(Pod oldPod, Pod newPod) {
            podChanged(newPod, forSpec);
        }

        @Override
        public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
            podDeleted(pod, forSpec);
        }
    }
}
