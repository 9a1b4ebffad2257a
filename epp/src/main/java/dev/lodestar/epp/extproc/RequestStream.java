package dev.lodestar.epp.extproc;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.requestcontrol.Director;
import dev.lodestar.epp.requestcontrol.RequestContext;
import dev.lodestar.epp.requestcontrol.RequestControlHeaders;
import dev.lodestar.epp.requestcontrol.RequestRecorder;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One ext_proc stream, i.e. one HTTP request, as GIE's EPP processes it (gie.md §2.6):
 * <ol>
 *   <li>request headers are stored and answered only when the body is complete (a header-only request
 *       goes at once to a random endpoint);</li>
 *   <li>body chunks accumulate until end of stream (or request trailers); then the {@link Director}
 *       routes the request and the EPP sends the headers response (destination header and
 *       {@code envoy.lb} metadata, Content-Length, echoed headers, cleared route cache) followed by the
 *       re-serialized body in chunks of at most 62,000 bytes (the last one ends the stream, unless request
 *       trailers ended the body: then the trailers' empty response follows and ends it; GIE ignores
 *       request trailers, which leaves such a request unrouted);</li>
 *   <li>response headers are echoed with {@code x-went-into-resp-headers}; streamed response chunks are
 *       forwarded as they come with the model name rewritten back, buffered bodies once complete (or, for
 *       a gRPC model server, at the response trailers: without end of stream, then the trailers' empty
 *       response);</li>
 *   <li>when the stream ends before the response did (client gone), the end-of-stream plugin hooks run
 *       anyway, so no in-flight counter leaks.</li>
 * </ol>
 * A refusal becomes an ImmediateResponse {@code inference error: <Code> - <Msg>} with the code's HTTP
 * status, or a gRPC error when the code has none; a message out of order is answered with a gRPC
 * INVALID_ARGUMENT error. Nothing here throws into the transport.
 */
final class RequestStream implements StreamObserver<ProcessingRequest> {
    private static final Logger LOGGER = Logger.getLogger(RequestStream.class.getName());
    private static final String SERVED_METADATA_HEADER = "x-gateway-destination-endpoint-served";
    private static final String LB_METADATA_PRESENT_HEADER = "x-gateway-envoy-lb-metadata-present";

    private final Director director;
    private final RequestRecorder recorder;
    private final ExtProcService.ResponseSender sender;
    private final RequestContext context = new RequestContext();
    private final ByteArrayOutputStream requestBody = new ByteArrayOutputStream();
    private final ByteArrayOutputStream responseBody = new ByteArrayOutputStream();
    private Phase phase = Phase.AWAITING_HEADERS;
    private boolean running;
    private boolean finished;

    RequestStream(Director director, RequestRecorder recorder, ExtProcService.ResponseSender sender) {
        this.director = director;
        this.recorder = recorder;
        this.sender = sender;
    }

    private enum Phase {
        AWAITING_HEADERS,
        READING_BODY,
        ROUTED,
        RESPONDING,
        CLOSED
    }

    @Override
    public void onNext(ProcessingRequest request) {
        if (phase == Phase.CLOSED) {
            return;
        }
        try {
            switch (request.getRequestCase()) {
                case REQUEST_HEADERS -> onRequestHeaders(request.getRequestHeaders(), filterMetadata(request));
                case REQUEST_BODY -> onRequestBody(request.getRequestBody());
                case REQUEST_TRAILERS -> onRequestTrailers();
                case RESPONSE_HEADERS -> onResponseHeaders(request.getResponseHeaders(), filterMetadata(request));
                case RESPONSE_BODY -> onResponseBody(request.getResponseBody());
                case RESPONSE_TRAILERS -> onResponseTrailers();
                default -> throw new ProtocolViolation("unsupported ext_proc message " + request.getRequestCase());
            }
        } catch (InferenceException e) {
            refuse(e);
        } catch (ProtocolViolation e) {
            fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
        } catch (RuntimeException e) {
            LOGGER.log(Level.SEVERE, "failed to process request " + context.requestId(), e);
            fail(Status.INTERNAL.withDescription("failed to handle request: " + e));
        }
    }

    @Override
    public void onError(Throwable error) {
        LOGGER.log(Level.FINE, "ext_proc stream of " + context.requestId() + " ended by the proxy", error);
        close();
    }

    @Override
    public void onCompleted() {
        close();
        sender.complete();
    }

