package dev.lodestar.epp;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.lodestar.epp.testing.FakeVllmPod;
import dev.lodestar.epp.testing.HermeticEpp;
import dev.lodestar.epp.testing.VllmEngineMessages;
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
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
 * GIE v1.5.0's gRPC hermetic vectors (test/integration/epp/grpc_test.go), every case, against the real
 * EPP configured with {@code vllmgrpc-parser}: vLLM engine messages in gRPC frames as the request body
 * (with {@code :path} naming the method), ext_proc over gRPC from a grpc-java client, pool endpoints that
 * are real HTTP servers on loopback serving the vectors' metrics, objectives from an objects file
 * (upstream runs this suite in its standard, CRD-backed mode only).
 *
 * <p>Differences from the Go vectors, on purpose: pods listen on 127.0.9.x instead of 192.168.1.x; an
 * objective header the client sent is also listed in {@code remove_headers} (Lodestar strips control
 * headers; GIE only leaves them out of {@code set_headers}); header order is ignored, as upstream's
 * comparison does. Where a response ends with gRPC trailers the empty trailers response is expected
 * too: upstream's server sends it, but its harness stops reading after the body.
 */
class GrpcHermeticVectorsIT {
    private static final String GENERATE = "/vllm.grpc.engine.VllmEngine/Generate";
    private static final String EMBED = "/vllm.grpc.engine.VllmEngine/Embed";
    private static final String PRIORITY_4 = "inference-objective-with-priority-4";
    private static final String OBJECTIVE = "x-gateway-inference-objective";

