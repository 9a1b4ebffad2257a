package dev.lodestar.controllers;

import dev.lodestar.controllers.testing.Eventually;
import dev.lodestar.controllers.testing.KubeApiServer;
import dev.lodestar.controllers.testing.TestPods;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.datastore.ModelRewrites;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes pool source against a real kube-apiserver and etcd, with our CRDs installed: what reaches the
 * EPP's real datastore when pools, pods, objectives, rewrites and InferenceModels change, and leader hand-over.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class KubernetesPoolSourceIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final AtomicInteger NAMESPACES = new AtomicInteger();

    private KubeApiServer server;
    private KubernetesClient client;
    private final List<AutoCloseable> closeAfterEach = new ArrayList<>();
    private String namespace;

    @BeforeAll
    void startApiServer() throws Exception {
        server = KubeApiServer.startWithOurCrds("pool-source");
        client = server.client();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeSources() throws Exception {
        for (AutoCloseable closeable : closeAfterEach.reversed()) {
            closeable.close();
        }
        closeAfterEach.clear();
    }

    private String newNamespace() {
        String name = "it-" + NAMESPACES.incrementAndGet();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
        return name;
    }

    private Datastore start(PoolTarget target, Optional<LeaderElection> election) {
        Datastore datastore = new Datastore();
        KubernetesPoolSource source = new KubernetesPoolSource(server.client(), target, 0, election);
        source.start(datastore);
        closeAfterEach.add(source);
        return datastore;
    }

    private void applyPool(String name, Map<String, String> selector, int... ports) {
        StringBuilder targetPorts = new StringBuilder();
        for (int port : ports) {
            targetPorts.append("\n    - number: ").append(port);
        }
        server.applyYaml("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: %s, namespace: %s}
                spec:
                  selector:
                    matchLabels: %s
                  targetPorts:%s
                  endpointPickerRef: {name: epp, port: {number: 9002}}
                """.formatted(name, namespace, toFlowMap(selector), targetPorts));
    }

    private static String toFlowMap(Map<String, String> map) {
        StringBuilder text = new StringBuilder("{");
        map.forEach((key, value) -> text.append(text.length() > 1 ? ", " : "").append(key).append(": ").append(value));
        return text.append('}').toString();
    }

    private void createPod(String name, Map<String, String> labels, String ip, boolean ready,
                           Map<String, String> annotations) {
        TestPods.create(client, namespace, name, labels, annotations, ip, ready);
    }

    private void setStatus(String name, String ip, boolean ready) {
        TestPods.setStatus(client, namespace, name, ip, ready);
    }

    private static List<String> endpoints(Datastore datastore) {
        return datastore.endpoints().stream().map(EndpointState::metadata)
                .map(endpoint -> endpoint.key().name() + "=" + endpoint.hostPort()).sorted().toList();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(25);
        }
    }

    private static <T> void awaitEquals(String what, T expected, Supplier<T> actual) throws InterruptedException {
        Eventually.assertEquals(what, expected, actual, WAIT);
    }

    @Test
    void readyPodsOfThePoolBecomeEndpointsPerTargetPortAndFollowReadiness() throws Exception {
        namespace = newNamespace();
        applyPool("pool", Map.of("app", "vllm"), 8000, 8001);
        createPod("vllm-a", Map.of("app", "vllm"), "10.1.0.1", true, Map.of());
        createPod("vllm-b", Map.of("app", "vllm"), "10.1.0.2", false, Map.of());
        createPod("other", Map.of("app", "other"), "10.1.0.3", true, Map.of());

        Datastore datastore = start(new PoolTarget.Pool(namespace, "pool", "inference.networking.k8s.io"),
                Optional.empty());

        await("the pool synced", datastore::synced);
        awaitEquals("the ready pod's two ranks", List.of("vllm-a-rank-0=10.1.0.1:8000", "vllm-a-rank-1=10.1.0.1:8001"),
                () -> endpoints(datastore));

        setStatus("vllm-b", "10.1.0.2", true);
        awaitEquals("the second pod joins when ready", List.of("vllm-a-rank-0=10.1.0.1:8000",
                "vllm-a-rank-1=10.1.0.1:8001", "vllm-b-rank-0=10.1.0.2:8000", "vllm-b-rank-1=10.1.0.2:8001"),
                () -> endpoints(datastore));

        setStatus("vllm-a", "10.1.0.1", false);
        awaitEquals("a pod that is no longer ready leaves", List.of("vllm-b-rank-0=10.1.0.2:8000",
                "vllm-b-rank-1=10.1.0.2:8001"), () -> endpoints(datastore));

        client.pods().inNamespace(namespace).withName("vllm-b").edit(pod -> new PodBuilder(pod).editMetadata()
                .addToAnnotations(PodEndpoints.ACTIVE_PORTS_ANNOTATION, "8001").endMetadata().build());
        awaitEquals("active-ports keeps rank 1 only", List.of("vllm-b-rank-1=10.1.0.2:8001"),
                () -> endpoints(datastore));

        client.pods().inNamespace(namespace).withName("vllm-b").withGracePeriod(0).delete();
        awaitEquals("a deleted pod leaves", List.of(), () -> endpoints(datastore));
    }

    @Test
    void aSelectorOrTargetPortsChangeResyncsThePods() throws Exception {
        namespace = newNamespace();
        applyPool("pool", Map.of("app", "blue"), 8000);
        createPod("blue-0", Map.of("app", "blue"), "10.2.0.1", true, Map.of());
        createPod("green-0", Map.of("app", "green"), "10.2.0.2", true, Map.of());
        Datastore datastore = start(new PoolTarget.Pool(namespace, "pool", "inference.networking.k8s.io"),
                Optional.empty());
        awaitEquals("blue", List.of("blue-0-rank-0=10.2.0.1:8000"), () -> endpoints(datastore));

        applyPool("pool", Map.of("app", "green"), 8000);
        awaitEquals("green after the selector changed", List.of("green-0-rank-0=10.2.0.2:8000"),
                () -> endpoints(datastore));

        applyPool("pool", Map.of("app", "green"), 9000, 8000);
        awaitEquals("ranks follow the new targetPorts", List.of("green-0-rank-0=10.2.0.2:9000",
                "green-0-rank-1=10.2.0.2:8000"), () -> endpoints(datastore));

        client.genericKubernetesResources(KubernetesPoolSource.poolContext("inference.networking.k8s.io"))
                .inNamespace(namespace).withName("pool").delete();
        awaitEquals("no pool, no endpoints", List.of(), () -> endpoints(datastore));
    }

    @Test
    void objectivesAndRewritesOfBothGroupsReachTheDatastoreFilteredByPool() throws Exception {
        namespace = newNamespace();
        applyPool("pool", Map.of("app", "vllm"), 8000);
        server.applyYaml("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: interactive, namespace: %1$s}
                spec: {priority: 10, poolRef: {name: pool}}
                ---
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceObjective
                metadata: {name: batch, namespace: %1$s}
                spec: {priority: -1, poolRef: {name: pool}}
                ---
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: elsewhere, namespace: %1$s}
                spec: {priority: 5, poolRef: {name: another-pool}}
                ---
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: alias, namespace: %1$s}
                spec:
                  poolRef: {name: pool}
                  rules:
                    - matches: [{model: {value: llama}}]
                      targets: [{modelRewrite: meta-llama/Llama-3.1-8B-Instruct}]
                """.formatted(namespace));
        Datastore datastore = start(new PoolTarget.Pool(namespace, "pool", "inference.networking.k8s.io"),
                Optional.empty());

        await("both groups' objectives", () -> datastore.objectivePriority("interactive").orElse(0) == 10
                && datastore.objectivePriority("batch").orElse(0) == -1);
        assertThat(datastore.objectivePriority("elsewhere")).isEmpty();
        await("the rewrite", () -> datastore.rewrites().rewrite("llama", new java.util.Random(1))
                .map(ModelRewrites.Decision::targetModel).filter("meta-llama/Llama-3.1-8B-Instruct"::equals).isPresent());

        client.genericKubernetesResources(InferenceObjectsWatch.context("llm-d.ai", "InferenceObjective"))
                .inNamespace(namespace).withName("batch").delete();
        await("a deleted objective is gone", () -> datastore.objectivePriority("batch").isEmpty());
    }

    @Test
    void anInferenceModelGivesItsModelAPriorityAndAWeightedRewrite() throws Exception {
        namespace = newNamespace();
        applyPool("pool", Map.of("app", "vllm"), 8000);
        server.applyYaml("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModel
                metadata: {name: food-review, namespace: %s}
                spec:
                  modelName: food-review
                  criticality: Sheddable
                  poolRef: {name: pool}
                  targetModels: [{name: food-review-1, weight: 100}]
                """.formatted(namespace));
        Datastore datastore = start(new PoolTarget.Pool(namespace, "pool", "inference.networking.k8s.io"),
                Optional.empty());

        await("the model's priority", () -> datastore.modelPriority("food-review").orElse(0) == -1);
        assertThat(datastore.rewrites().rewrite("food-review", new java.util.Random(1)))
                .map(ModelRewrites.Decision::targetModel).contains("food-review-1");
    }

    @Test
    void ourCrdsCelRulesRunInTheApiServer() {
        namespace = newNamespace();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> applyPool("dup", Map.of("app", "x"), 8000, 8000))
                .hasMessageContaining("port number must be unique");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.applyYaml("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModel
                metadata: {name: half-weighted, namespace: %s}
                spec:
                  modelName: m
                  poolRef: {name: pool}
                  targetModels: [{name: a, weight: 1}, {name: b}]
                """.formatted(namespace))).hasMessageContaining("Weights should be set for all models, or none of the models.");
    }

    @Test
    void afterTheApiServerRestartsTheWatchesResumeAndChangesStillArrive() throws Exception {
        namespace = newNamespace();
        applyPool("pool", Map.of("app", "vllm"), 8000);
        createPod("vllm-a", Map.of("app", "vllm"), "10.4.0.1", true, Map.of());
        Datastore datastore = start(new PoolTarget.Pool(namespace, "pool", "inference.networking.k8s.io"),
                Optional.empty());
        awaitEquals("before the restart", List.of("vllm-a-rank-0=10.4.0.1:8000"), () -> endpoints(datastore));

        server.restartApiServer();
        assertThat(endpoints(datastore)).as("kept while the API server was away")
                .containsExactly("vllm-a-rank-0=10.4.0.1:8000");

        createPod("vllm-b", Map.of("app", "vllm"), "10.4.0.2", true, Map.of());
        setStatus("vllm-a", "10.4.0.1", false);
        awaitEquals("changes after the restart", List.of("vllm-b-rank-0=10.4.0.2:8000"), () -> endpoints(datastore));
        applyPool("pool", Map.of("app", "vllm"), 9000);
        awaitEquals("the pool's watch resumed too", List.of("vllm-b-rank-0=10.4.0.2:9000"), () -> endpoints(datastore));
    }

    @Test
    void selectorModeNeedsNoCrds() throws Exception {
        namespace = newNamespace();
        createPod("sim-0", Map.of("app", "sim"), "10.3.0.1", true, Map.of());
        Datastore datastore = start(new PoolTarget.Selector(namespace, Map.of("app", "sim"), List.of(8000)),
                Optional.empty());

        await("synced", datastore::synced);
        awaitEquals("the selected pod", List.of("sim-0-rank-0=10.3.0.1:8000"), () -> endpoints(datastore));
    }

    @Test
    void onlyTheLeaderLeadsAndAnotherReplicaTakesOverWhenItStops() throws Exception {
        namespace = newNamespace();
        String lease = LeaderElection.leaseName(namespace, "pool");
        LeaderElection first = new LeaderElection(server.client(), namespace, lease, "replica-1",
                Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500));
        LeaderElection second = new LeaderElection(server.client(), namespace, lease, "replica-2",
                Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500));
        closeAfterEach.add(second);
        closeAfterEach.add(first);

        first.start();
        await("the first replica leads", first::isLeader);
        second.start();
        Thread.sleep(1500);
        assertThat(second.isLeader()).as("a second leader while the first holds the lease").isFalse();

        long stoppedAt = System.nanoTime();
        first.close();
        await("the second replica takes over", second::isLeader);
        Duration handOver = Duration.ofNanos(System.nanoTime() - stoppedAt);
        assertThat(handOver).as("hand-over after a released lease").isLessThan(Duration.ofSeconds(4));
        assertThat(client.leases().inNamespace(namespace).withName(lease).get().getSpec().getHolderIdentity())
                .isEqualTo("replica-2");
    }
}
