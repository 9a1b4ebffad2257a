package dev.lodestar.controllers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lodestar.api.inference.InferenceModel;
import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.api.inference.InferenceObjects;
import dev.lodestar.api.inference.PoolRef;
import dev.lodestar.epp.spi.PoolWriter;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * InferenceObjectives and InferenceModelRewrites of the pool, from both groups that define them
 * ({@code inference.networking.x-k8s.io} and {@code llm-d.ai}, whichever the cluster serves), and the older
 * InferenceModels ({@link InferenceModels}), filtered by {@code spec.poolRef}. Every change replaces the EPP's whole
 * set, so the result never depends on event order.
 */
final class InferenceObjectsWatch implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(InferenceObjectsWatch.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> GROUPS = List.of("inference.networking.x-k8s.io", "llm-d.ai");
    static final String VERSION = "v1alpha2";

    private final KubernetesClient client;
    private final String namespace;
    private final String poolName;
    private final PoolWriter writer;
    private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();

    InferenceObjectsWatch(KubernetesClient client, String namespace, String poolName, PoolWriter writer) {
        this.client = client;
        this.namespace = namespace;
        this.poolName = poolName;
        this.writer = writer;
    }

    void start() {
        List<String[]> served = new ArrayList<>();
        for (String group : GROUPS) {
            served.add(new String[] {group, InferenceObjective.KIND});
            served.add(new String[] {group, InferenceModelRewrite.KIND});
        }
        served.add(new String[] {GROUPS.getFirst(), InferenceModel.KIND});
        for (String[] groupAndKind : served) {
            String group = groupAndKind[0];
            String kind = groupAndKind[1];
            if (!client.supports(group + "/" + VERSION, kind)) {
                LOGGER.info(() -> group + "/" + VERSION + " " + kind + " is not served by this cluster; skipped");
                continue;
            }
            SharedIndexInformer<GenericKubernetesResource> informer = client
                    .genericKubernetesResources(context(group, kind)).inNamespace(namespace).runnableInformer(0);
            informer.addEventHandler(new ResourceEventHandler<>() {
                @Override
                public void onAdd(GenericKubernetesResource resource) {
                    rebuild();
                }

                @Override
                public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
                    rebuild();
                }

                @Override
                public void onDelete(GenericKubernetesResource resource, boolean finalStateUnknown) {
                    rebuild();
                }
            });
            synchronized (informers) {
                informers.add(informer);
            }
            informer.start();
        }
    }

    boolean hasSynced() {
        synchronized (informers) {
            return informers.stream().allMatch(SharedIndexInformer::hasSynced);
        }
    }

    /**
     * Recomputes the objectives, rewrites and model priorities from the informers' caches. Each informer calls this
     * on its own thread; the lock keeps a snapshot taken earlier from being written after a newer one.
     */
    private synchronized void rebuild() {
        List<InferenceObjective> objectives = new ArrayList<>();
        List<InferenceModelRewrite> rewrites = new ArrayList<>();
        Map<String, Integer> modelPriorities = new HashMap<>();
        List<SharedIndexInformer<GenericKubernetesResource>> current;
        synchronized (informers) {
            current = List.copyOf(informers);
        }
        for (SharedIndexInformer<GenericKubernetesResource> informer : current) {
            for (GenericKubernetesResource resource : informer.getStore().list()) {
                decode(resource).ifPresent(object -> {
                    switch (object) {
                        case InferenceObjective objective when inPool(objective.poolRef()) -> objectives.add(objective);
                        case InferenceModelRewrite rewrite when inPool(rewrite.poolRef()) -> rewrites.add(rewrite);
                        case InferenceModel model when inPool(model.spec().poolRef()) -> {
                            modelPriorities.put(model.spec().modelName(), model.spec().effectiveCriticality().priority());
                            InferenceModels.rewrite(model).ifPresent(rewrites::add);
                        }
                        default -> {
                        }
                    }
                });
            }
        }
        writer.replaceObjectives(objectives);
        writer.replaceRewrites(rewrites);
        writer.replaceModelPriorities(modelPriorities);
    }

    /** By name: an InferenceModel's poolRef group defaults to the older InferencePool group, so it is not compared. */
    private boolean inPool(PoolRef poolRef) {
        return poolRef != null && poolName.equals(poolRef.name());
    }

    private Optional<Record> decode(GenericKubernetesResource resource) {
        String name = resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName();
        try {
            JsonNode tree = JSON.readTree(client.getKubernetesSerialization().asJson(resource));
            Record object = switch (resource.getKind()) {
                case InferenceObjective.KIND -> InferenceObjects.read(tree, InferenceObjective.class);
                case InferenceModelRewrite.KIND -> InferenceObjects.read(tree, InferenceModelRewrite.class);
                case InferenceModel.KIND -> InferenceObjects.read(tree, InferenceModel.class);
                default -> throw new IllegalArgumentException("unexpected kind " + resource.getKind());
            };
            return Optional.of(object);
        } catch (IOException | RuntimeException e) {
            LOGGER.warning(resource.getKind() + " " + name + " is ignored: " + e.getMessage());
            return Optional.empty();
        }
    }

    static ResourceDefinitionContext context(String group, String kind) {
        String plural = kind.toLowerCase(java.util.Locale.ROOT) + "s";
        return new ResourceDefinitionContext.Builder().withGroup(group).withVersion(VERSION).withKind(kind)
                .withPlural(plural).withNamespaced(true).build();
    }

    @Override
    public void close() {
        synchronized (informers) {
            informers.forEach(SharedIndexInformer::close);
        }
    }
}
