package dev.lodestar.kvconnector.sidecar;

import dev.lodestar.controllers.testing.Eventually;
import dev.lodestar.controllers.testing.KubeApiServer;
import dev.lodestar.controllers.testing.TestPods;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SSRF allowlist against a real kube-apiserver and etcd (our CRDs installed, RBAC enforced): the InferencePool's
 * ready pods, by IP and by name, as they come and go, read with upstream's sidecar permissions only; and the sidecar
 * refusing a prefill target outside the pool.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class PoolAllowlistIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final AtomicInteger NAMESPACES = new AtomicInteger();

    private KubeApiServer server;
    private KubernetesClient client;

    @BeforeAll
    void startApiServer() {
        server = KubeApiServer.startWithOurCrds("sidecar-allowlist");
        client = server.client();
    }

    @AfterAll
    void stopApiServer() {
        if (server != null) {
            server.close();
        }
    }

    private String newNamespace() {
        String name = "sidecar-" + NAMESPACES.incrementAndGet();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
        server.applyYaml("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: pool, namespace: %s}
                spec:
                  selector:
                    matchLabels: {llm-d.ai/inference-serving: "true"}
                  targetPorts:
                    - number: 8000
                  endpointPickerRef: {name: epp, port: {number: 9002}}
                """.formatted(name));
        return name;
    }

    /** A service account with upstream's sidecar RBAC only: read InferencePools and Pods of its namespace. */
    private KubernetesClient sidecarAccount(String namespace) {
        server.applyYaml("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: {name: pd-sidecar, namespace: %1$s}
                rules:
                  - apiGroups: [inference.networking.k8s.io]
                    resources: [inferencepools]
                    verbs: [get, list, watch]
                  - apiGroups: [""]
                    resources: [pods]
                    verbs: [get, list, watch]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: pd-sidecar, namespace: %1$s}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pd-sidecar}
                subjects:
                  - {kind: ServiceAccount, name: pd-sidecar, namespace: %1$s}
                """.formatted(namespace));
        return server.clientAs("system:serviceaccount:" + namespace + ":pd-sidecar", "system:serviceaccounts",
                "system:serviceaccounts:" + namespace);
    }

    private void createPod(String namespace, String name, boolean inPool, String ip, boolean ready) {
        TestPods.create(client, namespace, name, Map.of("llm-d.ai/inference-serving", inPool ? "true" : "false"),
                Map.of(), ip, ready);
    }

    private void setStatus(String namespace, String name, String ip, boolean ready) {
        TestPods.setStatus(client, namespace, name, ip, ready);
    }

    private static <T> void awaitEquals(String what, T expected, Supplier<T> actual) throws InterruptedException {
        Eventually.assertEquals(what, expected, actual, WAIT);
    }

    @Test
    void theReadyPodsOfThePoolAreAllowedByIpAndNameAsTheyChange() throws Exception {
        String namespace = newNamespace();
        createPod(namespace, "prefill-0", true, "10.3.0.1", true);
        createPod(namespace, "prefill-1", true, "10.3.0.2", false);
        createPod(namespace, "outsider", false, "10.3.0.9", true);

        try (PoolAllowlist allowlist = PoolAllowlist.watch(sidecarAccount(namespace),
                new SidecarConfig.PoolRef(namespace, "pool"), SidecarConfig.DEFAULT_POOL_GROUP)) {
            assertThat(allowlist.awaitSynced(WAIT)).isTrue();
            awaitEquals("the ready pod of the pool", Set.of("10.3.0.1", "prefill-0"), allowlist::hosts);
            assertThat(allowlist.allows("10.3.0.1:8000")).isTrue();
            assertThat(allowlist.allows("10.3.0.1:9999")).as("any port of an allowed host").isTrue();
            assertThat(allowlist.allows("prefill-0:8000")).isTrue();
            assertThat(allowlist.allows("10.3.0.2:8000")).as("not ready").isFalse();
            assertThat(allowlist.allows("10.3.0.9:8000")).as("not in the pool").isFalse();

            setStatus(namespace, "prefill-1", "10.3.0.2", true);
            awaitEquals("a pod that becomes ready joins", Set.of("10.3.0.1", "prefill-0", "10.3.0.2", "prefill-1"),
                    allowlist::hosts);

            client.pods().inNamespace(namespace).withName("prefill-0").withGracePeriod(0).delete();
            awaitEquals("a deleted pod leaves", Set.of("10.3.0.2", "prefill-1"), allowlist::hosts);
            assertThat(allowlist.allows("10.3.0.1:8000")).isFalse();
        }
    }

    @Test
    void theSidecarSendsPrefillsOnlyToPodsOfThePool() throws Exception {
        String namespace = newNamespace();
        createPod(namespace, "prefill-local", true, "127.0.0.1", true);
        try (ModelServerTestDouble prefill = ModelServerTestDouble.start();
             ModelServerTestDouble decoder = ModelServerTestDouble.start();
             PoolAllowlist allowlist = PoolAllowlist.watch(client, new SidecarConfig.PoolRef(namespace, "pool"),
                     SidecarConfig.DEFAULT_POOL_GROUP);
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            prefill.answer((request, res) -> ModelServerTestDouble.json(res, 200, "{\"kv_transfer_params\":{}}"));
            decoder.answer((request, res) -> ModelServerTestDouble.json(res, 200, "{\"choices\":[]}"));
            assertThat(allowlist.awaitSynced(WAIT)).isTrue();
            awaitEquals("the local prefill pod", Set.of("127.0.0.1", "prefill-local"), allowlist::hosts);
            try (Sidecar sidecar = Sidecar.start(SidecarConfig.plain(0, decoder.port())
                    .withInferencePool(new SidecarConfig.PoolRef(namespace, "pool")), allowlist)) {
                URI uri = URI.create("http://127.0.0.1:" + sidecar.port() + "/v1/completions");
                HttpResponse<String> allowed = http.send(HttpRequest.newBuilder(uri)
                        .header(PrefillTargets.HEADER, prefill.hostPort())
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"p\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(allowed.statusCode()).isEqualTo(200);
                assertThat(prefill.drain()).hasSize(1);

                HttpResponse<String> refused = http.send(HttpRequest.newBuilder(uri)
                        .header(PrefillTargets.HEADER, "169.254.169.254:80")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"p\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).isEqualTo(403);
                assertThat(refused.body()).isEqualTo(SidecarErrors.SSRF_FORBIDDEN + "\n");
            }
            assertThat(decoder.drain()).hasSize(1);
        }
    }
}