    private void onRequestHeaders(HttpHeaders headers, Map<String, Struct> metadata) {
        if (phase != Phase.AWAITING_HEADERS) {
            throw new ProtocolViolation("request headers arrived twice");
        }
        context.requestReceivedNanos(System.nanoTime());
        Map<String, String> received = EnvoyMessages.headers(headers.getHeaders());
        context.requestHeaders().putAll(received);
        String requestId = received.get(RequestControlHeaders.REQUEST_ID);
        if (requestId == null || requestId.isEmpty()) {
            requestId = UUID.randomUUID().toString();
            context.requestHeaders().put(RequestControlHeaders.REQUEST_ID, requestId);
            context.requestId(requestId, true);
        } else {
            context.requestId(requestId, false);
        }
        context.objectiveKey(RequestControlHeaders.firstValue(received, RequestControlHeaders.OBJECTIVE));
        context.modelRewriteHeader(RequestControlHeaders.firstValue(received, RequestControlHeaders.MODEL_NAME_REWRITE));
        context.fairnessId(RequestControlHeaders.firstValue(received, RequestControlHeaders.FAIRNESS_ID));
        EnvoyMessages.stringList(metadata, RequestControlHeaders.SUBSET_METADATA_NAMESPACE,
                RequestControlHeaders.DESTINATION_ENDPOINT_SUBSET).ifPresent(context::subsetHint);
        if (headers.getEndOfStream()) {
            routeWithoutBody();
        } else {
            phase = Phase.READING_BODY;
        }
    }

    private void onRequestBody(HttpBody body) {
        if (phase != Phase.READING_BODY) {
            throw new ProtocolViolation("request body arrived " + (phase == Phase.AWAITING_HEADERS
                    ? "before the request headers" : "after the request was routed"));
        }
        requestBody.writeBytes(body.getBody().toByteArray());
        if (body.getEndOfStream()) {
            route(true);
        }
    }

    private void onRequestTrailers() {
        if (phase == Phase.AWAITING_HEADERS) {
            throw new ProtocolViolation("request trailers arrived before the request headers");
        }
        if (phase == Phase.READING_BODY) {
            // Trailers end a body whose last chunk did not say end of stream; they, not the body, end the
            // stream for Envoy, so the body goes back without end_of_stream (as GIE's response trailers).
            route(false);
        }
        sender.send(ProcessingResponse.newBuilder().setRequestTrailers(TrailersResponse.getDefaultInstance()).build());
    }

    private void routeWithoutBody() {
        Optional<EndpointMetadata> endpoint = director.randomEndpoint();
        if (endpoint.isEmpty()) {
            throw new InferenceException(ErrorCode.INTERNAL, "no pods available in datastore");
        }
        context.route(endpoint.get().hostPort(), endpoint.get());
        sender.send(requestHeadersResponse(false));
        phase = Phase.ROUTED;
    }

    private void route(boolean endOfStream) {
        context.requestBody(requestBody.toByteArray());
        requestBody.reset();
        director.handleRequest(context);
        context.llmRequest().ifPresent(request -> context.streamingResponse(request.body().stream()));
        sender.send(requestHeadersResponse(true));
        EnvoyMessages.requestBodyResponses(context.requestBody(), endOfStream).forEach(sender::send);
        recorder.requestRouted(context.incomingModel(), context.targetModel(), context.priority(),
                context.requestBody().length);
        recorder.requestRunning(context.incomingModel());
        running = true;
        phase = Phase.ROUTED;
    }