    private static final String CONFIG = """
            apiVersion: inference.networking.x-k8s.io/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: queue-scorer
              - type: kv-cache-utilization-scorer
              - type: prefix-cache-scorer
              - type: lora-affinity-scorer
              - type: vllmgrpc-parser
            schedulingProfiles:
              - name: default
                plugins:
                  - pluginRef: queue-scorer
                  - pluginRef: kv-cache-utilization-scorer
                  - pluginRef: prefix-cache-scorer
                  - pluginRef: lora-affinity-scorer
            parser:
              pluginRef: vllmgrpc-parser
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
    private static final String READY_PODS = "inference_pool_ready_pods{name=\"standalone\"}";

    @TempDir
    Path dir;

    private HermeticEpp epp;

    @AfterEach
    void stop() {
        if (epp != null) {
            epp.close();
        }
    }

    /** One vector: pods, requests, expected responses and metric samples. */
    private record Case(String name, List<FakeVllmPod> pods, List<ProcessingRequest> requests,
                        List<ProcessingResponse> expected, Map<String, Double> expectedSamples) {
    }

    static Stream<Arguments> vectors() {
        List<Case> cases = new ArrayList<>();
        List<FakeVllmPod> lowQueueWins = List.of(pod(0, 3, 0.2), pod(1, 0, 0.1), pod(2, 10, 0.2));

        // --- routing ---
        cases.add(new Case("select lower queue and kv cache", lowQueueWins,
                grpcLlm("test1", PRIORITY_4, GENERATE, false),
                grpcRouteTo("127.0.9.2:8000", "test1", GENERATE, false, true),
                Map.of(requestTotal(4), 1.0, READY_PODS, 3.0)));
        cases.add(new Case("select lower queue and kv cache for embedRequest", lowQueueWins,
                grpcLlm("test1", PRIORITY_4, EMBED, false),
                grpcRouteTo("127.0.9.2:8000", "test1", EMBED, false, true),
                Map.of(requestTotal(4), 1.0, READY_PODS, 3.0)));
        cases.add(new Case("select lower queue with streaming request", lowQueueWins,
                grpcLlm("test-stream", PRIORITY_4, GENERATE, true),
                grpcRouteTo("127.0.9.2:8000", "test-stream", GENERATE, true, true),
                Map.of(requestTotal(4), 1.0, READY_PODS, 3.0)));
        cases.add(new Case("do not shed requests by default",
                List.of(pod(0, 6, 0.2, "foo", "bar"), pod(1, 0, 0.85, "foo"), pod(2, 10, 0.9, "foo")),
                grpcLlm("test2", "", GENERATE, false),
                grpcRouteTo("127.0.9.1:8000", "test2", GENERATE, false, false),
                Map.of(requestTotal(0), 1.0)));

        // --- errors and edge cases ---
        cases.add(new Case("invalid gRPC payload", List.of(pod(0, 0, 0.2, "foo", "bar")),
                raw(ordered("hi", "mom", ":path", GENERATE), "plain text not grpc payload style".getBytes(StandardCharsets.UTF_8)),
                reject(400, "inference error: BadRequest - parsing gRPC payload for Generate: not able to parse payload"),
                Map.of()));
        cases.add(new Case("unsupported gRPC method", List.of(pod(0, 0, 0.2, "foo", "bar")),
                // Upstream marshals no message for an unknown method: the body is an empty frame.
                grpcRequest("unsupportedMethod", "", VllmEngineMessages.Writer.frame(false, new byte[0]), List.of()),
                reject(400, "inference error: BadRequest - unsupported gRPC path: unsupportedMethod"),
                Map.of()));
        byte[] test3 = VllmEngineMessages.generateText("test3", false).frame();
        cases.add(new Case("split body across chunks",
                List.of(pod(0, 4, 0.2, "foo", "bar"), pod(1, 4, 0.85, "foo")),
                raw(ordered("hi", "mom", "x-request-id", "test-request-id", ":path", GENERATE),
                        Arrays.copyOfRange(test3, 0, test3.length / 2), Arrays.copyOfRange(test3, test3.length / 2, test3.length)),
                routed("127.0.9.1:8000", test3, GENERATE, false),
                Map.of(requestTotal(0), 1.0)));
        cases.add(new Case("no backend pods available", List.of(),
                List.of(requestHeaders(Map.of("content-type", "application/json"), true, List.of())),
                reject(500, "inference error: Internal - no pods available in datastore"),
                Map.of()));

        // --- subsetting ---
        List<FakeVllmPod> subsetPods = List.of(pod(0, 0, 0.2, "foo"), pod(1, 0, 0.1, "foo", "sql-lora-1fdg2"),
                pod(2, 10, 0.2, "foo"));
        cases.add(new Case("subsetting: select best from subset", subsetPods,
                grpcSubset("test2", "127.0.9.1:8000", "127.0.9.2:8000", "127.0.9.3:8000"),
                grpcRouteTo("127.0.9.2:8000", "test2", GENERATE, false, false), Map.of()));
        cases.add(new Case("subsetting: partial match", subsetPods,
                grpcSubset("test2", "127.0.9.3:8000"),
                grpcRouteTo("127.0.9.3:8000", "test2", GENERATE, false, false), Map.of()));
        cases.add(new Case("subsetting: no pods match", subsetPods.subList(0, 2),
                grpcSubset("test2", "192.168.1.99:8000"),
                reject(503, "inference error: ServiceUnavailable - failed to find endpoint candidates for serving"
                        + " the request"), Map.of()));

        // --- responses (non-streaming: buffered until the gRPC trailers) ---
        byte[] chunk = VllmEngineMessages.chunk(0, 0, 0, 1, 2, 3, 4, 5, 6, 7).frame();
        cases.add(new Case("response buffering: multi-chunk", List.of(pod(0, 4, 0.2)),
                responseWithTrailers(chunk, 2), bufferedGrpcResponse(chunk), Map.of()));
        byte[] upstreamError = "no healthy upstream".getBytes(StandardCharsets.UTF_8);
        cases.add(new Case("response buffering: invalid gRPC", List.of(pod(0, 4, 0.2)),
                responseWithTrailers(upstreamError, 1), bufferedGrpcResponse(upstreamError), Map.of()));
        byte[] complete = VllmEngineMessages.complete("", 7, 10, 0).frame();
        Map<String, Double> inputTokens = Map.of(
                "inference_objective_input_tokens_sum{model_name=\"\",target_model_name=\"\"}", 7.0,
                "inference_objective_input_tokens_count{model_name=\"\",target_model_name=\"\"}", 1.0,
                "inference_objective_input_tokens_bucket{le=\"1.0\",model_name=\"\",target_model_name=\"\"}", 0.0,
                "inference_objective_input_tokens_bucket{le=\"8.0\",model_name=\"\",target_model_name=\"\"}", 1.0);
        cases.add(new Case("response with token usage", List.of(pod(0, 4, 0.2)),
                responseWithTrailers(complete, 2), bufferedGrpcResponse(complete), inputTokens));

        // --- response streaming: every frame forwarded at once, none ends the stream ---
        byte[] firstChunk = VllmEngineMessages.chunk(0, 0, 0, 1, 2, 3).frame();
        List<ProcessingRequest> streamed = new ArrayList<>(grpcLlm("test-stream", PRIORITY_4, GENERATE, true));
        streamed.add(responseHeaders(Map.of("content-type", "application/grpc")));
        streamed.add(responseBody(firstChunk));
        streamed.add(responseBody(complete));
        streamed.add(responseTrailers());
        List<ProcessingResponse> streamedExpected = new ArrayList<>(
                grpcRouteTo("127.0.9.1:8000", "test-stream", GENERATE, true, true));
        streamedExpected.add(echoedResponseHeaders(Map.of("content-type", "application/grpc")));
        streamedExpected.add(responseChunk(firstChunk, false));
        streamedExpected.add(responseChunk(complete, false));
        streamedExpected.add(trailersResponse());
        Map<String, Double> tokens = new LinkedHashMap<>(inputTokens);
        tokens.put("inference_objective_output_tokens_sum{model_name=\"\",target_model_name=\"\"}", 10.0);
        tokens.put("inference_objective_output_tokens_count{model_name=\"\",target_model_name=\"\"}", 1.0);
        tokens.put("inference_objective_output_tokens_bucket{le=\"8.0\",model_name=\"\",target_model_name=\"\"}", 0.0);
        tokens.put("inference_objective_output_tokens_bucket{le=\"16.0\",model_name=\"\",target_model_name=\"\"}", 1.0);
        cases.add(new Case("response streaming with token usage", List.of(pod(0, 4, 0.2)), streamed, streamedExpected,
                tokens));

        return cases.stream().map(vector -> Arguments.of(vector.name(), vector));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void vector(String name, Case vector) throws Exception {
        Path objects = dir.resolve("objects.yaml");
        Files.writeString(objects, OBJECTS);
        epp = HermeticEpp.builder().configText(CONFIG).objectsFile(objects).pods(vector.pods()).start();

        List<ProcessingResponse> responses = epp.exchange(vector.requests(), vector.expected().size());

        assertThat(responses).hasSize(vector.expected().size());
        for (int i = 0; i < responses.size(); i++) {
            assertThat(normalize(responses.get(i))).as("response %d", i).isEqualTo(normalize(vector.expected().get(i)));
        }
        if (!vector.expectedSamples().isEmpty()) {
            Map<String, Double> samples = epp.scrapeMetrics();
            vector.expectedSamples().forEach((series, value) ->
                    assertThat(samples).as(series).containsEntry(series, value));
        }
    }

    /** gRPC requests carry no model, so both model labels are empty. */
    private static String requestTotal(int priority) {
        return "inference_objective_request_total{model_name=\"\",priority=\"" + priority + "\",target_model_name=\"\"}";
    }

    // --- requests, as upstream's builders ---------------------------------------------------------------

    private static Map<String, Struct> subsetMetadata(List<String> subset) {
        if (subset.isEmpty()) {
            return Map.of();
        }
        ListValue.Builder entries = ListValue.newBuilder();
        subset.forEach(entry -> entries.addValues(Value.newBuilder().setStringValue(entry)));
        return Map.of("envoy.lb.subset_hint", Struct.newBuilder().putFields("x-gateway-destination-endpoint-subset",
                Value.newBuilder().setListValue(entries).build()).build());
    }

    private static ProcessingRequest requestHeaders(Map<String, String> headers, boolean endOfStream,
                                                    List<String> subset) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        return ProcessingRequest.newBuilder()
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map).setEndOfStream(endOfStream))
                .setMetadataContext(Metadata.newBuilder().putAllFilterMetadata(subsetMetadata(subset)))
                .build();
    }

    private static ProcessingRequest requestBody(byte[] chunk, boolean endOfStream, List<String> subset) {
        return ProcessingRequest.newBuilder()
                .setRequestBody(HttpBody.newBuilder().setBody(ByteString.copyFrom(chunk)).setEndOfStream(endOfStream))
                .setMetadataContext(Metadata.newBuilder().putAllFilterMetadata(subsetMetadata(subset)))
                .build();
    }

    /** The message upstream's {@code GRPCRequestProto} builds for a method, in its gRPC frame. */
    private static byte[] grpcPayload(String prompt, String method, boolean stream) {
        return switch (method) {
            case GENERATE -> VllmEngineMessages.generateText(prompt, stream).frame();
            case EMBED -> VllmEngineMessages.embed(prompt).frame();
            default -> throw new IllegalArgumentException(method);
        };
    }

    /**
     * Upstream's {@code GenerateStreamedGRPCRequestSet}: headers {@code hi}, {@code x-request-id}, the
     * objective when given and {@code :path}; then the framed message, ending the stream.
     */
    private static List<ProcessingRequest> grpcRequest(String method, String objective, byte[] payload,
                                                       List<String> subset) {
        Map<String, String> headers = ordered("hi", "mom", "x-request-id", "test-request-id");
        if (!objective.isEmpty()) {
            headers.put(OBJECTIVE, objective);
        }
        headers.put(":path", method);
        return List.of(requestHeaders(headers, false, subset), requestBody(payload, true, subset));
    }

    private static List<ProcessingRequest> grpcLlm(String prompt, String objective, String method, boolean stream) {
        return grpcRequest(method, objective, grpcPayload(prompt, method, stream), List.of());
    }

    private static List<ProcessingRequest> grpcSubset(String prompt, String... subset) {
        return grpcRequest(GENERATE, "", grpcPayload(prompt, GENERATE, false), List.of(subset));
    }

    private static List<ProcessingRequest> raw(Map<String, String> headers, byte[]... chunks) {
        List<ProcessingRequest> requests = new ArrayList<>();
        requests.add(requestHeaders(headers, false, List.of()));
        for (int i = 0; i < chunks.length; i++) {
            requests.add(requestBody(chunks[i], i == chunks.length - 1, List.of()));
        }
        return requests;
    }

    private static ProcessingRequest responseHeaders(Map<String, String> headers) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        return ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder().setHeaders(map)).build();
    }

    private static ProcessingRequest responseBody(byte[] chunk) {
        return ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(chunk)).setEndOfStream(false)).build();
    }

    private static ProcessingRequest responseTrailers() {
        return ProcessingRequest.newBuilder().setResponseTrailers(HttpTrailers.getDefaultInstance()).build();
    }

    /**
     * Upstream's {@code ReqResponseGRPCWithTailer}: the response phase only, {@code content-type:
     * application/grpc}, the body in {@code parts} chunks (halves when two) without end of stream, trailers.
     */
    private static List<ProcessingRequest> responseWithTrailers(byte[] body, int parts) {
        List<ProcessingRequest> requests = new ArrayList<>();
        requests.add(responseHeaders(Map.of("content-type", "application/grpc")));
        if (parts == 1) {
            requests.add(responseBody(body));
        } else {
            requests.add(responseBody(Arrays.copyOfRange(body, 0, body.length / 2)));
            requests.add(responseBody(Arrays.copyOfRange(body, body.length / 2, body.length)));
        }
        requests.add(responseTrailers());
        return requests;
    }

    // --- expected responses -------------------------------------------------------------------------

    /** Upstream's {@code ExpectGRPCRouteTo}: the frame forwarded as sent, {@code :path} among the echoed headers. */
    private static List<ProcessingResponse> grpcRouteTo(String destination, String prompt, String method,
                                                        boolean stream, boolean objectiveSent) {
        return routed(destination, grpcPayload(prompt, method, stream), method, objectiveSent);
    }

    private static List<ProcessingResponse> routed(String destination, byte[] body, String method,
                                                   boolean objectiveSent) {
        HeaderMutation mutation = HeaderMutation.newBuilder()
                .addSetHeaders(header("x-gateway-destination-endpoint", destination))
                .addSetHeaders(header("Content-Length", Integer.toString(body.length)))
                .addSetHeaders(header("hi", "mom"))
                .addSetHeaders(header("x-request-id", "test-request-id"))
                .addSetHeaders(header(":path", method))
                .addAllRemoveHeaders(objectiveSent ? List.of(OBJECTIVE) : List.of())
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

    private static ProcessingResponse responseChunk(byte[] body, boolean endOfStream) {
        return ProcessingResponse.newBuilder().setResponseBody(BodyResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder().setBodyMutation(BodyMutation.newBuilder()
                        .setStreamedResponse(StreamedBodyResponse.newBuilder().setBody(ByteString.copyFrom(body))
                                .setEndOfStream(endOfStream))))).build();
    }

    private static ProcessingResponse trailersResponse() {
        return ProcessingResponse.newBuilder().setResponseTrailers(TrailersResponse.getDefaultInstance()).build();
    }

    /**
     * Upstream's {@code ExpectBufferResp(body, "application/grpc")}: the echoed headers, the whole body
     * without end of stream (the trailers end a gRPC response), then the trailers' empty response.
     */
    private static List<ProcessingResponse> bufferedGrpcResponse(byte[] body) {
        return List.of(echoedResponseHeaders(Map.of("content-type", "application/grpc")), responseChunk(body, false),
                trailersResponse());
    }

    /** Header order ignored (sorted by name), as upstream's comparison. */
    private static ProcessingResponse normalize(ProcessingResponse response) {
        ProcessingResponse.Builder builder = response.toBuilder();
        if (response.hasRequestHeaders()) {
            builder.getRequestHeadersBuilder().getResponseBuilder()
                    .setHeaderMutation(sorted(response.getRequestHeaders().getResponse().getHeaderMutation()));
        }
        if (response.hasResponseHeaders()) {
            builder.getResponseHeadersBuilder().getResponseBuilder()
                    .setHeaderMutation(sorted(response.getResponseHeaders().getResponse().getHeaderMutation()));
        }
        return builder.build();
    }

    private static HeaderMutation sorted(HeaderMutation mutation) {
        List<HeaderValueOption> headers = new ArrayList<>(mutation.getSetHeadersList());
        headers.sort(Comparator.comparing(option -> option.getHeader().getKey()));
        List<String> removed = new ArrayList<>(mutation.getRemoveHeadersList());
        removed.sort(Comparator.naturalOrder());
        return HeaderMutation.newBuilder().addAllSetHeaders(headers).addAllRemoveHeaders(removed).build();
    }
}
