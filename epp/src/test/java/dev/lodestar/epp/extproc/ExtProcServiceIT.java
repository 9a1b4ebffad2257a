package dev.lodestar.epp.extproc;

import com.google.protobuf.ByteString;
import dev.lodestar.epp.EppServer;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import dev.lodestar.epp.testing.Eventually;
import dev.lodestar.epp.testing.FakeVllmPod;
import dev.lodestar.epp.testing.HermeticEpp;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.lodestar.epp.testing.FakeVllmPod.pod;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ext_proc stream end to end: the real EPP ({@link EppServer}) with two loopback pods serving vLLM
 * metrics, driven by a grpc-java client as Envoy drives it in FULL_DUPLEX_STREAMED mode. Covers body
 * chunking in both directions, trailers, client cancellation (in-flight load and the running-requests
 * gauge must return to zero), out-of-order messages, SSE forwarding with the model name rewritten back
 * and usage recorded, and many small messages sent at once.
 *
 * <p>One EPP serves every test; tests use their own model names so metric samples do not mix, and each
 * ends with nothing in flight.
 */
class ExtProcServiceIT {
    private static final int CHUNK_LIMIT = 62_000;
    private static final String REWRITE = "x-gateway-model-name-rewrite";
    private static final String DESTINATION = "x-gateway-destination-endpoint";
    private static final String CACHE_CONFIG = """
            # TYPE vllm:cache_config_info gauge
            vllm:cache_config_info{block_size="16",num_gpu_blocks="1000"} 1
            """;
    /** At 127.0.9.31 and 127.0.9.32. */
    private static final List<FakeVllmPod> PODS = List.of(pod(30, 0, 0.1).withExtraMetrics(CACHE_CONFIG),
            pod(31, 0, 0.1).withExtraMetrics(CACHE_CONFIG));
    private static final String CONFIG = """
            apiVersion: inference.networking.x-k8s.io/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: inflight-load-producer
              - type: token-load-scorer
              - type: active-request-scorer
              - type: queue-scorer
              - type: openai-parser
            schedulingProfiles:
              - name: default
                plugins:
                  - pluginRef: token-load-scorer
                  - pluginRef: active-request-scorer
                  - pluginRef: queue-scorer
            parser:
              pluginRef: openai-parser
            """;

    private static final List<Exchange> OPEN = new CopyOnWriteArrayList<>();
    private static HermeticEpp harness;
    private static EppServer epp;
    private static ManagedChannel channel;
    private static InFlightLoadProducer inFlight;

    @BeforeAll
    static void start() throws IOException {
        harness = HermeticEpp.builder().configText(CONFIG).pods(PODS).refreshMetricsInterval(Duration.ofMillis(50))
                .start();
        epp = harness.server();
        inFlight = (InFlightLoadProducer) epp.config().plugins().get(InFlightLoadProducer.TYPE);
        channel = harness.channel();
    }

    /** A test that failed half-way leaves its stream open; cancel it so its load does not leak into the next. */
    @AfterEach
    void cancelOpenStreams() {
        OPEN.forEach(Exchange::cancel);
        OPEN.clear();
    }

    @AfterAll
    static void stop() {
        if (harness != null) {
            harness.close();
        }
    }

    // --- 1. chunking ----------------------------------------------------------------------------------

