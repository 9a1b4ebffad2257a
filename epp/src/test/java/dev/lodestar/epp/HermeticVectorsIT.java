package dev.lodestar.epp;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.lodestar.epp.testing.FakeVllmPod;
import dev.lodestar.epp.testing.HermeticEpp;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.lodestar.epp.testing.ExtProcMessages.destinationMetadata;
import static dev.lodestar.epp.testing.ExtProcMessages.echoedResponseHeaders;
import static dev.lodestar.epp.testing.ExtProcMessages.header;
import static dev.lodestar.epp.testing.ExtProcMessages.ordered;
import static dev.lodestar.epp.testing.ExtProcMessages.reject;
import static dev.lodestar.epp.testing.FakeVllmPod.pod;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * GIE v1.5.0's hermetic EPP vectors (test/integration/epp/{common_tests,hermetic_test}.go), every case,
 * against the real EPP: ext_proc over gRPC from a grpc-java client, pool endpoints that are real HTTP
 * servers on loopback serving the vectors' metrics (scraped by the real datalayer), objectives and
 * rewrites from an objects file. Two modes, as upstream's standalone ones: with the objects
 * ("WithCRD") and without them ("NoCRD": every priority is 0, the rewrite case does not apply).
 *
 * <p>Differences from the Go vectors, on purpose: pods listen on 127.0.9.x instead of 192.168.1.x; the
 * destination is ours; control headers a client sent are also listed in {@code remove_headers}
 * (Lodestar strips them; GIE only leaves them out of {@code set_headers}). Header order is ignored,
 * as upstream's comparison does.
 */
class HermeticVectorsIT {
    private static final String MY_MODEL = "my-model";
    private static final String MY_MODEL_TARGET = "my-model-12345";
    private static final String SQL_LORA = "sql-lora";
    private static final String SQL_LORA_TARGET = "sql-lora-1fdg2";
    private static final String SHEDDABLE = "sql-lora-sheddable";
    private static final String SHEDDABLE_TARGET = "sql-lora-1fdg3";
    private static final String DIRECT = "direct-model";
    private static final String TO_BE_REWRITTEN = "model-to-be-rewritten";
    private static final String AFTER_REWRITE = "rewritten-model";
    private static final String OBJECTIVE = "x-gateway-inference-objective";
    private static final String REWRITE = "x-gateway-model-name-rewrite";

    private static final String DEFAULT_CONFIG = """
            apiVersion: inference.networking.x-k8s.io/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: queue-scorer
              - type: kv-cache-utilization-scorer
              - type: prefix-cache-scorer
              - type: lora-affinity-scorer
              - type: openai-parser
            schedulingProfiles:
              - name: default
                plugins:
                  - pluginRef: queue-scorer
                  - pluginRef: kv-cache-utilization-scorer
                  - pluginRef: prefix-cache-scorer
                  - pluginRef: lora-affinity-scorer
            parser:
              pluginRef: openai-parser
            featureGates:
              - enableLegacyMetrics
            """;
    private static final String PASSTHROUGH_CONFIG = """
            apiVersion: inference.networking.x-k8s.io/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: queue-scorer
              - type: kv-cache-utilization-scorer
              - type: passthrough-parser
            schedulingProfiles:
              - name: default
                plugins:
                  - pluginRef: queue-scorer
                  - pluginRef: kv-cache-utilization-scorer
            parser:
              pluginRef: passthrough-parser
            featureGates:
              - enableLegacyMetrics
            """;
    private static final String OBJECTS = """
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: sql-lora, namespace: default}
            spec: {priority: 2, poolRef: {name: vllm-qwen3-32b-pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: sql-lora-sheddable, namespace: default}
            spec: {poolRef: {name: vllm-qwen3-32b-pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: my-model, namespace: default}
            spec: {priority: 2, poolRef: {name: vllm-qwen3-32b-pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: direct-model, namespace: default}
            spec: {priority: 2, poolRef: {name: vllm-qwen3-32b-pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: inference-objective-with-priority-4, namespace: default}
            spec: {priority: 4, poolRef: {name: vllm-qwen3-32b-pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceModelRewrite
            metadata: {name: rewrite-test, namespace: default}
            spec:
              poolRef: {name: vllm-qwen3-32b-pool}
              rules:
                - matches: [{model: {value: model-to-be-rewritten}}]
                  targets: [{modelRewrite: rewritten-model}]
            """;

