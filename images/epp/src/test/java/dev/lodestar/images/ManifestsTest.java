package dev.lodestar.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObject;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.api.inference.InferenceObjects;
import dev.lodestar.epp.EppOptions;
import dev.lodestar.epp.config.ConfigLoader;
import dev.lodestar.epp.config.EppConfig;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.lodestar.images.Manifests.build;
import static dev.lodestar.images.Manifests.manifests;
import static dev.lodestar.images.Manifests.ofKind;
import static dev.lodestar.images.Manifests.one;
import static dev.lodestar.images.Manifests.texts;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps config/manifests honest against the code: RBAC is exactly what the EPP calls, the Deployment's flags,
 * ports and probes are the EPP's, its EndpointPickerConfig loads, the example objects parse as the EPP reads
 * them, Envoy's config is valid for Envoy's own protos and points at the EPP, and the OpenShift overlay meets
 * the restricted SCC.
 */
class ManifestsTest {
    static final String EPP = "vllm-qwen3-32b-epp";
    static final String POOL = "vllm-qwen3-32b";
    static final String EXT_PROC_SERVICE = "envoy.service.ext_proc.v3.ExternalProcessor";

    /** What the EPP (controllers/) calls in its namespace; discovery needs nothing (system:discovery). */
    static final Set<String> EPP_PERMISSIONS = Set.of(
            "/pods:get", "/pods:list", "/pods:watch",
            "inference.networking.k8s.io/inferencepools:get", "inference.networking.k8s.io/inferencepools:list",
            "inference.networking.k8s.io/inferencepools:watch",
            "inference.networking.x-k8s.io/inferenceobjectives:get",
            "inference.networking.x-k8s.io/inferenceobjectives:list",
            "inference.networking.x-k8s.io/inferenceobjectives:watch",
            "inference.networking.x-k8s.io/inferencemodelrewrites:get",
            "inference.networking.x-k8s.io/inferencemodelrewrites:list",
            "inference.networking.x-k8s.io/inferencemodelrewrites:watch",
            "inference.networking.x-k8s.io/inferencemodels:get",
            "inference.networking.x-k8s.io/inferencemodels:list",
            "inference.networking.x-k8s.io/inferencemodels:watch",
            "llm-d.ai/inferenceobjectives:get", "llm-d.ai/inferenceobjectives:list",
            "llm-d.ai/inferenceobjectives:watch",
            "llm-d.ai/inferencemodelrewrites:get", "llm-d.ai/inferencemodelrewrites:list",
            "llm-d.ai/inferencemodelrewrites:watch",
            "coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create",
            "coordination.k8s.io/leases:update");

    private final List<JsonNode> base = build(manifests());

    // --- structure ---

