package dev.lodestar.controllers.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Smoke test of {@link KubeApiServer}: a real kube-apiserver and etcd answer what controllers need — namespaces, a
 * CRD whose CEL rule the server enforces, create/get/watch of a custom resource through a fabric8 informer, a Pod
 * object whose status is patched to Ready (no kubelet), Leases and leader election, and RBAC through impersonation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class KubeApiServerIT {
    static final String NS = "smoke";
    static final ResourceDefinitionContext WIDGETS = new ResourceDefinitionContext.Builder()
            .withGroup("test.lodestar.dev").withVersion("v1").withKind("Widget").withPlural("widgets")
            .withNamespaced(true).build();
    static final String CEL_MESSAGE = "minReplicas must not exceed replicas";
    static final String WIDGET_CRD = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.test.lodestar.dev
            spec:
              group: test.lodestar.dev
              scope: Namespaced
              names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
              versions:
                - name: v1
                  served: true
                  storage: true
                  subresources: {status: {}}
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec:
                          type: object
                          required: [replicas]
                          properties:
                            replicas: {type: integer, minimum: 0}
                            minReplicas: {type: integer, minimum: 0}
                          x-kubernetes-validations:
                            - rule: "!has(self.minReplicas) || self.minReplicas <= self.replicas"
                              message: "%s"
                        status:
                          type: object
                          x-kubernetes-preserve-unknown-fields: true
            """.formatted(CEL_MESSAGE);

    private KubeApiServer kube;
    private KubernetesClient client;
    private String skipReason;

    @BeforeAll
    void start() throws Exception {
        Optional<KubeApiServer.Binaries> binaries = KubeApiServer.binaries();
        if (binaries.isEmpty()) {
            String reason = KubeApiServer.missingBinariesReason();
            if (KubeApiServer.required()) {
                fail(reason + " (" + KubeApiServer.REQUIRED_ENV + " is set, so this is an error, not a skip)");
            }
            System.err.println("controllers: skipping KubeApiServerIT: " + reason);
            skipReason = reason; // aborted in @BeforeEach: an aborted @BeforeAll reports 0 tests, not skips
            return;
        }
        long t0 = System.nanoTime();
        kube = KubeApiServer.start(KubeApiServerIT.class.getSimpleName(), binaries.get());
        System.err.printf("controllers: kube-apiserver ready in %d ms (start-to-ready), etcd + apiserver in %d ms; %s%n",
                kube.startToReady().toMillis(), (System.nanoTime() - t0) / 1_000_000, kube.url());
        client = kube.client();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .create();
    }

    @BeforeEach
    void skipWithoutTheBinaries() {
        Assumptions.assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    void stop() {
        if (kube != null) {
            long t0 = System.nanoTime();
            kube.close();
            System.err.printf("controllers: control plane stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void servesTheRealApi() {
        assertThat(client.getKubernetesVersion().getGitVersion()).startsWith("v1.");
        assertThat(client.namespaces().withName(NS).get().getStatus().getPhase()).isEqualTo("Active");
        assertThat(client.namespaces().withName("default").get()).isNotNull();
    }

    @Test
    void theCrdsCelRuleIsEnforcedAndWidgetsAreWatched(@TempDir Path tmp) throws Exception {
        Path crdFile = tmp.resolve("widgets-crd.yaml");
        Files.writeString(crdFile, WIDGET_CRD);
        long t0 = System.nanoTime();
        List<HasMetadata> applied = kube.apply(crdFile);
        System.err.printf("controllers: CRD applied and Established in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(applied).singleElement().satisfies(o -> assertThat(o.getKind()).isEqualTo("CustomResourceDefinition"));
        MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>>
                widgets = client.genericKubernetesResources(WIDGETS);

        // The real server evaluates the CEL rule: minReplicas > replicas is refused with the rule's message.
        assertThatThrownBy(() -> widgets.inNamespace(NS).resource(widget("bad", 1, 2)).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains(CEL_MESSAGE);
                });
        assertThatThrownBy(() -> widgets.inNamespace(NS).resource(widget("no-replicas", null, null)).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e ->
                        assertThat(e.getMessage()).contains("spec.replicas: Required value"));

        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        SharedIndexInformer<GenericKubernetesResource> informer = widgets.inNamespace(NS).inform(
                new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(GenericKubernetesResource obj) {
                        events.add("ADD " + obj.getMetadata().getName() + " " + replicas(obj));
                    }

                    @Override
                    public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
                        events.add("UPDATE " + newObj.getMetadata().getName() + " " + replicas(newObj));
                    }

                    @Override
                    public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
                        events.add("DELETE " + obj.getMetadata().getName());
                    }
                });
        try {
            assertThat(informer.hasSynced()).isTrue();
            widgets.inNamespace(NS).resource(widget("w1", 2, 1)).create();
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("ADD w1 2");

            GenericKubernetesResource got = widgets.inNamespace(NS).withName("w1").get();
            assertThat(replicas(got)).isEqualTo(2);
            widgets.inNamespace(NS).withName("w1").edit(w -> {
                spec(w).put("replicas", 3);
                return w;
            });
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("UPDATE w1 3");

            // The status subresource is separate from spec, as controllers will use it.
            GenericKubernetesResource withStatus = widgets.inNamespace(NS).withName("w1").get();
            withStatus.setAdditionalProperty("status", Map.of("readyReplicas", 3));
            widgets.inNamespace(NS).resource(withStatus).updateStatus();
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("UPDATE w1 3");

            widgets.inNamespace(NS).withName("w1").delete();
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("DELETE w1");
            assertThat(events.poll(300, TimeUnit.MILLISECONDS)).as("no spurious events").isNull();
        } finally {
            informer.close();
        }
    }

    @Test
    void aPodObjectsStatusCanBePatchedToReady() {
        Pod pod = client.pods().inNamespace(NS).resource(new PodBuilder()
                .withNewMetadata().withName("model-server-0").addToLabels("app", "model-server").endMetadata()
                .withNewSpec().addNewContainer().withName("vllm").withImage("registry.invalid/vllm:none").endContainer()
                .endSpec().build()).create();
        assertThat(pod.getMetadata().getUid()).isNotBlank();

        // No kubelet runs: the test plays it and writes the status a kubelet would.
        client.pods().inNamespace(NS).withName("model-server-0").editStatus(p -> new PodBuilder(p)
                .editOrNewStatus().withPhase("Running").withPodIP("10.1.0.7")
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build());

        Pod got = client.pods().inNamespace(NS).withName("model-server-0").get();
        assertThat(got.getStatus().getPhase()).isEqualTo("Running");
        assertThat(got.getStatus().getPodIP()).isEqualTo("10.1.0.7");
        assertThat(got.getStatus().getConditions())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("Ready");
                    assertThat(c.getStatus()).isEqualTo("True");
                });
    }

    @Test
    void leasesWorkAndALeaderIsElected() throws Exception {
        Lease lease = client.leases().inNamespace(NS).resource(new LeaseBuilder()
                .withNewMetadata().withName("plain-lease").endMetadata()
                .withNewSpec().withHolderIdentity("someone").withLeaseDurationSeconds(15)
                .withAcquireTime(ZonedDateTime.now()).withRenewTime(ZonedDateTime.now()).endSpec()
                .build()).create();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("someone");

        CountDownLatch leading = new CountDownLatch(1);
        CompletableFuture<?> election = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName("lodestar-test-election")
                .withLock(new LeaseLock(NS, "lodestar-controllers", "candidate-1"))
                .withLeaseDuration(Duration.ofSeconds(15))
                .withRenewDeadline(Duration.ofSeconds(10))
                .withRetryPeriod(Duration.ofMillis(500))
                .withLeaderCallbacks(new LeaderCallbacks(leading::countDown, () -> { }, id -> { }))
                .withReleaseOnCancel(true)
                .build()).build().start();
        try {
            assertThat(leading.await(20, TimeUnit.SECONDS)).as("became leader").isTrue();
            assertThat(client.leases().inNamespace(NS).withName("lodestar-controllers").get().getSpec()
                    .getHolderIdentity()).isEqualTo("candidate-1");
        } finally {
            election.cancel(true);
        }
    }

    @Test
    void rbacIsEnforcedForAnImpersonatedUser() {
        KubernetesClient alice = kube.clientAs("alice");
        assertThatThrownBy(() -> alice.pods().inNamespace(NS).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));

        client.rbac().roles().inNamespace(NS).resource(new RoleBuilder().withNewMetadata().withName("pod-reader")
                .endMetadata().addNewRule().withApiGroups("").withResources("pods").withVerbs("get", "list", "watch")
                .endRule().build()).create();
        client.rbac().roleBindings().inNamespace(NS).resource(new RoleBindingBuilder().withNewMetadata()
                .withName("alice-reads-pods").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName("pod-reader")
                .endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName("alice")
                .endSubject().build()).create();

        assertThat(alice.pods().inNamespace(NS).list().getItems()).isNotNull();
        assertThatThrownBy(() -> alice.secrets().inNamespace(NS).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }

    private static GenericKubernetesResource widget(String name, Integer replicas, Integer minReplicas) {
        Map<String, Object> spec = new java.util.LinkedHashMap<>();
        if (replicas != null) {
            spec.put("replicas", replicas);
        }
        if (minReplicas != null) {
            spec.put("minReplicas", minReplicas);
        }
        return new GenericKubernetesResourceBuilder().withApiVersion("test.lodestar.dev/v1").withKind("Widget")
                .withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .addToAdditionalProperties("spec", spec).build();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource w) {
        return (Map<String, Object>) w.getAdditionalProperties().get("spec");
    }

    private static Object replicas(GenericKubernetesResource w) {
        return ((Number) spec(w).get("replicas")).intValue();
    }
}
