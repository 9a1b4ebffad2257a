package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.config.ConfigLoader;
import dev.lodestar.epp.config.EppConfig;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.metrics.EppMetrics;
import dev.lodestar.epp.metrics.MetricsDecisionRecorder;
import dev.lodestar.epp.metrics.MetricsExposition;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.disagg.DecisionRecorder;
import dev.lodestar.epp.plugins.disagg.DisaggProfileHandler;
import dev.lodestar.epp.plugins.disagg.PrefixBasedPdDecider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The P/D example configuration (llm-d Router's pd-epp-config.yaml) loaded as the server loads it and run
 * through a director on a fleet of two decode and two prefill pods.
 */
class PdDisaggregationConfigTest {
    private static final String MODEL = "llama";

    private final Datastore datastore = new Datastore();
    private final EppMetrics metrics = EppMetrics.builder().build();
    private final EppConfig config;
    private final Director director;

    PdDisaggregationConfigTest() throws IOException {
        datastore.replaceEndpoints(List.of(pod("decode-1", "10.0.1.1", "decode"), pod("decode-2", "10.0.1.2", "decode"),
                pod("prefill-1", "10.0.2.1", "prefill"), pod("prefill-2", "10.0.2.2", "prefill")));
        // the queue scorer breaks the tie of a cold cache: decode-1 and prefill-2 are idle
        queue("decode-1", 0);
        queue("decode-2", 3);
        queue("prefill-1", 2);
        queue("prefill-2", 0);
        config = new ConfigLoader(PluginRegistry.builtIn(),
                () -> datastore.endpoints().stream().map(EndpointState::metadata).toList(), (point, plugin, nanos) -> {
        }).load(Optional.of(resource("/configs/pd-epp-config.yaml")));
        for (Plugin plugin : config.plugins().values()) {
            if (plugin instanceof DecisionRecorder.Source source) {
                source.recordDecisionsWith(new MetricsDecisionRecorder(metrics));
            }
        }
        director = Director.builder().datastore(datastore).parser(config.parser()).scheduler(config.scheduler())
                .prepareDataPlugins(config.prepareData()).admissionPlugins(config.admission())
                .preRequestPlugins(config.preRequest()).responseHeaderPlugins(config.responseHeader())
                .responseBodyPlugins(config.responseBody()).build();
    }

    @AfterEach
    void closePlugins() throws Exception {
        for (Plugin plugin : config.plugins().values()) {
            if (plugin instanceof AutoCloseable closeable) {
                closeable.close();
            }
        }
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = PdDisaggregationConfigTest.class.getResourceAsStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static EndpointMetadata pod(String name, String ip, String role) {
        return new EndpointMetadata(EndpointKey.ofRank("default", name, 0), name, ip, 8000, ip + ":8000",
                Map.of("app", "vllm", "llm-d.ai/role", role));
    }

    private void queue(String pod, int waiting) {
        datastore.endpoint(EndpointKey.ofRank("default", pod, 0)).orElseThrow().updateMetrics(
                EndpointMetrics.builder().waitingQueueSize(waiting).updateTime(Instant.now()).build());
    }

    private static RequestContext chat(String id, String content, Map<String, String> headers) {
        RequestContext context = new RequestContext();
        context.requestHeaders().put(":path", "/v1/chat/completions");
        context.requestHeaders().put("x-request-id", id);
        context.requestHeaders().putAll(headers);
        context.requestId(id, false);
        context.requestBody(("{\"model\": \"" + MODEL + "\", \"messages\": [{\"role\": \"user\", \"content\": \""
                + content + "\"}]}").getBytes(StandardCharsets.UTF_8));
        return context;
    }

    private double decisions(String metric, String decisionType) {
        String text = MetricsExposition.text(metrics.registry());
        for (String line : text.split("\n")) {
            if (line.startsWith(metric + "{") && line.contains("decision_type=\"" + decisionType + "\"")
                    && line.contains("model_name=\"" + MODEL + "\"")) {
                if (metric.startsWith("llm_d_epp_")) {
                    assertThat(line).contains("plugin_name=\"disagg-profile-handler\"",
                            "plugin_type=\"disagg-profile-handler\"");
                }
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @Test
    void theExampleConfigurationWiresTheHandlerWithItsDeciderDeclaredAfterIt() {
        DisaggProfileHandler handler = (DisaggProfileHandler) config.scheduler().profileHandler();
        assertThat(handler.prefillDecider()).containsInstanceOf(PrefixBasedPdDecider.class);
        assertThat(config.scheduler().profiles()).containsOnlyKeys("prefill", "decode");
        assertThat(config.preRequest()).contains(handler);
    }

    @Test
    void aColdLongPromptGoesToDecodeAndPrefillAndAWarmOneToDecodeOnly() {
        String prompt = "Summarize the following text. " + "lorem ipsum dolor sit amet ".repeat(40);
        ApproxPrefixCacheProducer producer =
                (ApproxPrefixCacheProducer) config.plugins().get(ApproxPrefixCacheProducer.TYPE);

        // A client cannot choose the prefill pod: its header is not shown to the plugins.
        RequestContext cold = chat("cold", prompt, Map.of("x-prefiller-host-port", "6.6.6.6:80"));
        director.handleRequest(cold);
        assertThat(cold.destination()).isEqualTo("10.0.1.1:8000");
        assertThat(cold.headersToSet()).containsEntry("x-prefiller-host-port", "10.0.2.2:8000");
        assertThat(cold.llmRequest().orElseThrow().headers()).doesNotContainKey("x-prefiller-host-port");
        assertThat(decisions("llm_d_epp_disagg_decision_total", "prefill-decode")).isEqualTo(1);
        assertThat(decisions("llm_d_inference_scheduler_disagg_decision_total", "prefill-decode")).isEqualTo(1);

        // The index recorded the prompt's blocks on the decode pod and on the prefill pod.
        producer.flush().join();
        int blocks = cold.llmRequest().orElseThrow().body().prefixHashInput().length / (16 * 4);
        assertThat(blocks).isGreaterThan(10);
        assertThat(producer.indexedBlocks()).isEqualTo(2L * blocks);

        // The same prompt again: decode-1 holds all its full blocks; fewer than 16 tokens are uncached.
        RequestContext warm = chat("warm", prompt, Map.of("x-prefiller-host-port", "6.6.6.6:80"));
        director.handleRequest(warm);
        assertThat(warm.destination()).isEqualTo("10.0.1.1:8000");
        assertThat(warm.headersToSet()).doesNotContainKey("x-prefiller-host-port");
        assertThat(decisions("llm_d_epp_disagg_decision_total", "decode-only")).isEqualTo(1);
        assertThat(decisions("llm_d_epp_disagg_decision_total", "prefill-decode")).isEqualTo(1);
    }

    @Test
    void aShortPromptStaysOnDecode() {
        RequestContext shortPrompt = chat("short", "hi", Map.of());
        director.handleRequest(shortPrompt);

        assertThat(shortPrompt.destination()).isEqualTo("10.0.1.1:8000");
        assertThat(shortPrompt.headersToSet()).doesNotContainKey("x-prefiller-host-port");
        assertThat(decisions("llm_d_epp_disagg_decision_total", "decode-only")).isEqualTo(1);
    }

    @Test
    void withoutDecodePodsTheRequestFailsAsUpstream() {
        datastore.replaceEndpoints(List.of(pod("prefill-1", "10.0.2.1", "prefill")));

        RequestContext context = chat("r", "hi", Map.of());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> director.handleRequest(context))
                .isInstanceOfSatisfying(dev.lodestar.epp.framework.InferenceException.class, e -> assertThat(
                        e.clientMessage()).isEqualTo("inference error: ResourceExhausted - failed to find target"
                        + " endpoint: failed to find available decode workers"));
    }
}