    private ProcessingResponse requestHeadersResponse(boolean withBody) {
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder()
                .addSetHeaders(EnvoyMessages.setHeader(RequestControlHeaders.DESTINATION_ENDPOINT, context.destination()));
        if (withBody && context.requestBody().length > 0) {
            mutation.addSetHeaders(EnvoyMessages.setHeader("Content-Length",
                    Integer.toString(context.requestBody().length)));
        }
        context.headersToSet().forEach((name, value) -> mutation.addSetHeaders(EnvoyMessages.setHeader(name, value)));
        List<String> removed = new ArrayList<>();
        context.requestHeaders().forEach((name, value) -> {
            if (!RequestControlHeaders.systemOwned(name)) {
                if (!context.headersToSet().containsKey(name)) {
                    mutation.addSetHeaders(EnvoyMessages.setHeader(name, value));
                }
            } else if (!name.equals("content-length") && !name.equals(RequestControlHeaders.DESTINATION_ENDPOINT)
                    && !context.headersToSet().containsKey(name)) {
                // Control headers a client sent must not reach the model server as if the EPP set them; one
                // the EPP sets itself (e.g. x-prefiller-host-port) is overwritten instead.
                removed.add(name);
            }
        });
        mutation.addAllRemoveHeaders(removed);
        Struct destination = Struct.newBuilder().putFields(RequestControlHeaders.DESTINATION_ENDPOINT,
                Value.newBuilder().setStringValue(context.destination()).build()).build();
        return ProcessingResponse.newBuilder()
                .setRequestHeaders(HeadersResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setClearRouteCache(true)
                        .setHeaderMutation(mutation)))
                .setDynamicMetadata(Struct.newBuilder().putFields(RequestControlHeaders.DESTINATION_METADATA_NAMESPACE,
                        Value.newBuilder().setStructValue(destination).build()))
                .build();
    }

    private void onResponseHeaders(HttpHeaders headers, Map<String, Struct> metadata) {
        // A proxy configured to skip the request phase sends only the response; GIE's EPP serves that too.
        if (phase == Phase.READING_BODY) {
            throw new ProtocolViolation("response headers arrived before the request body ended");
        }
        if (phase == Phase.RESPONDING) {
            throw new ProtocolViolation("response headers arrived twice");
        }
        Map<String, String> received = EnvoyMessages.headers(headers.getHeaders());
        context.responseHeaders().putAll(received);
        String contentType = received.getOrDefault("content-type", "");
        if (contentType.contains("text/event-stream")) {
            context.streamingResponse(true);
        }
        String status = received.getOrDefault(":status", received.get("status"));
        if (status != null && !status.equals("200")) {
            recorder.requestFailed(context.incomingModel(), context.targetModel(), ErrorCode.MODEL_SERVER_ERROR);
        }
        Map<String, String> headersToSet = director.handleResponseHeaders(context,
                servedEndpointHeaders(metadata));
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder()
                .addSetHeaders(EnvoyMessages.setHeader("x-went-into-resp-headers", "true"));
        received.forEach((name, value) -> {
            if (!RequestControlHeaders.systemOwned(name) && !headersToSet.containsKey(name)) {
                mutation.addSetHeaders(EnvoyMessages.setHeader(name, value));
            }
        });
        headersToSet.forEach((name, value) -> mutation.addSetHeaders(EnvoyMessages.setHeader(name, value)));
        sender.send(ProcessingResponse.newBuilder()
                .setResponseHeaders(HeadersResponse.newBuilder()
                        .setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation)))
                .build());
        phase = Phase.RESPONDING;
    }

    /**
     * The served endpoint the proxy reported in {@code envoy.lb} metadata, passed to response plugins as
     * pseudo-headers (never echoed to the client).
     */
    private static Map<String, String> servedEndpointHeaders(Map<String, Struct> metadata) {
        Struct lb = metadata.get(RequestControlHeaders.DESTINATION_METADATA_NAMESPACE);
        if (lb == null) {
            return Map.of(LB_METADATA_PRESENT_HEADER, "false");
        }
        Value served = lb.getFieldsMap().get(RequestControlHeaders.DESTINATION_ENDPOINT_SERVED);
        if (served == null || !served.hasStringValue()) {
            return Map.of(LB_METADATA_PRESENT_HEADER, "true");
        }
        return Map.of(LB_METADATA_PRESENT_HEADER, "true", SERVED_METADATA_HEADER, served.getStringValue());
    }

    private void onResponseBody(HttpBody body) {
        if (phase != Phase.RESPONDING) {
            throw new ProtocolViolation("response body arrived before the response headers");
        }
        byte[] chunk = body.getBody().toByteArray();
        boolean endOfStream = body.getEndOfStream();
        if (context.streamingResponse()) {
            context.addResponseBytes(chunk.length);
            director.parser().parseResponse(chunk, true).ifPresent(this::usage);
            if (endOfStream) {
                completeResponse();
            }
            Map<String, Map<String, Object>> metadata = director.handleResponseBody(context, endOfStream);
            if (endOfStream) {
                finished = true;
            }
            EnvoyMessages.responseBodyResponses(rewriteModelBack(chunk), endOfStream, EnvoyMessages.metadata(metadata))
                    .forEach(sender::send);
        } else {
            responseBody.writeBytes(chunk);
            if (endOfStream) {
                finishBufferedResponse(true);
            }
        }
    }

    private void onResponseTrailers() {
        if (phase != Phase.RESPONDING) {
            throw new ProtocolViolation("response trailers arrived before the response headers");
        }
        if (!finished) {
            if (context.streamingResponse()) {
                completeResponse();
                director.handleResponseBody(context, true);
                finished = true;
            } else {
                finishBufferedResponse(false);
            }
        }
        sender.send(ProcessingResponse.newBuilder()
                .setResponseTrailers(TrailersResponse.getDefaultInstance()).build());
    }

    private void finishBufferedResponse(boolean endOfStream) {
        byte[] body = responseBody.toByteArray();
        responseBody.reset();
        context.addResponseBytes(body.length);
        director.parser().parseResponse(body, false).ifPresent(this::usage);
        completeResponse();
        Map<String, Map<String, Object>> metadata = director.handleResponseBody(context, true);
        finished = true;
        EnvoyMessages.responseBodyResponses(rewriteModelBack(body), endOfStream, EnvoyMessages.metadata(metadata))
                .forEach(sender::send);
    }

    private void usage(Usage usage) {
        context.usage(usage);
        recorder.usage(context.incomingModel(), context.targetModel(), usage);
    }

    private void completeResponse() {
        context.responseComplete(true);
        recorder.responseComplete(context.incomingModel(), context.targetModel(),
                System.nanoTime() - context.requestReceivedNanos(), context.responseBytes(),
                context.usage().map(Usage::completionTokens).orElse(0));
    }

    /** The target model in the response goes back to the name the client used (as GIE: a byte replace). */
    private byte[] rewriteModelBack(byte[] body) {
        String target = context.targetModel();
        String incoming = context.incomingModel();
        if (target.isEmpty() || incoming.isEmpty() || target.equals(incoming)) {
            return body;
        }
        byte[] result = replace(body, "\"model\":\"" + target + "\"", "\"model\":\"" + incoming + "\"");
        if (result != body) {
            return result;
        }
        return replace(body, "\"model\": \"" + target + "\"", "\"model\": \"" + incoming + "\"");
    }

    private static byte[] replace(byte[] body, String from, String to) {
        byte[] pattern = from.getBytes(StandardCharsets.UTF_8);
        byte[] replacement = to.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = null;
        int copied = 0;
        for (int i = 0; i <= body.length - pattern.length; i++) {
            if (matches(body, i, pattern)) {
                if (out == null) {
                    out = new ByteArrayOutputStream(body.length + 16);
                }
                out.write(body, copied, i - copied);
                out.writeBytes(replacement);
                i += pattern.length - 1;
                copied = i + 1;
            }
        }
        if (out == null) {
            return body;
        }
        out.write(body, copied, body.length - copied);
        return out.toByteArray();
    }

    private static boolean matches(byte[] body, int at, byte[] pattern) {
        for (int j = 0; j < pattern.length; j++) {
            if (body[at + j] != pattern[j]) {
                return false;
            }
        }
        return true;
    }

    private void refuse(InferenceException error) {
        LOGGER.fine(() -> "request " + context.requestId() + " refused: " + error.clientMessage());
        recorder.requestFailed(context.incomingModel(), context.targetModel(), error.code());
        OptionalInt status = error.code().httpStatus();
        if (status.isPresent()) {
            sender.send(EnvoyMessages.immediateResponse(status.getAsInt(), error.clientMessage()));
            // The stream ends when the proxy closes its side (onCompleted): Helidon treats a client frame that
            // arrives after the server ended the stream as a connection error (GOAWAY PROTOCOL_ERROR), which
            // would fail every other request multiplexed on the proxy's connection.
            close();
        } else {
            fail(Status.UNKNOWN.withDescription("failed to handle request: " + error.getMessage()));
        }
    }

    private void fail(Status status) {
        close();
        sender.fail(status.asRuntimeException());
    }

    /** Ends the request: releases what it holds, exactly once, whatever ended the stream. */
    private void close() {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        if (context.targetEndpoint().isPresent() && context.llmRequest().isPresent() && !finished) {
            finished = true;
            try {
                director.handleResponseBody(context, true);
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "end-of-stream hooks failed for " + context.requestId(), e);
            }
        }
        if (running) {
            running = false;
            recorder.requestFinished(context.incomingModel());
        }
    }

    private static Map<String, Struct> filterMetadata(ProcessingRequest request) {
        return request.hasMetadataContext() ? request.getMetadataContext().getFilterMetadataMap() : Map.of();
    }

    /** A message that does not fit the stream's state. */
    private static final class ProtocolViolation extends RuntimeException {
        ProtocolViolation(String message) {
            super(message, null, false, false);
        }
    }
}