    @Test
    void everyYamlFileIsPartOfAKustomization() throws IOException {
        Set<Path> listed = new TreeSet<>();
        for (Path dir : List.of(manifests(), manifests().resolve("base"), manifests().resolve("ha"),
                manifests().resolve("openshift"))) {
            JsonNode k = Manifests.kustomization(dir);
            listed.add(dir.resolve("kustomization.yaml"));
            k.path("resources").forEach(r -> listed.add(dir.resolve(r.asText()).normalize()));
            k.path("patches").forEach(p -> listed.add(dir.resolve(p.path("path").asText()).normalize()));
        }
        try (Stream<Path> files = Files.walk(manifests())) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .map(Path::normalize).toList();
            assertThat(listed).containsAll(yaml);
        }
        assertThat(base).allSatisfy(o -> assertThat(o.path("apiVersion").asText()).isNotEmpty());
        assertThat(base).filteredOn(o -> !o.path("kind").asText().equals("Namespace"))
                .allSatisfy(o -> assertThat(o.at("/metadata/namespace").asText()).isEqualTo("lodestar"));
    }

    // --- RBAC ---

    @Test
    void rbacGrantsExactlyWhatTheEppUses() {
        assertThat(ofKind(base, "ClusterRole")).isEmpty();
        assertThat(ofKind(base, "ClusterRoleBinding")).isEmpty();
        assertThat(ofKind(base, "Role")).hasSize(1);
        JsonNode role = ofKind(base, "Role").get(0);
        Set<String> granted = new TreeSet<>();
        for (JsonNode rule : role.path("rules")) {
            assertThat(rule.has("resourceNames")).as("resourceNames").isFalse();
            assertThat(rule.has("nonResourceURLs")).as("nonResourceURLs").isFalse();
            for (String group : texts(rule.path("apiGroups"))) {
                for (String resource : texts(rule.path("resources"))) {
                    for (String verb : texts(rule.path("verbs"))) {
                        assertThat(List.of(group, resource, verb)).doesNotContain("*");
                        assertThat(granted.add(group + "/" + resource + ":" + verb))
                                .as("granted twice: %s/%s:%s", group, resource, verb).isTrue();
                    }
                }
            }
        }
        assertThat(granted).containsExactlyInAnyOrderElementsOf(EPP_PERMISSIONS);

        JsonNode binding = ofKind(base, "RoleBinding").get(0);
        assertThat(ofKind(base, "RoleBinding")).hasSize(1);
        assertThat(binding.at("/roleRef/kind").asText()).isEqualTo("Role");
        assertThat(binding.at("/roleRef/name").asText()).isEqualTo(role.at("/metadata/name").asText());
        JsonNode subjects = binding.path("subjects");
        assertThat(subjects).hasSize(1);
        assertThat(subjects.get(0).path("kind").asText()).isEqualTo("ServiceAccount");
        assertThat(subjects.get(0).path("name").asText()).isEqualTo(eppPod(base).path("serviceAccountName").asText());
        assertThat(subjects.get(0).path("namespace").asText()).isEqualTo("lodestar");
        one(base, "ServiceAccount", subjects.get(0).path("name").asText());
        // Only the EPP talks to the API server.
        for (JsonNode deployment : ofKind(base, "Deployment")) {
            if (!deployment.at("/metadata/name").asText().equals(EPP)) {
                assertThat(deployment.at("/spec/template/spec/serviceAccountName").isMissingNode()).isTrue();
            }
        }
    }

    // --- the EPP Deployment and Service ---

    @Test
    void eppFlagsPortsAndProbesAreTheEpps() {
        JsonNode container = eppContainer(base);
        EppOptions options = EppOptions.parse(texts(container.path("args")).toArray(String[]::new));

        assertThat(options.poolName()).isEqualTo(POOL);
        one(base, "InferencePool", options.poolName());
        assertThat(options.poolGroup()).isEqualTo("inference.networking.k8s.io");
        assertThat(options.haEnableLeaderElection()).isFalse();
        assertThat(options.secureServing()).as("ext_proc over TLS, as Envoy's cluster expects").isTrue();
        // /metrics: open, or a token file that is mounted.
        if (options.metricsEndpointAuth()) {
            Path tokens = options.metricsTokenFile().orElseThrow(() -> new AssertionError(
                    "--metrics-endpoint-auth without --metrics-token-file answers every scrape with 401"));
            assertThat(mountedVolume(eppPod(base), container, tokens.toString())).isPresent();
        }

        assertThat(containerPorts(container)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "grpc", options.grpcPort(), "grpc-health", options.grpcHealthPort(), "metrics", options.metricsPort()));
        assertThat(container.at("/livenessProbe/grpc/port").asInt()).isEqualTo(options.grpcHealthPort());
        assertThat(container.at("/readinessProbe/grpc/port").asInt()).isEqualTo(options.grpcHealthPort());
        assertThat(container.at("/livenessProbe/grpc/service").asText()).isEqualTo(EXT_PROC_SERVICE);
        assertThat(container.at("/readinessProbe/grpc/service").asText()).isEqualTo(EXT_PROC_SERVICE);

        Map<String, String> env = new HashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.at("/valueFrom/fieldRef/fieldPath").asText()));
        assertThat(env).containsEntry("NAMESPACE", "metadata.namespace").containsEntry("POD_NAME", "metadata.name");

        JsonNode deployment = one(base, "Deployment", EPP);
        assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(1);
        assertThat(deployment.at("/spec/strategy/type").asText()).isEqualTo("Recreate");
        assertThat(container.at("/resources/requests").isObject()).isTrue();
        assertThat(container.at("/resources/limits/memory").isMissingNode()).isFalse();
    }

    @Test
    void haOverlayIsLeaderElectionWithGiesProbeServices() {
        List<JsonNode> ha = build(manifests().resolve("ha"));
        JsonNode container = eppContainer(ha);
        EppOptions options = EppOptions.parse(texts(container.path("args")).toArray(String[]::new));
        assertThat(options.haEnableLeaderElection()).isTrue();
        assertThat(one(ha, "Deployment", EPP).at("/spec/replicas").asInt()).isGreaterThan(1);
        assertThat(container.at("/livenessProbe/grpc/service").asText()).isEqualTo("liveness");
        assertThat(container.at("/readinessProbe/grpc/service").asText()).isEqualTo("readiness");
        assertThat(container.at("/readinessProbe/grpc/port").asInt()).isEqualTo(options.grpcHealthPort());
    }

    @Test
    void serviceExposesExtProcAsHttp2ToTheEppPods() {
        JsonNode service = one(base, "Service", EPP);
        JsonNode container = eppContainer(base);
        Map<String, Integer> ports = containerPorts(container);
        JsonNode extProc = port(service, 9002);
        assertThat(extProc.path("appProtocol").asText()).isEqualTo("http2");
        assertThat(targetPort(extProc, ports)).isEqualTo(EppOptions.parse().grpcPort());
        assertThat(targetPort(port(service, 9090), ports)).isEqualTo(EppOptions.parse().metricsPort());
        assertSelects(service.at("/spec/selector"), one(base, "Deployment", EPP));
    }

    @Test
    void configMapHoldsGiesDefaultProfileAndLoads() throws Exception {
        JsonNode container = eppContainer(base);
        EppOptions options = EppOptions.parse(texts(container.path("args")).toArray(String[]::new));
        Path configFile = options.configFile().orElseThrow();
        JsonNode mount = mountedVolume(eppPod(base), container, configFile.toString())
                .orElseThrow(() -> new AssertionError(configFile + " is not mounted"));
        String configMapName = mount.at("/configMap/name").asText();
        String key = configFile.getFileName().toString();
        String text = one(base, "ConfigMap", configMapName).at("/data").path(key).asText(null);
        assertThat(text).as("ConfigMap %s key %s", configMapName, key).isNotNull();

        EppConfig config = new ConfigLoader(PluginRegistry.builtIn(), List::of, PluginTimer.NONE).load(Optional.of(text));
        try {
            SchedulerProfile profile = config.scheduler().profiles().get("default");
            Map<String, Double> weights = new LinkedHashMap<>();
            for (WeightedScorer scorer : profile.scorers()) {
                weights.put(scorer.scorer().typedName().type(), scorer.weight());
            }
            assertThat(config.scheduler().profiles()).containsOnlyKeys("default");
            assertThat(weights).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "queue-scorer", 2.0, "kv-cache-utilization-scorer", 2.0, "prefix-cache-scorer", 3.0));
            assertThat(config.discovery()).as("the pool comes from Kubernetes, not from the config").isEmpty();
        } finally {
            for (Plugin plugin : config.plugins().values()) {
                if (plugin instanceof AutoCloseable closeable) {
                    closeable.close();
                }
            }
        }
    }

    // --- the pool and its objects ---

    @Test
    void poolSelectsTheSimulatorsAndNamesTheEppService() {
        JsonNode pool = one(base, "InferencePool", POOL);
        assertThat(pool.path("apiVersion").asText()).isEqualTo("inference.networking.k8s.io/v1");
        JsonNode ref = pool.at("/spec/endpointPickerRef");
        assertThat(ref.path("kind").asText("Service")).isEqualTo("Service");
        JsonNode service = one(base, "Service", ref.path("name").asText());
        port(service, ref.at("/port/number").asInt());
        assertThat(ref.at("/port/number").asInt()).isEqualTo(9002);

        JsonNode simulator = one(base, "Deployment", POOL);
        assertSelects(pool.at("/spec/selector/matchLabels"), simulator);
        JsonNode simContainer = simulator.at("/spec/template/spec/containers/0");
        List<Integer> targetPorts = new ArrayList<>();
        pool.at("/spec/targetPorts").forEach(p -> targetPorts.add(p.path("number").asInt()));
        assertThat(containerPorts(simContainer).values()).containsAll(targetPorts);

        assertThat(simulator.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(simulator.at("/spec/template/metadata/labels").path("inference.networking.k8s.io/engine-type").asText())
                .isEqualTo("vllm");
        assertThat(simContainer.path("image").asText()).isEqualTo("lodestar-simulator:dev");
        assertThat(texts(simContainer.path("args"))).containsSubsequence("--model", "Qwen/Qwen3-32B")
                .containsSubsequence("--port", "8000").containsSubsequence("--max-loras", "2")
                .contains("--lora-modules");
        assertThat(eppContainer(base).path("image").asText()).isEqualTo("lodestar-epp:dev");
    }

    @Test
    void objectivesAndRewritesParseAsTheEppReadsThemAndNameThePool() throws IOException {
        List<InferenceObject> objects = new ArrayList<>();
        for (String file : List.of("inferenceobjective.yaml", "inferencemodelrewrite.yaml")) {
            objects.addAll(InferenceObjects.parse(Files.readString(manifests().resolve("base").resolve(file))));
        }
        assertThat(objects).hasAtLeastOneElementOfType(InferenceObjective.class)
                .hasAtLeastOneElementOfType(InferenceModelRewrite.class);
        JsonNode objectives = new ObjectMapper().valueToTree(objects);
        for (JsonNode object : objectives) {
            assertThat(object.at("/spec/poolRef/name").asText()).isEqualTo(POOL);
            assertThat(object.at("/spec/poolRef/group").asText()).isEqualTo("inference.networking.k8s.io");
        }
        // The rewrite targets models the simulators serve.
        InferenceModelRewrite rewrite = objects.stream().filter(InferenceModelRewrite.class::isInstance)
                .map(InferenceModelRewrite.class::cast).findFirst().orElseThrow();
        List<String> served = List.of("Qwen/Qwen3-32B", "food-review-1");
        rewrite.spec().rules().forEach(rule -> rule.targets().forEach(t -> assertThat(served).contains(t.modelRewrite())));

        JsonNode model = ofKind(base, "InferenceModel").get(0);
        assertThat(model.path("apiVersion").asText()).isEqualTo("inference.networking.x-k8s.io/v1alpha2");
        assertThat(model.at("/spec/poolRef/name").asText()).isEqualTo(POOL);
        assertThat(model.at("/spec/poolRef/group").asText()).isEqualTo("inference.networking.k8s.io");
        assertThat(List.of("Critical", "Standard", "Sheddable")).contains(model.at("/spec/criticality").asText());
        assertThat(served).contains(model.at("/spec/modelName").asText());
    }

    // --- Envoy ---

    @Test
    void envoyConfigIsValidForEnvoysProtosAndCallsTheEpp() throws Exception {
        String text = one(base, "ConfigMap", "envoy").at("/data").path("envoy.yaml").asText();
        String json = new ObjectMapper().writeValueAsString(Manifests.YAML.readTree(text));
        JsonFormat.TypeRegistry types = JsonFormat.TypeRegistry.newBuilder()
                .add(HttpConnectionManager.getDescriptor()).add(ExternalProcessor.getDescriptor())
                .add(Router.getDescriptor()).add(HealthCheck.getDescriptor()).add(UpstreamTlsContext.getDescriptor())
                .add(StdoutAccessLog.getDescriptor()).add(HttpProtocolOptions.getDescriptor()).build();
        Bootstrap.Builder builder = Bootstrap.newBuilder();
        // Strict: an unknown field or a wrong type fails here as it would fail Envoy's start.
        JsonFormat.parser().usingTypeRegistry(types).merge(json, builder);
        Bootstrap bootstrap = builder.build();

        Map<String, Cluster> clusters = new HashMap<>();
        bootstrap.getStaticResources().getClustersList().forEach(c -> clusters.put(c.getName(), c));
        Cluster extProcCluster = clusters.get("ext_proc");
        var address = extProcCluster.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
                .getSocketAddress();
        JsonNode eppService = one(base, "Service", address.getAddress());
        port(eppService, address.getPortValue());
        assertThat(address.getPortValue()).isEqualTo(9002);
        assertThat(extProcCluster.getTransportSocket().getTypedConfig().is(UpstreamTlsContext.class)).isTrue();
        assertThat(extProcCluster.getHealthChecks(0).getGrpcHealthCheck().getServiceName()).isEqualTo(EXT_PROC_SERVICE);
        assertThat(extProcCluster.getTypedExtensionProtocolOptionsMap()).containsKey(
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");

        Cluster destination = clusters.get("original_destination_cluster");
        assertThat(destination.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
        assertThat(destination.getOriginalDstLbConfig().getHttpHeaderName()).isEqualTo("x-gateway-destination-endpoint");

        Listener inference = bootstrap.getStaticResources().getListenersList().stream()
                .filter(l -> l.getName().equals("inference")).findFirst().orElseThrow();
        HttpConnectionManager hcm = inference.getFilterChains(0).getFilters(0).getTypedConfig()
                .unpack(HttpConnectionManager.class);
        List<String> filters = hcm.getHttpFiltersList().stream().map(HttpFilter::getName).toList();
        assertThat(filters).containsExactly("envoy.filters.http.ext_proc", "envoy.filters.http.router");
        ExternalProcessor extProc = hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class);
        assertThat(extProc.getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo("ext_proc");
        ProcessingMode mode = extProc.getProcessingMode();
        assertThat(mode.getRequestBodyMode()).isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(mode.getResponseBodyMode()).isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(mode.getRequestTrailerMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        assertThat(mode.getResponseTrailerMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        assertThat(mode.getResponseHeaderMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        assertThat(extProc.getFailureModeAllow()).as("FailClose, as the InferencePool says").isFalse();
        assertThat(one(base, "InferencePool", POOL).at("/spec/endpointPickerRef/failureMode").asText())
                .isEqualTo("FailClose");
        assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
                .isEqualTo("original_destination_cluster");

        // Every port Envoy listens on is unprivileged, and the container declares the ones served to others.
        JsonNode envoy = one(base, "Deployment", "envoy").at("/spec/template/spec/containers/0");
        for (Listener listener : bootstrap.getStaticResources().getListenersList()) {
            int port = listener.getAddress().getSocketAddress().getPortValue();
            assertThat(port).isGreaterThanOrEqualTo(1024);
            assertThat(containerPorts(envoy).values()).contains(port);
        }
        assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
        JsonNode envoyService = one(base, "Service", "envoy");
        assertThat(targetPort(port(envoyService, 8081), containerPorts(envoy))).isEqualTo(8081);
    }

    // --- security ---

    @Test
    void baseMeetsThePodSecurityRestrictedStandard() {
        assertThat(one(base, "Namespace", "lodestar").at("/metadata/labels")
                .path("pod-security.kubernetes.io/enforce").asText()).isEqualTo("restricted");
        for (JsonNode deployment : ofKind(base, "Deployment")) {
            assertRestricted(deployment, false);
        }
    }

    @Test
    void openShiftOverlayMeetsTheRestrictedScc() {
        List<JsonNode> openshift = build(manifests().resolve("openshift"));
        assertThat(ofKind(openshift, "Deployment")).hasSameSizeAs(ofKind(base, "Deployment"));
        for (JsonNode deployment : ofKind(openshift, "Deployment")) {
            assertRestricted(deployment, true);
        }
        assertThat(one(openshift, "Namespace", "lodestar").at("/metadata/labels")
                .has("pod-security.kubernetes.io/enforce")).isFalse();
        // The overlay changes nothing but the security settings.
        assertThat(ofKind(openshift, "Role")).isEqualTo(ofKind(base, "Role"));
        assertThat(eppContainer(openshift)).isEqualTo(eppContainer(base));
    }

    /** PSS restricted; with {@code arbitraryUid}, also OpenShift's restricted-v2 SCC (no fixed UID, GID or fsGroup). */
    private static void assertRestricted(JsonNode deployment, boolean arbitraryUid) {
        String name = deployment.at("/metadata/name").asText();
        JsonNode pod = deployment.at("/spec/template/spec");
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
            assertThat(pod.path(host).asBoolean(false)).as("%s %s", name, host).isFalse();
        }
        for (JsonNode volume : pod.path("volumes")) {
            assertThat(volume.has("hostPath")).as("%s hostPath", name).isFalse();
            assertThat(Set.of("configMap", "emptyDir", "secret", "projected", "downwardAPI"))
                    .as("%s volume %s", name, volume).containsAnyElementsOf(iterable(volume.fieldNames()));
        }
        JsonNode podSecurity = pod.path("securityContext");
        List<JsonNode> containers = new ArrayList<>();
        pod.path("containers").forEach(containers::add);
        pod.path("initContainers").forEach(containers::add);
        for (JsonNode container : containers) {
            String where = name + "/" + container.path("name").asText();
            JsonNode security = container.path("securityContext");
            assertThat(security.path("allowPrivilegeEscalation").asBoolean(true)).as("%s allowPrivilegeEscalation", where)
                    .isFalse();
            assertThat(security.path("privileged").asBoolean(false)).as("%s privileged", where).isFalse();
            assertThat(texts(security.at("/capabilities/drop"))).as("%s drops", where).contains("ALL");
            assertThat(security.at("/capabilities/add").size()).as("%s adds capabilities", where).isZero();
            boolean nonRoot = security.has("runAsNonRoot") ? security.path("runAsNonRoot").asBoolean()
                    : podSecurity.path("runAsNonRoot").asBoolean(false);
            assertThat(nonRoot).as("%s runAsNonRoot", where).isTrue();
            String seccomp = security.at("/seccompProfile/type").asText(podSecurity.at("/seccompProfile/type").asText());
            assertThat(seccomp).as("%s seccomp", where).isEqualTo("RuntimeDefault");
            for (JsonNode port : container.path("ports")) {
                assertThat(port.path("containerPort").asInt()).as("%s port", where).isGreaterThanOrEqualTo(1024);
                assertThat(port.has("hostPort")).as("%s hostPort", where).isFalse();
            }
            if (arbitraryUid) {
                for (String field : List.of("runAsUser", "runAsGroup")) {
                    assertThat(security.has(field)).as("%s %s", where, field).isFalse();
                }
            } else if (security.has("runAsUser")) {
                assertThat(security.path("runAsUser").asLong()).as("%s runAsUser", where).isPositive();
            }
        }
        if (arbitraryUid) {
            for (String field : List.of("runAsUser", "runAsGroup", "fsGroup", "supplementalGroups")) {
                assertThat(podSecurity.has(field)).as("%s pod %s", name, field).isFalse();
            }
        } else if (podSecurity.has("runAsUser")) {
            assertThat(podSecurity.path("runAsUser").asLong()).as("%s runAsUser", name).isPositive();
        }
    }

    // --- helpers ---

    private static Iterable<String> iterable(java.util.Iterator<String> it) {
        return () -> it;
    }

    static JsonNode eppPod(List<JsonNode> objects) {
        return one(objects, "Deployment", EPP).at("/spec/template/spec");
    }

    static JsonNode eppContainer(List<JsonNode> objects) {
        JsonNode containers = eppPod(objects).path("containers");
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    static Map<String, Integer> containerPorts(JsonNode container) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        return ports;
    }

    static JsonNode port(JsonNode service, int number) {
        for (JsonNode port : service.at("/spec/ports")) {
            if (port.path("port").asInt() == number) {
                return port;
            }
        }
        throw new AssertionError("Service " + service.at("/metadata/name").asText() + " has no port " + number);
    }

    static int targetPort(JsonNode servicePort, Map<String, Integer> containerPorts) {
        JsonNode target = servicePort.path("targetPort");
        if (target.isMissingNode()) {
            return servicePort.path("port").asInt();
        }
        if (target.isInt()) {
            return target.asInt();
        }
        Integer port = containerPorts.get(target.asText());
        assertThat(port).as("named port %s", target.asText()).isNotNull();
        return port;
    }

    static void assertSelects(JsonNode selector, JsonNode deployment) {
        Map<String, String> labels = new HashMap<>();
        deployment.at("/spec/template/metadata/labels").fields()
                .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        assertThat(selector.size()).isPositive();
        selector.fields().forEachRemaining(e -> assertThat(labels).containsEntry(e.getKey(), e.getValue().asText()));
    }

    /** The volume mounted at the longest mount path that contains {@code file}. */
    static Optional<JsonNode> mountedVolume(JsonNode pod, JsonNode container, String file) {
        JsonNode best = null;
        String bestPath = "";
        for (JsonNode mount : container.path("volumeMounts")) {
            String path = mount.path("mountPath").asText();
            if (Path.of(file).startsWith(Path.of(path)) && path.length() > bestPath.length()) {
                best = mount;
                bestPath = path;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        String volume = best.path("name").asText();
        for (JsonNode v : pod.path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }
}
