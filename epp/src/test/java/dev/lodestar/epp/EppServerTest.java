package dev.lodestar.epp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.datalayer.MetricFamilies;
import dev.lodestar.epp.datalayer.PrometheusTextParser;
import dev.lodestar.epp.datalayer.Sample;
import dev.lodestar.epp.datastore.ModelRewrites;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EppServerTest {
    private static final String[] LOCAL = {"--grpc-port=0", "--grpc-health-port=0", "--metrics-port=0",
            "--secure-serving=false", "--metrics-endpoint-auth=false"};

    @TempDir
    Path dir;

    private EppServer epp;

    @AfterEach
    void stop() {
        if (epp != null) {
            epp.close();
        }
    }

    private static EppOptions options(String... flags) {
        List<String> all = new ArrayList<>(List.of(LOCAL));
        all.addAll(List.of(flags));
        return EppOptions.parse(all.toArray(String[]::new));
    }

    @Test
    void refusesToStartWithoutAPool() {
        assertThatThrownBy(() -> EppServer.start(options()))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("no pool")
                .hasMessageContaining("--static-endpoints");
    }

    @Test
    void refusesAPoolGivenTwice() throws Exception {
        Path endpoints = dir.resolve("endpoints.yaml");
        Files.writeString(endpoints, "endpoints: []\n");
        String config = """
                apiVersion: inference.networking.x-k8s.io/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                - name: files
                  type: file-discovery
                  parameters: {path: %s}
                dataLayer:
                  discovery: {pluginRef: files}
                """.formatted(endpoints);
        assertThatThrownBy(() -> EppServer.start(options("--config-text=" + config,
                "--static-endpoints=127.0.0.1:8000")))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("the pool is given more than once")
                .hasMessageContaining("dataLayer.discovery")
                .hasMessageContaining("--static-endpoints");
    }

    @Test
    void kubernetesFlagsNeedTheControllersModule() {
        assertThatThrownBy(() -> EppServer.start(options("--pool-name=pool")))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("--pool-name needs the Kubernetes pool source");
        assertThatThrownBy(() -> EppServer.start(options("--ha-enable-leader-election",
                "--static-endpoints=127.0.0.1:8000")))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("--ha-enable-leader-election");
    }

    @Test
    void namesTheBrokenObjectsFile() throws Exception {
        Path objects = dir.resolve("objects.yaml");
        Files.writeString(objects, """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: chat}
                spec: {priority: 1, poolRef: {name: pool}, colour: blue}
                """);
        assertThatThrownBy(() -> EppServer.start(options("--static-endpoints=127.0.0.1:8000",
                "--inference-objects-file=" + objects)))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining(objects.toString())
                .hasMessageContaining("colour");
    }

    @Test
    void loadsObjectivesAndRewritesFromTheObjectsFile() throws Exception {
        Path objects = dir.resolve("objects.yaml");
        Files.writeString(objects, """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: chat, namespace: default}
                spec: {priority: 3, poolRef: {name: pool}}
                ---
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: canary, namespace: default}
                spec:
                  poolRef: {name: pool}
                  rules:
                  - matches: [{model: {value: llama}}]
                    targets: [{modelRewrite: llama-v2}]
                """);
        epp = EppServer.start(options("--static-endpoints=127.0.0.1:8000", "--inference-objects-file=" + objects));

        assertThat(epp.datastore().objectives()).singleElement()
                .satisfies(objective -> assertThat(objective.spec().priority()).isEqualTo(3));
        assertThat(epp.datastore().rewrites().rewrite("llama", new Random(1)))
                .hasValue(new ModelRewrites.Decision("canary", "llama-v2"));
    }

    @Test
    void forgetsInFlightCountersOfAnEndpointThatLeavesThePool() {
        epp = EppServer.start(options("--static-endpoints=vllm-0=127.0.0.1:8000,vllm-1=127.0.0.2:8000",
                "--config-text=" + """
                        apiVersion: inference.networking.x-k8s.io/v1alpha1
                        kind: EndpointPickerConfig
                        plugins:
                        - type: inflight-load-producer
                        - type: token-load-scorer
                        schedulingProfiles:
                        - name: default
                          plugins: [{pluginRef: token-load-scorer}]
                        """));
        InFlightLoadProducer producer = plugin(InFlightLoadProducer.class);
        Endpoint target = endpoint("vllm-0");
        EndpointKey key = target.metadata().key();

        producer.preRequest(request("r1", "a short prompt"), routedTo(target), new HashMap<>());
        assertThat(producer.load(key).requests()).isEqualTo(1);

        epp.datastore().removeEndpoint(key);

        assertThat(producer.load(key)).isEqualTo(InFlightLoad.IDLE);
    }

    @Test
    void exportsPrefixIndexSizeAndMatchesOfTheDefaultProducer() throws Exception {
        epp = EppServer.start(options("--static-endpoints=vllm-0=127.0.0.1:8000"));
        ApproxPrefixCacheProducer producer = plugin(ApproxPrefixCacheProducer.class);
        Endpoint target = endpoint("vllm-0");
        LlmRequest request = request("r1", "lorem ipsum dolor sit amet ".repeat(40));

        producer.prepareRequestData(request, List.of(target));
        producer.preRequest(request, routedTo(target), new HashMap<>());
        producer.flush().join();

        Map<String, Double> samples = scrape();
        assertThat(samples.get("inference_extension_prefix_indexer_size")).isEqualTo(producer.indexedBlocks())
                .isGreaterThan(0.0);
        assertThat(samples).containsEntry("inference_extension_prefix_indexer_hit_bytes_count", 1.0)
                .containsEntry("inference_extension_prefix_indexer_hit_bytes_sum", 0.0);
    }

    private <T> T plugin(Class<T> type) {
        return epp.config().plugins().values().stream().filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " in the configuration"));
    }

    private Endpoint endpoint(String name) {
        return epp.datastore().endpoints().stream().filter(state -> state.metadata().podName().equals(name))
                .map(state -> new Endpoint(state.metadata(), state.metrics())).findFirst()
                .orElseThrow(() -> new AssertionError("no endpoint " + name));
    }

    private static SchedulingResult routedTo(Endpoint target) {
        return new SchedulingResult(Map.of("default", new ProfileRunResult(List.of(target))), "default");
    }

    private static LlmRequest request(String id, String prompt) {
        ObjectNode payload = new ObjectMapper().createObjectNode().put("model", "m").put("prompt", prompt);
        byte[] raw = payload.toString().getBytes(StandardCharsets.UTF_8);
        return new LlmRequest(id, "m", "m", LlmRequestBody.parsed(ApiType.COMPLETIONS, payload, raw), Map.of(), 0,
                null, raw.length);
    }

    private Map<String, Double> scrape() throws Exception {
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + epp.metricsPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        MetricFamilies families = PrometheusTextParser.create().parse(text);
        Map<String, Double> samples = new HashMap<>();
        families.families().forEach(family -> {
            for (Sample sample : family.samples()) {
                if (sample.labels().asMap().isEmpty()) {
                    samples.put(sample.name(), sample.value());
                }
            }
        });
        return samples;
    }
}