    @TempDir
    Path dir;

    private HermeticEpp epp;

    @AfterEach
    void stop() {
        if (epp != null) {
            epp.close();
        }
    }

    /** One vector: configuration, pods, requests, expected responses and metric samples. */
    private record Case(String name, String config, List<FakeVllmPod> pods, List<ProcessingRequest> requests,
                        List<ProcessingResponse> expected, Map<String, Double> expectedSamples, boolean needsObjects) {
    }

    private static Case route(String name, List<FakeVllmPod> pods, List<ProcessingRequest> requests,
                              List<ProcessingResponse> expected, Map<String, Double> samples) {
        return new Case(name, DEFAULT_CONFIG, pods, requests, expected, samples, false);
    }

    static Stream<Arguments> vectors() {
        List<Case> all = new ArrayList<>();
        for (boolean withObjects : new boolean[] {true, false}) {
            List<Case> cases = new ArrayList<>();
            int two = withObjects ? 2 : 0;
            cases.add(route("select lower queue and kv cache",
                    List.of(pod(0, 3, 0.2), pod(1, 0, 0.1), pod(2, 10, 0.2)),
                    llm("test1", MY_MODEL, MY_MODEL_TARGET), routeTo(1, MY_MODEL_TARGET, "test1", true),
                    Map.of(requestTotal(MY_MODEL, MY_MODEL_TARGET, two), 1.0,
                            "inference_pool_ready_pods{name=\"standalone\"}", 3.0)));
            cases.add(route("select active lora, low queue",
                    List.of(pod(0, 0, 0.2, "foo", "bar"), pod(1, 0, 0.1, "foo", SQL_LORA_TARGET),
                            pod(2, 10, 0.2, "foo", "bar")),
                    llm("test2", SQL_LORA, SQL_LORA_TARGET), routeTo(1, SQL_LORA_TARGET, "test2", true),
                    Map.of(requestTotal(SQL_LORA, SQL_LORA_TARGET, two), 1.0)));
            cases.add(route("select lora despite higher kv cache (affinity)",
                    List.of(pod(0, 10, 0.2, "foo", "bar"), pod(1, 10, 0.4, "foo", SQL_LORA_TARGET),
                            pod(2, 10, 0.3, "foo")),
                    llm("test3", SQL_LORA, SQL_LORA_TARGET), routeTo(1, SQL_LORA_TARGET, "test3", true),
                    Map.of(requestTotal(SQL_LORA, SQL_LORA_TARGET, two), 1.0)));
            cases.add(route("do not shed requests by default",
                    List.of(pod(0, 6, 0.2, "foo", "bar", SQL_LORA_TARGET), pod(1, 0, 0.85, "foo"),
                            pod(2, 10, 0.9, "foo")),
                    llm("test4", SQL_LORA, SQL_LORA_TARGET), routeTo(0, SQL_LORA_TARGET, "test4", true),
                    Map.of(requestTotal(SQL_LORA, SQL_LORA_TARGET, two), 1.0)));
            cases.add(route("no backend pods available", List.of(),
                    headerOnly(Map.of("content-type", "application/json")),
                    reject(500, "inference error: Internal - no pods available in datastore"), Map.of()));
            cases.add(route("request missing model field", List.of(pod(0, 0, 0.2)),
                    raw(Map.of("content-type", "application/json"), "{\"prompt\":\"hello world\"}"),
                    reject(400, "inference error: BadRequest - model not found in request body"), Map.of()));
            cases.add(new Case("passthrough parser success", PASSTHROUGH_CONFIG,
                    List.of(pod(0, 3, 0.2), pod(1, 0, 0.1), pod(2, 10, 0.2)),
                    raw(ordered("hi", "mom", "x-request-id", "test-request-id", OBJECTIVE, MY_MODEL), "passthrough-parser"),
                    routed("127.0.9.2:8000", "passthrough-parser".getBytes(StandardCharsets.UTF_8), List.of(OBJECTIVE)),
                    Map.of(requestTotal("", "", two), 1.0, "inference_pool_ready_pods{name=\"standalone\"}", 3.0),
                    false));
            cases.add(route("split body across chunks",
                    List.of(pod(0, 4, 0.2, "foo", "bar", SHEDDABLE_TARGET), pod(1, 4, 0.85, "foo", SHEDDABLE_TARGET)),
                    raw(ordered("hi", "mom", OBJECTIVE, SHEDDABLE, REWRITE, SHEDDABLE_TARGET,
                            "x-request-id", "test-request-id"),
                            "{\"max_tokens\":100,\"model\":\"sql-lo", "ra-sheddable\",\"prompt\":\"test6\",\"temperature\":0}"),
                    routeTo(0, SHEDDABLE_TARGET, "test6", true),
                    Map.of(requestTotal(SHEDDABLE, SHEDDABLE_TARGET, 0), 1.0)));
            cases.add(route("invalid json body", List.of(pod(0, 0, 0.2, "foo", "bar")),
                    raw(Map.of("hi", "mom"), "no healthy upstream"),
                    reject(400, "inference error: BadRequest - error unmarshaling request bodyMap: "), Map.of()));
            cases.add(route("subsetting: select best from subset",
                    List.of(pod(0, 0, 0.2, "foo"), pod(1, 0, 0.1, "foo", SQL_LORA_TARGET), pod(2, 10, 0.2, "foo")),
                    subset("test2", SQL_LORA, SQL_LORA_TARGET, "127.0.9.1:8000", "127.0.9.2:8000", "127.0.9.3:8000"),
                    routeTo(1, SQL_LORA_TARGET, "test2", true), Map.of()));
            cases.add(route("subsetting: partial match",
                    List.of(pod(0, 0, 0.2, "foo"), pod(1, 0, 0.1, "foo", SQL_LORA_TARGET), pod(2, 10, 0.2, "foo")),
                    subset("test2", SQL_LORA, SQL_LORA_TARGET, "127.0.9.3:8000"),
                    routeTo(2, SQL_LORA_TARGET, "test2", true), Map.of()));
            cases.add(route("subsetting: no pods match",
                    List.of(pod(0, 0, 0.2, "foo"), pod(1, 0, 0.1, "foo", SQL_LORA_TARGET)),
                    subset("test2", SQL_LORA, SQL_LORA_TARGET, "192.168.1.99:8000"),
                    reject(503, "inference error: ServiceUnavailable - failed to find endpoint candidates for serving"
                            + " the request"), Map.of()));
            cases.add(route("passthrough: model not in objectives",
                    List.of(pod(0, 4, 0.2, "foo", "bar", SHEDDABLE_TARGET)),
                    raw(ordered("hi", "mom", OBJECTIVE, DIRECT, REWRITE, DIRECT, "x-request-id", "test-request-id"),
                            "{\"max_tokens\":100,\"model\":\"direct-", "model\",\"prompt\":\"test6\",\"temperature\":0}"),
                    routeTo(0, DIRECT, "test6", true), Map.of(requestTotal(DIRECT, DIRECT, two), 1.0)));
            if (withObjects) {
                cases.add(new Case("rewrite request model", DEFAULT_CONFIG, List.of(pod(0, 0, 0.1, "foo", AFTER_REWRITE)),
                        llm("test-rewrite", TO_BE_REWRITTEN, TO_BE_REWRITTEN), routeTo(0, AFTER_REWRITE, "test-rewrite", true),
                        Map.of(requestTotal(TO_BE_REWRITTEN, AFTER_REWRITE, 0), 1.0,
                                "inference_extension_model_rewrite_decisions_total{model_name=\"model-to-be-rewritten\","
                                        + "model_rewrite_name=\"rewrite-test\",target_model=\"rewritten-model\"}", 1.0),
                        true));
            }
            cases.add(route("protocol: simple GET (header only)", List.of(pod(0, 0, 0, "foo")),
                    headerOnly(ordered("content-type", "text/event-stream", "status", "200")),
                    List.of(ProcessingResponse.newBuilder().setRequestHeaders(HeadersResponse.newBuilder()
                                    .setResponse(CommonResponse.newBuilder().setClearRouteCache(true)
                                            .setHeaderMutation(HeaderMutation.newBuilder()
                                                    .addSetHeaders(header("x-gateway-destination-endpoint", "127.0.9.1:8000"))
                                                    .addSetHeaders(header("content-type", "text/event-stream"))
                                                    .addSetHeaders(header("status", "200"))
                                                    .addSetHeaders(header("x-request-id", "*")))))
                            .setDynamicMetadata(destinationMetadata("127.0.9.1:8000")).build()),
                    Map.of()));
            cases.add(route("response buffering: multi-chunk JSON", List.of(pod(0, 4, 0.2, SHEDDABLE_TARGET)),
                    responseOnly(Map.of("content-type", "application/json"),
                            "{\"max_tokens\":100,\"model\":\"sql-lo", "ra-sheddable\",\"prompt\":\"test6\",\"temperature\":0}"),
                    bufferedResponse("{\"max_tokens\":100,\"model\":\"sql-lora-sheddable\",\"prompt\":\"test6\",\"temperature\":0}",
                            "application/json"), Map.of()));
            cases.add(route("response buffering: invalid JSON", List.of(pod(0, 4, 0.2, SHEDDABLE_TARGET)),
                    responseOnly(Map.of("content-type", "application/json"), "no healthy upstream"),
                    bufferedResponse("no healthy upstream", "application/json"), Map.of()));
            cases.add(route("response buffering: empty EOS chunk (JSON)", List.of(pod(0, 4, 0.2, SHEDDABLE_TARGET)),
                    responseOnly(Map.of("content-type", "application/json"),
                            "{\"max_tokens\":100,\"model\":\"sql-lora-sheddable\",\"prompt\":\"test6\",\"temperature\":0}", ""),
                    bufferedResponse("{\"max_tokens\":100,\"model\":\"sql-lora-sheddable\",\"prompt\":\"test6\",\"temperature\":0}",
                            "application/json"), Map.of()));
            String usageChunk = "data: {\"usage\":{\"prompt_tokens\":7,\"total_tokens\":17,\"completion_tokens\":10}}\n"
                    + "data: [DONE]";
            List<ProcessingResponse> streamed = new ArrayList<>();
            streamed.add(echoedResponseHeaders(ordered("content-type", "text/event-stream", "status", "200")));
            streamed.add(responseChunk("data: {}", false));
            streamed.add(responseChunk(usageChunk, false));
            streamed.add(responseChunk("", true));
            cases.add(route("response streaming: SSE token counting", List.of(pod(0, 4, 0.2, SHEDDABLE_TARGET)),
                    responseOnly(ordered("content-type", "text/event-stream", "status", "200"), "data: {}", usageChunk, ""),
                    streamed, Map.of("inference_objective_input_tokens_sum{model_name=\"\",target_model_name=\"\"}", 7.0,
                            "inference_objective_input_tokens_count{model_name=\"\",target_model_name=\"\"}", 1.0,
                            "inference_objective_input_tokens_bucket{le=\"8.0\",model_name=\"\",target_model_name=\"\"}",
                            1.0)));
            String mode = withObjects ? "WithObjects" : "NoObjects";
            for (Case vector : cases) {
                all.add(new Case(mode + ": " + vector.name(), vector.config(), vector.pods(), vector.requests(),
                        vector.expected(), vector.expectedSamples(), withObjects));
            }
        }
        return all.stream().map(vector -> Arguments.of(vector.name(), vector));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void vector(String name, Case vector) throws Exception {
        HermeticEpp.Builder harness = HermeticEpp.builder().configText(vector.config()).pods(vector.pods());
        if (vector.needsObjects()) {
            Path objects = dir.resolve("objects.yaml");
            Files.writeString(objects, OBJECTS);
            harness.objectsFile(objects);
        }
        epp = harness.start();

        List<ProcessingResponse> responses = epp.exchange(vector.requests(), vector.expected().size());

        assertThat(responses).hasSize(vector.expected().size());
        for (int i = 0; i < responses.size(); i++) {
            assertThat(normalize(responses.get(i), vector.expected().get(i)))
                    .as("response %d", i).isEqualTo(normalize(vector.expected().get(i), vector.expected().get(i)));
        }
        if (!vector.expectedSamples().isEmpty()) {
            Map<String, Double> samples = epp.scrapeMetrics();
            vector.expectedSamples().forEach((series, value) ->
                    assertThat(samples).as(series).containsEntry(series, value));
        }
    }

    private static String requestTotal(String model, String target, int priority) {
        return "inference_objective_request_total{model_name=\"" + model + "\",priority=\"" + priority
                + "\",target_model_name=\"" + target + "\"}";
    }

    // --- requests, as upstream's builders ---------------------------------------------------------------

    private static ProcessingRequest requestHeaders(Map<String, String> headers, boolean endOfStream,
                                                    List<String> subset) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        ProcessingRequest.Builder request = ProcessingRequest.newBuilder()
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map).setEndOfStream(endOfStream));
        if (!subset.isEmpty()) {
            ListValue.Builder entries = ListValue.newBuilder();
            subset.forEach(entry -> entries.addValues(Value.newBuilder().setStringValue(entry)));
            request.setMetadataContext(Metadata.newBuilder().putFilterMetadata("envoy.lb.subset_hint",
                    Struct.newBuilder().putFields("x-gateway-destination-endpoint-subset",
                            Value.newBuilder().setListValue(entries).build()).build()));
        }
        return request.build();
    }

    private static ProcessingRequest requestBody(String chunk, boolean endOfStream) {
        return ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFromUtf8(chunk)).setEndOfStream(endOfStream)).build();
    }

    private static List<ProcessingRequest> llm(String prompt, String model, String target) {
        return subset(prompt, model, target);
    }

    private static List<ProcessingRequest> subset(String prompt, String model, String target, String... subset) {
        Map<String, String> headers = ordered("hi", "mom", "x-request-id", "test-request-id", OBJECTIVE, model,
                REWRITE, target);
        return List.of(requestHeaders(headers, false, List.of(subset)),
                requestBody("{\"max_tokens\":100,\"model\":\"" + model + "\",\"prompt\":\"" + prompt
                        + "\",\"temperature\":0}", true));
    }

    private static List<ProcessingRequest> raw(Map<String, String> headers, String... chunks) {
        List<ProcessingRequest> requests = new ArrayList<>();
        requests.add(requestHeaders(headers, false, List.of()));
        for (int i = 0; i < chunks.length; i++) {
            requests.add(requestBody(chunks[i], i == chunks.length - 1));
        }
        return requests;
    }

    private static List<ProcessingRequest> headerOnly(Map<String, String> headers) {
        return List.of(requestHeaders(headers, true, List.of()));
    }

    private static List<ProcessingRequest> responseOnly(Map<String, String> headers, String... chunks) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        List<ProcessingRequest> requests = new ArrayList<>();
        requests.add(ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder().setHeaders(map)).build());
        for (int i = 0; i < chunks.length; i++) {
            requests.add(ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                    .setBody(ByteString.copyFromUtf8(chunks[i])).setEndOfStream(i == chunks.length - 1)).build());
        }
        return requests;
    }

    // --- expected responses -------------------------------------------------------------------------

    private static List<ProcessingResponse> routeTo(int podIndex, String targetModel, String prompt,
                                                    boolean controlHeadersSent) {
        String body = "{\"max_tokens\":100,\"model\":\"" + targetModel + "\",\"prompt\":\"" + prompt
                + "\",\"temperature\":0}";
        return routed("127.0.9." + (podIndex + 1) + ":8000", body.getBytes(StandardCharsets.UTF_8),
                controlHeadersSent ? List.of(OBJECTIVE, REWRITE) : List.of());
    }

    private static List<ProcessingResponse> routed(String destination, byte[] body, List<String> removed) {
        HeaderMutation mutation = HeaderMutation.newBuilder()
                .addSetHeaders(header("x-gateway-destination-endpoint", destination))
                .addSetHeaders(header("Content-Length", Integer.toString(body.length)))
                .addSetHeaders(header("hi", "mom"))
                .addSetHeaders(header("x-request-id", "test-request-id"))
                .addAllRemoveHeaders(removed)
                .build();
        ProcessingResponse headers = ProcessingResponse.newBuilder()
                .setRequestHeaders(HeadersResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setClearRouteCache(true).setHeaderMutation(mutation)))
                .setDynamicMetadata(destinationMetadata(destination)).build();
        ProcessingResponse bodyResponse = ProcessingResponse.newBuilder()
                .setRequestBody(BodyResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setBodyMutation(BodyMutation.newBuilder().setStreamedResponse(StreamedBodyResponse.newBuilder()
                                .setBody(ByteString.copyFrom(body)).setEndOfStream(true))))).build();
        return List.of(headers, bodyResponse);
    }

    private static ProcessingResponse responseChunk(String body, boolean endOfStream) {
        return ProcessingResponse.newBuilder().setResponseBody(BodyResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder().setBodyMutation(BodyMutation.newBuilder()
                        .setStreamedResponse(StreamedBodyResponse.newBuilder().setBody(ByteString.copyFromUtf8(body))
                                .setEndOfStream(endOfStream))))).build();
    }

    private static List<ProcessingResponse> bufferedResponse(String body, String contentType) {
        return List.of(echoedResponseHeaders(Map.of("content-type", contentType)), responseChunk(body, true));
    }

    /**
     * Header order ignored (sorted by name); a generated {@code x-request-id} (expected value {@code *})
     * compared by presence; an immediate response whose expected body ends with ": " compared by prefix,
     * since the parser's message after it is Jackson's, not Go's.
     */
    private static ProcessingResponse normalize(ProcessingResponse response, ProcessingResponse expected) {
        ProcessingResponse.Builder builder = response.toBuilder();
        if (response.hasRequestHeaders()) {
            builder.getRequestHeadersBuilder().getResponseBuilder()
                    .setHeaderMutation(sorted(response.getRequestHeaders().getResponse().getHeaderMutation(),
                            expected.getRequestHeaders().getResponse().getHeaderMutation()));
        }
        if (response.hasResponseHeaders()) {
            builder.getResponseHeadersBuilder().getResponseBuilder()
                    .setHeaderMutation(sorted(response.getResponseHeaders().getResponse().getHeaderMutation(),
                            expected.getResponseHeaders().getResponse().getHeaderMutation()));
        }
        if (response.hasImmediateResponse() && expected.hasImmediateResponse()) {
            String wanted = expected.getImmediateResponse().getBody().toStringUtf8();
            String body = response.getImmediateResponse().getBody().toStringUtf8();
            if (wanted.endsWith(": ") && body.startsWith(wanted)) {
                builder.getImmediateResponseBuilder().setBody(ByteString.copyFromUtf8(wanted));
            }
        }
        return builder.build();
    }

    private static HeaderMutation sorted(HeaderMutation mutation, HeaderMutation expected) {
        boolean anyRequestId = expected.getSetHeadersList().stream()
                .anyMatch(h -> h.getHeader().getKey().equals("x-request-id")
                        && h.getHeader().getRawValue().toStringUtf8().equals("*"));
        List<HeaderValueOption> headers = new ArrayList<>();
        for (HeaderValueOption option : mutation.getSetHeadersList()) {
            headers.add(anyRequestId && option.getHeader().getKey().equals("x-request-id")
                    ? header("x-request-id", "*") : option);
        }
        headers.sort(Comparator.comparing(option -> option.getHeader().getKey()));
        List<String> removed = new ArrayList<>(mutation.getRemoveHeadersList());
        removed.sort(Comparator.naturalOrder());
        return HeaderMutation.newBuilder().addAllSetHeaders(headers).addAllRemoveHeaders(removed).build();
    }
}
