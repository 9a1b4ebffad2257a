package dev.lodestar.epp.plugins.requestattributereporter;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.lodestar.epp.testing.HermeticEpp;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.lodestar.epp.testing.ExtProcMessages.destinationMetadata;
import static dev.lodestar.epp.testing.ExtProcMessages.ordered;
import static dev.lodestar.epp.testing.FakeVllmPod.pod;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * GIE v1.5.0's request-attribute-reporter integration tests (test/integration/epp/
 * request_attribute_reporter{,_streaming}_test.go, with testdata/request-attribute-reporter-config.yaml)
 * against the real EPP, plus the cases upstream leaves out: no usage, a false condition, another
 * namespace with a truncated double.
 *
 * <p>Upstream checks only the one cost field; here every response-phase message is compared whole, so
 * metadata that appears where it should not fails too.
 */
class RequestAttributeReporterIT {
    private static final String MODEL = "modelName";
    private static final String DESTINATION = "127.0.9.1:8000";
    private static final String COST = "x-gateway-inference-request-cost";

    /** Upstream's testdata/request-attribute-reporter-config.yaml. */
    private static final String UPSTREAM_CONFIG = """
            apiVersion: inference.networking.x-k8s.io/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: openai-parser
              - name: total-tokens-cost-reporter
                type: request-attribute-reporter
                parameters:
                  attributes:
                    - key:
                        namespace: envoy.lb
                        name: x-gateway-inference-request-cost
                      expression: |
                        usage.completion_tokens
                      condition: "has(usage.completion_tokens)"
            schedulingProfiles:
              - name: default
                plugins:
                  - pluginRef: openai-parser
                  - pluginRef: total-tokens-cost-reporter
            parser:
              pluginRef: openai-parser
            featureGates:
              - enableLegacyMetrics
            """;
    private static final String UPSTREAM_PROFILE_PLUGINS = """
                plugins:
                  - pluginRef: openai-parser
                  - pluginRef: total-tokens-cost-reporter
            """;
    /**
     * Upstream's config with the parser and the reporter left out of the scheduling profile: GIE's profile
     * ignores plugins that are no filter, scorer or picker, Lodestar's config loader rejects them
     * (ConfigLoaderTest.aProfileMayOnlyNameFiltersScorersAndPickers). The profile gets no plugins, as upstream's
     * effectively does.
     */
    private static final String CONFIG = withoutProfilePlugins(UPSTREAM_CONFIG);

    private static final String CHAT_COMPLETION = "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"logprobs\":null,"
            + "\"message\":{\"content\":\"Hello! How can I help you today?\",\"role\":\"assistant\"}}],"
            + "\"created\":1773675992,\"id\":\"chatcmpl-63a9a231-a267-4d15-a799-39e9dceef8a5\",\"model\":\"modelName\","
            + "\"object\":\"chat.completion\",\"usage\":{\"completion_tokens\":%d,\"prompt_tokens\":32,\"total_tokens\":%d}}";
    private static final String CHAT_COMPLETION_WITHOUT_USAGE = "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,"
            + "\"message\":{\"content\":\"Hi\",\"role\":\"assistant\"}}],\"created\":1773675992,\"id\":\"chatcmpl-1\","
            + "\"model\":\"modelName\",\"object\":\"chat.completion\"}";
    private static final List<String> SSE_CHUNKS = List.of(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hello! \"},\"index\":0,\"finish_reason\":null}],\"id\":\"123\","
                    + "\"created\":1,\"model\":\"modelName\",\"object\":\"chat.completion.chunk\"}\n",
            "data: {\"choices\":[{\"delta\":{},\"index\":0,\"finish_reason\":\"stop\"}],\"id\":\"123\",\"created\":1,"
                    + "\"model\":\"modelName\",\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":10,"
                    + "\"prompt_tokens\":32,\"total_tokens\":42}}\n",
            "data: [DONE]\n");

    private HermeticEpp epp;