    @Test
    void largeRequestBodyComesBackReserializedInChunksOfAtMost62000Bytes() throws Exception {
        String prompt = filler(150_000);
        byte[] sent = ("{\"prompt\": \"" + prompt + "\", \"model\": \"chunk-model\", \"max_tokens\": 5}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] expected = ("{\"max_tokens\":5,\"model\":\"chunk-target\",\"prompt\":\"" + prompt + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Exchange exchange = Exchange.open();
        exchange.send(requestHeaders(Map.of(":path", "/v1/completions", "x-request-id", "chunking",
                REWRITE, "chunk-target"), false));
        List<byte[]> pieces = split(sent, 16_384);
        for (int i = 0; i < pieces.size(); i++) {
            exchange.send(requestBody(pieces.get(i), i == pieces.size() - 1));
        }

        ProcessingResponse headers = exchange.next();
        assertThat(headers.hasRequestHeaders()).as("the first answer is the request headers'").isTrue();
        assertThat(setHeaders(headers)).containsEntry("Content-Length", Integer.toString(expected.length));
        assertThat(setHeaders(headers).get(DESTINATION)).isIn(hostPorts());
        int chunks = (expected.length + CHUNK_LIMIT - 1) / CHUNK_LIMIT;
        assertThat(chunks).isGreaterThanOrEqualTo(3);
        List<StreamedBodyResponse> body = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            ProcessingResponse response = exchange.next();
            assertThat(response.hasRequestBody()).as("answer %d", i + 2).isTrue();
            body.add(response.getRequestBody().getResponse().getBodyMutation().getStreamedResponse());
        }
        assertChunked(body, expected, true);

        finishWithBufferedResponse(exchange, "{}");
        awaitNothingInFlight();
    }

    @Test
    void largeBufferedResponseIsSentOnceCompleteInChunksWithTheModelRewrittenBack() throws Exception {
        Exchange exchange = Exchange.open();
        route(exchange, "buffered-model", "buffered-target", "hello");
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "application/json")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();

        String served = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"model\":\"buffered-target\",\"choices\":[{\"text\":\""
                + filler(160_000) + "\"}],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":13,\"total_tokens\":24}}";
        byte[] servedBytes = served.getBytes(StandardCharsets.UTF_8);
        // Cut the model-server body inside the model name, so the rewrite only works on the whole body.
        int cut = served.indexOf("buffered-target") + 4;
        List<byte[]> pieces = new ArrayList<>();
        pieces.add(Arrays.copyOfRange(servedBytes, 0, cut));
        pieces.addAll(split(Arrays.copyOfRange(servedBytes, cut, servedBytes.length), 50_000));
        for (int i = 0; i < pieces.size(); i++) {
            exchange.send(responseBody(pieces.get(i), i == pieces.size() - 1));
        }
        byte[] expected = served.replace("\"model\":\"buffered-target\"", "\"model\":\"buffered-model\"")
                .getBytes(StandardCharsets.UTF_8);
        int chunks = (expected.length + CHUNK_LIMIT - 1) / CHUNK_LIMIT;
        List<StreamedBodyResponse> body = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            ProcessingResponse response = exchange.next();
            assertThat(response.hasResponseBody()).as("response body answer %d", i + 1).isTrue();
            body.add(response.getResponseBody().getResponse().getBodyMutation().getStreamedResponse());
        }
        // Re-chunked at 62,000 although the model server's pieces were 4 and 50,000 bytes: buffered.
        assertChunked(body, expected, true);
        exchange.finish();
        awaitNothingInFlight();
        Map<String, Double> samples = harness.scrapeMetrics();
        assertThat(samples).containsEntry(series("inference_objective_input_tokens_sum", "buffered-model",
                "buffered-target"), 11.0);
        assertThat(samples).containsEntry(series("inference_objective_output_tokens_sum", "buffered-model",
                "buffered-target"), 13.0);
    }

    // --- 2. trailers ----------------------------------------------------------------------------------

    @Test
    void requestTrailersEndTheBodyAndAreAnsweredAfterABodyWithoutEndOfStream() throws Exception {
        Exchange exchange = Exchange.open();
        exchange.send(requestHeaders(Map.of("x-request-id", "req-trailers", REWRITE, "trailer-target"), false));
        exchange.send(requestBody("{\"model\":\"trailer-model\",", false));
        exchange.send(requestBody("\"prompt\":\"with trailers\"}", false));
        exchange.send(ProcessingRequest.newBuilder().setRequestTrailers(HttpTrailers.getDefaultInstance()).build());

        ProcessingResponse headers = exchange.next();
        assertThat(headers.hasRequestHeaders()).isTrue();
        byte[] expected = "{\"model\":\"trailer-target\",\"prompt\":\"with trailers\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(setHeaders(headers)).containsEntry("Content-Length", Integer.toString(expected.length));
        ProcessingResponse body = exchange.next();
        assertThat(body.hasRequestBody()).isTrue();
        StreamedBodyResponse streamed = body.getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
        assertThat(streamed.getBody().toByteArray()).isEqualTo(expected);
        // The trailers end the stream for Envoy: the body must not claim end of stream before them.
        assertThat(streamed.getEndOfStream()).isFalse();
        ProcessingResponse trailers = exchange.next();
        assertThat(trailers.hasRequestTrailers()).isTrue();
        assertThat(trailers.getRequestTrailers().hasHeaderMutation()).isFalse();

        finishWithBufferedResponse(exchange, "{}");
        awaitNothingInFlight();
    }

    @Test
    void responseTrailersFinishABufferedResponseWithoutEndOfStream() throws Exception {
        Exchange exchange = Exchange.open();
        String destination = route(exchange, "grpc-model", "grpc-target", "trailers please");
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "application/grpc")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        exchange.send(responseBody("first-half;", false));
        exchange.send(responseBody("second-half", false));
        assertThat(load(destination).requests()).as("the response has not ended yet").isEqualTo(1);
        exchange.send(ProcessingRequest.newBuilder().setResponseTrailers(HttpTrailers.getDefaultInstance()).build());

        ProcessingResponse body = exchange.next();
        assertThat(body.hasResponseBody()).isTrue();
        StreamedBodyResponse streamed = body.getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
        assertThat(streamed.getBody().toStringUtf8()).isEqualTo("first-half;second-half");
        assertThat(streamed.getEndOfStream()).isFalse();
        ProcessingResponse trailers = exchange.next();
        assertThat(trailers.hasResponseTrailers()).isTrue();
        assertThat(load(destination)).as("the trailers completed the response").isEqualTo(InFlightLoad.IDLE);
        exchange.finish();
        awaitNothingInFlight();
        assertThat(harness.scrapeMetrics()).containsEntry(series("inference_objective_response_sizes_sum", "grpc-model",
                "grpc-target"), 22.0);
    }

    @Test
    void responseTrailersAfterStreamedChunksAreAnsweredAlone() throws Exception {
        Exchange exchange = Exchange.open();
        route(exchange, "sse-trailer-model", "sse-trailer-model", "x");
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "text/event-stream")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        exchange.send(responseBody("data: {\"a\":1}\n\n", false));
        assertThat(streamed(exchange.next().getResponseBody().getResponse().getBodyMutation().getStreamedResponse()))
                .isEqualTo("data: {\"a\":1}\n\n");
        exchange.send(ProcessingRequest.newBuilder().setResponseTrailers(HttpTrailers.getDefaultInstance()).build());
        assertThat(exchange.next().hasResponseTrailers()).as("no body is re-sent for a streamed response").isTrue();
        exchange.finish();
        awaitNothingInFlight();
    }

    // --- 3. cancellation ------------------------------------------------------------------------------

    @Test
    void cancelAfterRoutingReleasesTheInFlightLoadAndLeavesOtherStreamsAlone() throws Exception {
        Exchange exchange = Exchange.open();
        route(exchange, "cancel-routed-model", "cancel-routed-model", filler(4_000));
        Exchange neighbour = Exchange.open();
        route(neighbour, "neighbour-model", "neighbour-model", filler(400));
        InFlightLoad charged = totalLoad();
        assertThat(charged.requests()).isEqualTo(2);
        assertThat(charged.tokens()).isGreaterThan(1000);
        assertThat(runningRequests("cancel-routed-model")).isEqualTo(1.0);

        exchange.cancel();

        Eventually.await("only the neighbour is in flight", () -> totalLoad().requests() == 1
                && totalLoad().tokens() < 200);
        Eventually.await("the running-requests gauge is back to 0",
                () -> runningRequests("cancel-routed-model") == 0.0);
        // The stream next to the cancelled one, on the same connection, goes on to its end.
        finishWithBufferedResponse(neighbour, "{}");
        awaitNothingInFlight();
        assertServesAGoodStream();
    }

    @Test
    void cancelMidStreamedResponseReleasesTheInFlightLoad() throws Exception {
        Exchange exchange = Exchange.open();
        String destination = route(exchange, "cancel-sse-model", "cancel-sse-model", filler(4_000));
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "text/event-stream")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        exchange.send(responseBody("data: {\"choices\":[{\"text\":\"to\"}]}\n\n", false));
        assertThat(exchange.next().hasResponseBody()).isTrue();
        // The first chunk means prefill is done: the tokens are released, the request is still running.
        assertThat(load(destination)).isEqualTo(new InFlightLoad(0, 1));
        assertThat(runningRequests("cancel-sse-model")).isEqualTo(1.0);

        exchange.cancel();

        awaitNothingInFlight();
        Eventually.await("the running-requests gauge is back to 0", () -> runningRequests("cancel-sse-model") == 0.0);
        assertServesAGoodStream();
    }

    /**
     * On its own connection: grpc-java may write DATA still queued for the stream after its RST_STREAM, and
     * Helidon answers a DATA frame on a reset stream with a connection-wide GOAWAY (PROTOCOL_ERROR).
     */
    @Test
    void cancelMidRequestBodyLeavesNothingBehind() throws Exception {
        ManagedChannel own = ManagedChannelBuilder.forAddress("127.0.0.1", epp.grpcPort()).usePlaintext().build();
        try {
            Exchange exchange = Exchange.open(own);
            exchange.send(requestHeaders(Map.of("x-request-id", "cancel-body"), false));
            exchange.send(requestBody("{\"model\":\"cancel-body-model\",\"prompt\":\"", false));
            exchange.send(requestBody(filler(10_000), false));
            exchange.cancel();
        } finally {
            own.shutdown();
        }

        assertServesAGoodStream();
        awaitNothingInFlight();
        assertThat(harness.scrapeMetrics().keySet()).as("the cancelled request was never routed")
                .noneMatch(series -> series.contains("cancel-body-model"));
    }

    @Test
    void halfCloseMidResponseRunsTheEndOfStreamHooks() throws Exception {
        Exchange exchange = Exchange.open();
        String destination = route(exchange, "halfclose-model", "halfclose-model", filler(2_000));
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "application/json")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        exchange.send(responseBody("{\"partial\":", false));
        assertThat(load(destination).requests()).isEqualTo(1);

        exchange.finish();

        awaitNothingInFlight();
        assertThat(runningRequests("halfclose-model")).isEqualTo(0.0);
    }

    // --- 4. malformed sequences -----------------------------------------------------------------------

    @Test
    void requestBodyBeforeRequestHeadersIsInvalidArgument() throws Exception {
        Exchange exchange = Exchange.open();
        exchange.send(requestBody("{\"model\":\"m\",\"prompt\":\"p\"}", true));
        assertThat(exchange.error().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertServesAGoodStream();
    }

    @Test
    void secondRequestHeadersIsInvalidArgument() throws Exception {
        Exchange exchange = Exchange.open();
        exchange.send(requestHeaders(Map.of("x-request-id", "twice-1"), false));
        exchange.send(requestHeaders(Map.of("x-request-id", "twice-2"), false));
        Status status = exchange.error();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("request headers arrived twice");
        assertServesAGoodStream();
    }

    @Test
    void emptyProcessingRequestIsInvalidArgument() throws Exception {
        Exchange exchange = Exchange.open();
        exchange.send(ProcessingRequest.getDefaultInstance());
        assertThat(exchange.error().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertServesAGoodStream();
    }

    @Test
    void responseBodyBeforeResponseHeadersFailsAndReleasesTheRoutedRequest() throws Exception {
        Exchange exchange = Exchange.open();
        String destination = route(exchange, "disorder-model", "disorder-model", filler(2_000));
        assertThat(load(destination).requests()).isEqualTo(1);
        exchange.send(responseBody("{}", true));
        assertThat(exchange.error().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        awaitNothingInFlight();
        Eventually.await("the running-requests gauge is back to 0", () -> runningRequests("disorder-model") == 0.0);
        assertServesAGoodStream();
    }

    /** GIE serves a stream that starts with the response (a proxy skipping the request phase); so do we. */
    @Test
    void responseHeadersWithoutARequestAreServedAsUpstream() throws Exception {
        Exchange exchange = Exchange.open();
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "application/json", "x-extra", "1")));
        ProcessingResponse headers = exchange.next();
        assertThat(headers.hasResponseHeaders()).isTrue();
        Map<String, String> set = new LinkedHashMap<>();
        headers.getResponseHeaders().getResponse().getHeaderMutation().getSetHeadersList()
                .forEach(option -> set.put(option.getHeader().getKey(), option.getHeader().getRawValue().toStringUtf8()));
        assertThat(set).containsEntry("x-went-into-resp-headers", "true").containsEntry("x-extra", "1");
        exchange.send(responseBody("{\"ok\":true}", true));
        StreamedBodyResponse body = exchange.next().getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
        assertThat(body.getBody().toStringUtf8()).isEqualTo("{\"ok\":true}");
        assertThat(body.getEndOfStream()).isTrue();
        exchange.finish();
        assertServesAGoodStream();
    }

    // --- 5. SSE ---------------------------------------------------------------------------------------

    @Test
    void sseChunksAreForwardedOneByOneWithTheModelRewrittenBackAndUsageRecorded() throws Exception {
        Exchange exchange = Exchange.open();
        String destination = route(exchange, "sse-model", "sse-target", filler(1_000));
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "text/event-stream; charset=utf-8")));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        assertThat(load(destination).tokens()).as("prefill not done yet").isGreaterThan(0);

        exchange.send(responseBody("data: {\"id\":\"sse-target-1\",\"model\":\"sse-target\",\"choices\":[{\"text\":\"a\"}]}\n\n",
                false));
        // Answered before the next chunk is even sent: forwarded as it arrives, not buffered.
        StreamedBodyResponse first = streamedResponseBody(exchange.next());
        assertThat(first.getBody().toStringUtf8())
                .isEqualTo("data: {\"id\":\"sse-target-1\",\"model\":\"sse-model\",\"choices\":[{\"text\":\"a\"}]}\n\n");
        assertThat(first.getEndOfStream()).isFalse();
        assertThat(load(destination)).as("tokens released at the first chunk").isEqualTo(new InFlightLoad(0, 1));

        exchange.send(responseBody("data: {\"model\": \"sse-target\",\"choices\":[{\"text\":\"b\"}]}\n\n", false));
        assertThat(streamedResponseBody(exchange.next()).getBody().toStringUtf8())
                .as("the spaced form is rewritten too")
                .isEqualTo("data: {\"model\": \"sse-model\",\"choices\":[{\"text\":\"b\"}]}\n\n");

        exchange.send(responseBody("data: {\"model\":\"sse-target\",\"choices\":[],\"usage\":{\"prompt_tokens\":42,"
                + "\"completion_tokens\":7,\"total_tokens\":49}}\n\ndata: [DONE]\n\n", false));
        assertThat(streamedResponseBody(exchange.next()).getBody().toStringUtf8())
                .startsWith("data: {\"model\":\"sse-model\",\"choices\":[],\"usage\"");
        exchange.send(responseBody("", true));
        StreamedBodyResponse last = streamedResponseBody(exchange.next());
        assertThat(last.getBody().isEmpty()).isTrue();
        assertThat(last.getEndOfStream()).isTrue();
        assertThat(load(destination)).isEqualTo(InFlightLoad.IDLE);
        exchange.finish();

        Map<String, Double> samples = harness.scrapeMetrics();
        assertThat(samples).containsEntry(series("inference_objective_input_tokens_sum", "sse-model", "sse-target"), 42.0)
                .containsEntry(series("inference_objective_input_tokens_count", "sse-model", "sse-target"), 1.0)
                .containsEntry(series("inference_objective_output_tokens_sum", "sse-model", "sse-target"), 7.0)
                .containsEntry(series("inference_objective_request_duration_seconds_count", "sse-model", "sse-target"),
                        1.0);
        assertThat(runningRequests("sse-model")).isEqualTo(0.0);
    }

    // --- 6. many small messages -----------------------------------------------------------------------

    @Test
    void manySmallChunksQuicklyInBothDirections() throws Exception {
        int chunkCount = 2_000;
        int chunkBytes = 1_024;
        String head = "{\"model\":\"bp-model\",\"prompt\":\"";
        String tail = "\"}";
        String prompt = filler(chunkCount * chunkBytes - head.length() - tail.length());
        byte[] sent = (head + prompt + tail).getBytes(StandardCharsets.UTF_8);
        assertThat(sent).hasSize(chunkCount * chunkBytes);
        byte[] expected = ("{\"model\":\"bp-target\",\"prompt\":\"" + prompt + "\"}").getBytes(StandardCharsets.UTF_8);

        Exchange exchange = Exchange.open();
        exchange.send(requestHeaders(Map.of("x-request-id", "many-chunks", REWRITE, "bp-target"), false));
        List<byte[]> pieces = split(sent, chunkBytes);
        assertThat(pieces).hasSize(chunkCount);
        for (int i = 0; i < chunkCount; i++) {
            exchange.send(requestBody(pieces.get(i), i == chunkCount - 1));
        }
        ProcessingResponse headers = exchange.next();
        assertThat(setHeaders(headers)).containsEntry("Content-Length", Integer.toString(expected.length));
        int bodyChunks = (expected.length + CHUNK_LIMIT - 1) / CHUNK_LIMIT;
        List<StreamedBodyResponse> body = new ArrayList<>();
        for (int i = 0; i < bodyChunks; i++) {
            body.add(exchange.next().getRequestBody().getResponse().getBodyMutation().getStreamedResponse());
        }
        assertChunked(body, expected, true);

        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "text/event-stream")));
        for (int i = 0; i < chunkCount; i++) {
            exchange.send(responseBody("data: {\"model\":\"bp-target\",\"n\":" + i + "}\n\n", false));
        }
        exchange.send(responseBody("", true));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        for (int i = 0; i < chunkCount; i++) {
            assertThat(streamedResponseBody(exchange.next()).getBody().toStringUtf8()).as("chunk %d", i)
                    .isEqualTo("data: {\"model\":\"bp-model\",\"n\":" + i + "}\n\n");
        }
        assertThat(streamedResponseBody(exchange.next()).getEndOfStream()).isTrue();
        exchange.finish();
        awaitNothingInFlight();
    }

    // --- helpers --------------------------------------------------------------------------------------

    /** Sends a small completions request and reads its two answers; returns the destination. */
    private static String route(Exchange exchange, String model, String target, String prompt) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-request-id", model + "-" + System.nanoTime());
        if (!target.equals(model)) {
            headers.put(REWRITE, target);
        }
        exchange.send(requestHeaders(headers, false));
        exchange.send(requestBody("{\"model\":\"" + model + "\",\"prompt\":\"" + prompt + "\"}", true));
        ProcessingResponse routed = exchange.next();
        assertThat(routed.hasRequestHeaders()).as("request headers answered").isTrue();
        String destination = setHeaders(routed).get(DESTINATION);
        assertThat(destination).isIn(hostPorts());
        StreamedBodyResponse body = exchange.next().getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
        assertThat(body.getBody().toStringUtf8()).isEqualTo("{\"model\":\"" + target + "\",\"prompt\":\"" + prompt + "\"}");
        assertThat(body.getEndOfStream()).isTrue();
        return destination;
    }

    private static void finishWithBufferedResponse(Exchange exchange, String body) throws Exception {
        exchange.send(responseHeaders(Map.of(":status", "200", "content-type", "application/json")));
        exchange.send(responseBody(body, true));
        assertThat(exchange.next().hasResponseHeaders()).isTrue();
        assertThat(streamedResponseBody(exchange.next()).getEndOfStream()).isTrue();
        exchange.finish();
    }

    /** A whole request/response exchange on a fresh stream, ending with nothing in flight. */
    private static void assertServesAGoodStream() throws Exception {
        Exchange exchange = Exchange.open();
        route(exchange, "good-model", "good-model", "still serving");
        finishWithBufferedResponse(exchange, "{\"model\":\"good-model\"}");
    }

    private static void assertChunked(List<StreamedBodyResponse> chunks, byte[] expected, boolean endOfStream) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < chunks.size(); i++) {
            StreamedBodyResponse chunk = chunks.get(i);
            assertThat(chunk.getBody().size()).as("chunk %d size", i).isLessThanOrEqualTo(CHUNK_LIMIT);
            if (i < chunks.size() - 1) {
                assertThat(chunk.getBody().size()).as("chunk %d is full", i).isEqualTo(CHUNK_LIMIT);
            }
            assertThat(chunk.getEndOfStream()).as("end of stream on chunk %d", i)
                    .isEqualTo(endOfStream && i == chunks.size() - 1);
            joined.writeBytes(chunk.getBody().toByteArray());
        }
        assertThat(joined.toByteArray()).as("the chunks joined").isEqualTo(expected);
    }

    private static StreamedBodyResponse streamedResponseBody(ProcessingResponse response) {
        assertThat(response.hasResponseBody()).as("a response body answer: %s", response.getResponseCase()).isTrue();
        return response.getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
    }

    private static String streamed(StreamedBodyResponse body) {
        return body.getBody().toStringUtf8();
    }

    private static Map<String, String> setHeaders(ProcessingResponse response) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (HeaderValueOption option : response.getRequestHeaders().getResponse().getHeaderMutation().getSetHeadersList()) {
            headers.put(option.getHeader().getKey(), option.getHeader().getRawValue().toStringUtf8());
        }
        return headers;
    }

    private static List<String> hostPorts() {
        return PODS.stream().map(FakeVllmPod::hostPort).toList();
    }

    private static InFlightLoad load(String hostPort) {
        return epp.datastore().endpoints().stream()
                .filter(state -> state.metadata().hostPort().equals(hostPort))
                .map(state -> inFlight.load(state.metadata().key()))
                .findFirst().orElseThrow();
    }

    private static InFlightLoad totalLoad() {
        long tokens = 0;
        long requests = 0;
        for (String hostPort : hostPorts()) {
            InFlightLoad load = load(hostPort);
            tokens += load.tokens();
            requests += load.requests();
        }
        return new InFlightLoad(tokens, requests);
    }

    private static void awaitNothingInFlight() {
        Eventually.await("no request in flight on any endpoint", () -> hostPorts().stream()
                .allMatch(hostPort -> load(hostPort).equals(InFlightLoad.IDLE)));
    }

    private static double runningRequests(String model) {
        try {
            return harness.scrapeMetrics().getOrDefault("inference_objective_running_requests{model_name=\"" + model + "\"}",
                    Double.NaN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String series(String name, String model, String target) {
        return name + "{model_name=\"" + model + "\",target_model_name=\"" + target + "\"}";
    }

    private static String filler(int length) {
        StringBuilder text = new StringBuilder(length);
        String words = "the quick brown fox jumps over the lazy dog ";
        while (text.length() < length) {
            text.append(words, 0, Math.min(words.length(), length - text.length()));
        }
        return text.toString();
    }

    private static List<byte[]> split(byte[] bytes, int size) {
        List<byte[]> pieces = new ArrayList<>();
        for (int start = 0; start < bytes.length; start += size) {
            pieces.add(Arrays.copyOfRange(bytes, start, Math.min(bytes.length, start + size)));
        }
        return pieces;
    }

    // --- messages as Envoy sends them -----------------------------------------------------------------

    private static ProcessingRequest requestHeaders(Map<String, String> headers, boolean endOfStream) {
        return ProcessingRequest.newBuilder()
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(headerMap(headers)).setEndOfStream(endOfStream))
                .build();
    }

    private static ProcessingRequest responseHeaders(Map<String, String> headers) {
        return ProcessingRequest.newBuilder()
                .setResponseHeaders(HttpHeaders.newBuilder().setHeaders(headerMap(headers))).build();
    }

    private static HeaderMap headerMap(Map<String, String> headers) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name)
                .setRawValue(ByteString.copyFromUtf8(value))));
        return map.build();
    }

    private static ProcessingRequest requestBody(String chunk, boolean endOfStream) {
        return requestBody(chunk.getBytes(StandardCharsets.UTF_8), endOfStream);
    }

    private static ProcessingRequest requestBody(byte[] chunk, boolean endOfStream) {
        return ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(chunk)).setEndOfStream(endOfStream)).build();
    }

    private static ProcessingRequest responseBody(String chunk, boolean endOfStream) {
        return responseBody(chunk.getBytes(StandardCharsets.UTF_8), endOfStream);
    }

    private static ProcessingRequest responseBody(byte[] chunk, boolean endOfStream) {
        return ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(chunk)).setEndOfStream(endOfStream)).build();
    }

    /** One ext_proc stream from the proxy's side: what it sends, and every event it receives, in order. */
    private static final class Exchange implements ClientResponseObserver<ProcessingRequest, ProcessingResponse> {
        private static final Object COMPLETED = new Object();
        private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private ClientCallStreamObserver<ProcessingRequest> requests;

        static Exchange open() {
            return open(channel);
        }

        static Exchange open(ManagedChannel on) {
            Exchange exchange = new Exchange();
            ExternalProcessorGrpc.newStub(on).process(exchange);
            OPEN.add(exchange);
            return exchange;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ProcessingRequest> stream) {
            requests = stream;
        }

        @Override
        public void onNext(ProcessingResponse response) {
            events.add(response);
        }

        @Override
        public void onError(Throwable error) {
            events.add(error);
        }

        @Override
        public void onCompleted() {
            events.add(COMPLETED);
        }

        void send(ProcessingRequest request) {
            requests.onNext(request);
        }

        ProcessingResponse next() throws InterruptedException {
            Object event = poll();
            assertThat(event).as("the next stream event").isInstanceOf(ProcessingResponse.class);
            return (ProcessingResponse) event;
        }

        Status error() throws InterruptedException {
            Object event = poll();
            assertThat(event).as("the next stream event").isInstanceOf(Throwable.class);
            return Status.fromThrowable((Throwable) event);
        }

        /** Half-closes, as Envoy does when the HTTP exchange is over, and expects the EPP to end the stream OK. */
        void finish() throws InterruptedException {
            requests.onCompleted();
            Object event = poll();
            assertThat(event).as("the stream ends OK after the half-close (got %s)", event).isSameAs(COMPLETED);
        }

        void cancel() {
            requests.cancel("the client went away", null);
        }

        private Object poll() throws InterruptedException {
            Object event = events.poll(10, TimeUnit.SECONDS);
            assertThat(event).as("an event within 10 s").isNotNull();
            return event;
        }
    }
}
