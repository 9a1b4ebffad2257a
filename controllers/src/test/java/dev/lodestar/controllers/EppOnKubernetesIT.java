package dev.lodestar.controllers;

import dev.lodestar.controllers.testing.KubeApiServer;
import dev.lodestar.epp.EppOptions;
import dev.lodestar.epp.EppServer;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The EPP in a cluster: the pool source under the least-privilege Role of config/manifests (impersonating its
 * service account), and the EPP started with {@code --pool-name} finding the source through the SPI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class EppOnKubernetesIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String NAMESPACE = "lodestar";
    private static final String SERVICE_ACCOUNT = "vllm-qwen3-32b-epp";

    private KubeApiServer server;
    private KubernetesClient admin;

    @BeforeAll
    void startApiServer() throws Exception {
        server = KubeApiServer.startWithOurCrds("epp-on-kubernetes");
        admin = server.client();
        Path root = KubeApiServer.repositoryRoot();
        server.apply(root.resolve("config/manifests/base/namespace.yaml"),
                root.resolve("config/manifests/base/rbac.yaml"));
        server.applyYaml("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: pool, namespace: lodestar}
                spec:
                  selector: {matchLabels: {app: vllm}}
                  targetPorts: [{number: 8000}]
                  endpointPickerRef: {name: epp, port: {number: 9002}}
                ---
                apiVersion: llm-d.ai/v1alpha2
                kind: InferenceObjective
                metadata: {name: batch, namespace: lodestar}
                spec: {priority: -1, poolRef: {name: pool}}
                """);
        admin.pods().inNamespace(NAMESPACE).resource(new PodBuilder()
                .withNewMetadata().withName("vllm-0").withLabels(Map.of("app", "vllm")).endMetadata()
                .withNewSpec().withAutomountServiceAccountToken(false)
                .withNewSecurityContext().withRunAsNonRoot(true).withNewSeccompProfile().withType("RuntimeDefault")
                .endSeccompProfile().endSecurityContext()
                .addNewContainer().withName("vllm").withImage("vllm/vllm-openai:latest")
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL")
                .endCapabilities().endSecurityContext().endContainer()
                .endSpec().build()).create();
        admin.pods().inNamespace(NAMESPACE).withName("vllm-0").editStatus(pod -> new PodBuilder(pod).editOrNewStatus()
                .withPodIP("10.9.0.1")
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True").build())
                .endStatus().build());
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static List<String> endpoints(Datastore datastore) {
        return datastore.endpoints().stream().map(EndpointState::metadata)
                .map(endpoint -> endpoint.key() + "=" + endpoint.hostPort()).sorted().toList();
    }

    @Test
    void theManifestsRoleIsEnoughForEverythingTheSourceWatchesAndForLeaderElection() throws Exception {
        KubernetesClient asEpp = server.clientAs("system:serviceaccount:" + NAMESPACE + ":" + SERVICE_ACCOUNT,
                "system:serviceaccounts", "system:serviceaccounts:" + NAMESPACE);
        LeaderElection election = new LeaderElection(asEpp, NAMESPACE, "pool", "replica-under-test");
        Datastore datastore = new Datastore();
        try (KubernetesPoolSource source = new KubernetesPoolSource(asEpp,
                new PoolTarget.Pool(NAMESPACE, "pool", "inference.networking.k8s.io"), 0, Optional.of(election))) {
            source.start(datastore);

            await("synced under the Role", datastore::synced);
            await("the pod's endpoint", () -> endpoints(datastore).equals(List.of("lodestar/vllm-0-rank-0=10.9.0.1:8000")));
            await("the llm-d.ai objective", () -> datastore.objectivePriority("batch").orElse(0) == -1);
            await("leadership under the Role", election::isLeader);
        }
    }

    @Test
    void theEppWithPoolNameFindsTheKubernetesSourceAndReportsReadyWhenLeader() throws Exception {
        Config config = server.adminConfig();
        System.setProperty("kubernetes.master", config.getMasterUrl());
        System.setProperty("kubernetes.auth.token", config.getOauthToken());
        System.setProperty("kubernetes.certs.ca.data", config.getCaCertData());
        System.setProperty("kubernetes.auth.tryKubeConfig", "false");
        System.setProperty("kubernetes.auth.tryServiceAccount", "false");
        try (EppServer epp = EppServer.start(EppOptions.parse("--grpc-port=0", "--grpc-health-port=0",
                "--metrics-port=0", "--secure-serving=false", "--metrics-endpoint-auth=false",
                "--pool-name=pool", "--pool-namespace=" + NAMESPACE, "--ha-enable-leader-election"))) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", epp.healthPort()).usePlaintext()
                    .build();
            try {
                HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
                await("readiness SERVING", () -> health.check(HealthCheckRequest.newBuilder().setService("readiness")
                        .build()).getStatus() == HealthCheckResponse.ServingStatus.SERVING);
                assertThat(endpoints(epp.datastore())).containsExactly("lodestar/vllm-0-rank-0=10.9.0.1:8000");
                assertThat(health.check(HealthCheckRequest.newBuilder().setService("liveness").build()).getStatus())
                        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                channel.shutdownNow();
            }
        } finally {
            for (String key : List.of("kubernetes.master", "kubernetes.auth.token", "kubernetes.certs.ca.data",
                    "kubernetes.auth.tryKubeConfig", "kubernetes.auth.tryServiceAccount")) {
                System.clearProperty(key);
            }
        }
    }
}