    @AfterEach
    void stop() {
        if (epp != null) {
            epp.close();
        }
    }

    @Test
    void nonStreamingResponseBodyCarriesTheCompletionTokensAsCost() throws Exception {
        start(CONFIG);
        String body = CHAT_COMPLETION.formatted(10, 42);

        List<ProcessingResponse> responses = epp.exchange(
                exchange("hello", ordered("content-type", "application/json", "status", "200"), body), 4);

        assertRouted(responses);
        assertThat(responses.get(2).hasResponseHeaders()).isTrue();
        assertThat(responses.get(2).hasDynamicMetadata()).isFalse();
        assertThat(responses.get(3)).isEqualTo(responseBody(body, true, Optional.of(metadata("envoy.lb", COST, 10.0))));
    }

    @Test
    void streamedResponseCarriesTheCostOnceTheUsageChunkArrived() throws Exception {
        start(CONFIG);

        List<ProcessingResponse> responses = epp.exchange(exchange("hello",
                ordered("content-type", "text/event-stream", "status", "200"), SSE_CHUNKS.toArray(String[]::new)), 6);

        assertRouted(responses);
        assertThat(responses.get(2).hasResponseHeaders()).isTrue();
        assertThat(responses.get(3)).as("before the usage: the condition holds but the cost is 0, not reported")
                .isEqualTo(responseBody(SSE_CHUNKS.get(0), false, Optional.empty()));
        Struct cost = metadata("envoy.lb", COST, 10.0);
        assertThat(responses.get(4)).as("the usage chunk")
                .isEqualTo(responseBody(SSE_CHUNKS.get(1), false, Optional.of(cost)));
        assertThat(responses.get(5)).as("upstream's vector: the last message")
                .isEqualTo(responseBody(SSE_CHUNKS.get(2), true, Optional.of(cost)));
    }

    @Test
    void responseWithoutUsageReportsNothing() throws Exception {
        start(CONFIG);

        List<ProcessingResponse> responses = epp.exchange(exchange("no usage",
                ordered("content-type", "application/json", "status", "200"), CHAT_COMPLETION_WITHOUT_USAGE), 4);

        assertRouted(responses);
        assertThat(responses.get(3)).isEqualTo(responseBody(CHAT_COMPLETION_WITHOUT_USAGE, true, Optional.empty()));
    }

    @Test
    void falseConditionReportsNothingAndTrueConditionReports() throws Exception {
        start(config("envoy.lb", COST, "usage.completion_tokens", "usage.completion_tokens > 100"));
        String small = CHAT_COMPLETION.formatted(10, 42);
        String large = CHAT_COMPLETION.formatted(150, 182);

        List<ProcessingResponse> notMet = epp.exchange(
                exchange("small", ordered("content-type", "application/json"), small), 4);
        List<ProcessingResponse> met = epp.exchange(
                exchange("large", ordered("content-type", "application/json"), large), 4);

        assertThat(notMet.get(3)).isEqualTo(responseBody(small, true, Optional.empty()));
        assertThat(met.get(3)).isEqualTo(responseBody(large, true, Optional.of(metadata("envoy.lb", COST, 150.0))));
    }

    @Test
    void customNamespaceGetsTheValueTruncatedTowardsZero() throws Exception {
        start(config("example.com/ratelimit", "weighted-tokens", "usage.total_tokens / 4.0", ""));
        String body = CHAT_COMPLETION.formatted(10, 42);

        List<ProcessingResponse> responses = epp.exchange(
                exchange("hello", ordered("content-type", "application/json", "status", "200"), body), 4);

        assertRouted(responses);
        // 42 / 4.0 = 10.5, reported as 10; nothing lands in envoy.lb.
        assertThat(responses.get(3)).isEqualTo(responseBody(body, true,
                Optional.of(metadata("example.com/ratelimit", "weighted-tokens", 10.0))));
    }

    private static String withoutProfilePlugins(String config) {
        if (!config.contains(UPSTREAM_PROFILE_PLUGINS)) {
            throw new IllegalStateException("the upstream profile's plugin list is not in the config");
        }
        return config.replace(UPSTREAM_PROFILE_PLUGINS, "    plugins: []\n");
    }

    private void start(String config) throws IOException {
        epp = HermeticEpp.builder().configText(config).pods(List.of(pod(0, 0, 0.1, "my-model-12345"))).start();
    }

    /** {@link #CONFIG} with another attribute; no condition line when {@code condition} is empty. */
    private static String config(String namespace, String name, String expression, String condition) {
        // Inserted after the text block's indentation is stripped: the attribute's own (10 spaces).
        String conditionLine = condition.isEmpty() ? "" : "\n          condition: \"" + condition + "\"";
        return """
                apiVersion: inference.networking.x-k8s.io/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                  - type: openai-parser
                  - name: reporter
                    type: request-attribute-reporter
                    parameters:
                      attributes:
                        - key:
                            namespace: %s
                            name: %s
                          expression: "%s"%s
                schedulingProfiles:
                  - name: default
                    plugins: []
                parser:
                  pluginRef: openai-parser
                """.formatted(namespace, name, expression, conditionLine);
    }

    /**
     * Upstream's {@code ReqLLM(prompt, modelName, modelName)} followed by {@code ReqResponseOnly(headers, chunks)}:
     * request headers and body, response headers, the response body chunks with end of stream on the last.
     */
    private static List<ProcessingRequest> exchange(String prompt, Map<String, String> responseHeaders,
                                                    String... responseChunks) {
        List<ProcessingRequest> requests = new ArrayList<>();
        requests.add(ProcessingRequest.newBuilder().setRequestHeaders(HttpHeaders.newBuilder()
                .setHeaders(headerMap(ordered("hi", "mom", "x-request-id", "test-request-id",
                        "x-gateway-inference-objective", MODEL, "x-gateway-model-name-rewrite", MODEL)))).build());
        requests.add(ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFromUtf8(requestBody(prompt))).setEndOfStream(true)).build());
        requests.add(ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder()
                .setHeaders(headerMap(responseHeaders))).build());
        for (int i = 0; i < responseChunks.length; i++) {
            requests.add(ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                    .setBody(ByteString.copyFromUtf8(responseChunks[i]))
                    .setEndOfStream(i == responseChunks.length - 1)).build());
        }
        return requests;
    }

    private static String requestBody(String prompt) {
        return "{\"max_tokens\":100,\"model\":\"" + MODEL + "\",\"prompt\":\"" + prompt + "\",\"temperature\":0}";
    }

    private static HeaderMap headerMap(Map<String, String> headers) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        return map.build();
    }

    /** The request phase went to the one pod, with only the destination as metadata. */
    private static void assertRouted(List<ProcessingResponse> responses) {
        assertThat(responses.get(0).hasRequestHeaders()).isTrue();
        assertThat(responses.get(0).getDynamicMetadata()).isEqualTo(destinationMetadata(DESTINATION));
        assertThat(responses.get(1).hasRequestBody()).isTrue();
        assertThat(responses.get(1).hasDynamicMetadata()).isFalse();
    }

    private static Struct metadata(String namespace, String key, double value) {
        return Struct.newBuilder().putFields(namespace, Value.newBuilder().setStructValue(Struct.newBuilder()
                .putFields(key, Value.newBuilder().setNumberValue(value).build())).build()).build();
    }

    private static ProcessingResponse responseBody(String body, boolean endOfStream, Optional<Struct> metadata) {
        ProcessingResponse.Builder response = ProcessingResponse.newBuilder().setResponseBody(BodyResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder().setBodyMutation(BodyMutation.newBuilder()
                        .setStreamedResponse(StreamedBodyResponse.newBuilder().setBody(ByteString.copyFromUtf8(body))
                                .setEndOfStream(endOfStream)))));
        metadata.ifPresent(response::setDynamicMetadata);
        return response.build();
    }
}
