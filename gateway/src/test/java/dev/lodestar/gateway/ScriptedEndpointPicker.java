package dev.lodestar.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;

/**
 * Test double of an Endpoint Picker at the protocol boundary: a real grpc-java ext_proc server on 127.0.0.1:0
 * whose behaviour on each stream the test scripts, and which records every {@link ProcessingRequest} it received
 * and how each stream ended. It shares no code with the EPP module.
 */
final class ScriptedEndpointPicker implements AutoCloseable {

    /** What the double does with each message of one stream. */
    @FunctionalInterface
    interface Script {
        void onRequest(ProcessingRequest request, RecordedStream stream);
    }

    /** One ext_proc stream as the double saw it. */
    static final class RecordedStream {
        private final List<ProcessingRequest> requests = new CopyOnWriteArrayList<>();
        private final CompletableFuture<Status> error = new CompletableFuture<>();
        private final CompletableFuture<Void> halfClosed = new CompletableFuture<>();
        private final StreamObserver<ProcessingResponse> replies;
        private final ByteArrayOutputStream requestBody = new ByteArrayOutputStream();

        RecordedStream(StreamObserver<ProcessingResponse> replies) {
            this.replies = replies;
        }

        List<ProcessingRequest> requests() {
            return List.copyOf(requests);
        }

        /** Completes with the status when the gateway cancelled or broke the stream. */
        CompletableFuture<Status> error() {
            return error;
        }

        /** Completes when the gateway ended its side of the stream normally. */
        CompletableFuture<Void> halfClosed() {
            return halfClosed;
        }

        synchronized void reply(ProcessingResponse response) {
            replies.onNext(response);
        }

        synchronized void complete() {
            replies.onCompleted();
        }

        synchronized void fail(Status status) {
            replies.onError(status.asRuntimeException());
        }

        /** The request body received so far (every request_body chunk). */
        synchronized byte[] requestBody() {
            return requestBody.toByteArray();
        }

        private synchronized void accumulate(ProcessingRequest request) {
            if (request.hasRequestBody()) {
                requestBody.writeBytes(request.getRequestBody().getBody().toByteArray());
            }
        }
    }

    private final Server server;
    private final List<RecordedStream> streams = new CopyOnWriteArrayList<>();
    private volatile Script script = (request, stream) -> { };

    private ScriptedEndpointPicker(Server server) {
        this.server = server;
    }

    static ScriptedEndpointPicker start() {
        ScriptedEndpointPicker[] self = new ScriptedEndpointPicker[1];
        ExternalProcessorGrpc.ExternalProcessorImplBase service = new ExternalProcessorGrpc.ExternalProcessorImplBase() {
            @Override
            public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> replies) {
                RecordedStream stream = new RecordedStream(replies);
                self[0].streams.add(stream);
                Script current = self[0].script;
                return new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingRequest request) {
                        stream.requests.add(request);
                        stream.accumulate(request);
                        current.onRequest(request, stream);
                    }

                    @Override
                    public void onError(Throwable t) {
                        stream.error.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        stream.halfClosed.complete(null);
                    }
                };
            }
        };
        try {
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(service)
                    .build()
                    .start();
            self[0] = new ScriptedEndpointPicker(server);
            return self[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Applies to streams opened from now on. */
    ScriptedEndpointPicker script(Script script) {
        this.script = script;
        return this;
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    List<RecordedStream> streams() {
        return List.copyOf(streams);
    }

    /** The only stream opened so far, waiting (bounded) for it to appear. */
    RecordedStream onlyStream() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (streams.isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
        if (streams.size() != 1) {
            throw new AssertionError("expected one ext_proc stream, got " + streams.size());
        }
        return streams.getFirst();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- building blocks of scripts ----------------------------------------------------------------------------

    static HeaderValueOption setHeader(String name, String value) {
        return HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey(name)
                .setRawValue(ByteString.copyFromUtf8(value))).build();
    }

    static Struct destinationMetadata(String destination) {
        return Struct.newBuilder().putFields(EnvoyMessages.LB_NAMESPACE, Value.newBuilder().setStructValue(
                Struct.newBuilder().putFields(EnvoyMessages.DESTINATION,
                        Value.newBuilder().setStringValue(destination).build())).build()).build();
    }

    static ProcessingResponse requestHeadersReply(HeaderMutation mutation, Struct metadata) {
        return ProcessingResponse.newBuilder()
                .setRequestHeaders(HeadersResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setClearRouteCache(true).setHeaderMutation(mutation)))
                .setDynamicMetadata(metadata)
                .build();
    }

    static ProcessingResponse requestBodyReply(byte[] body, boolean endOfStream) {
        return ProcessingResponse.newBuilder()
                .setRequestBody(BodyResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setBodyMutation(BodyMutation.newBuilder().setStreamedResponse(StreamedBodyResponse
                                .newBuilder().setBody(ByteString.copyFrom(body)).setEndOfStream(endOfStream)))))
                .build();
    }

    static ProcessingResponse responseHeadersReply(HeaderMutation mutation) {
        return ProcessingResponse.newBuilder()
                .setResponseHeaders(HeadersResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setHeaderMutation(mutation)))
                .build();
    }

    static ProcessingResponse responseBodyReply(ByteString body, boolean endOfStream) {
        return ProcessingResponse.newBuilder()
                .setResponseBody(BodyResponse.newBuilder().setResponse(CommonResponse.newBuilder()
                        .setBodyMutation(BodyMutation.newBuilder().setStreamedResponse(StreamedBodyResponse
                                .newBuilder().setBody(body).setEndOfStream(endOfStream)))))
                .build();
    }

    /**
     * A script that behaves as GIE's reference EPP: a bodyless request is answered at once; otherwise the body is
     * buffered until end_of_stream, then the header reply (destination header and metadata) and the body, in
     * 62,000-byte streamed chunks, go back; response headers and each response-body chunk pass through.
     */
    static Router routeTo(String destination) {
        return new Router(destination);
    }

    static final class Router implements Script {
        private final String destination;
        private boolean header = true;
        private boolean metadata = true;
        private UnaryOperator<String> requestBody = UnaryOperator.identity();
        private UnaryOperator<ByteString> responseChunk = UnaryOperator.identity();
        private final HeaderMutation.Builder requestMutation = HeaderMutation.newBuilder();
        private final HeaderMutation.Builder responseMutation = HeaderMutation.newBuilder();

        private Router(String destination) {
            this.destination = destination;
        }

        /** Sends the destination in dynamic metadata only, without the header. */
        Router metadataOnly() {
            header = false;
            return this;
        }

        /** Sends no destination at all. */
        Router noDestination() {
            header = false;
            metadata = false;
            return this;
        }

        Router rewriteRequestBody(UnaryOperator<String> rewrite) {
            requestBody = rewrite;
            return this;
        }

        Router rewriteResponseChunks(UnaryOperator<ByteString> rewrite) {
            responseChunk = rewrite;
            return this;
        }

        Router setRequestHeader(String name, String value) {
            requestMutation.addSetHeaders(setHeader(name, value));
            return this;
        }

        Router removeRequestHeader(String name) {
            requestMutation.addRemoveHeaders(name);
            return this;
        }

        Router setResponseHeader(String name, String value) {
            responseMutation.addSetHeaders(setHeader(name, value));
            return this;
        }

        @Override
        public void onRequest(ProcessingRequest request, RecordedStream stream) {
            switch (request.getRequestCase()) {
                case REQUEST_HEADERS -> {
                    if (request.getRequestHeaders().getEndOfStream()) {
                        stream.reply(headersReply(0));
                    }
                }
                case REQUEST_BODY -> {
                    if (request.getRequestBody().getEndOfStream()) {
                        byte[] body = requestBody.apply(new String(stream.requestBody(), StandardCharsets.UTF_8))
                                .getBytes(StandardCharsets.UTF_8);
                        stream.reply(headersReply(body.length));
                        List<byte[]> chunks = new ArrayList<>();
                        for (int offset = 0; offset < body.length || chunks.isEmpty(); offset += 62_000) {
                            int end = Math.min(body.length, offset + 62_000);
                            byte[] chunk = new byte[end - offset];
                            System.arraycopy(body, offset, chunk, 0, chunk.length);
                            chunks.add(chunk);
                        }
                        for (int i = 0; i < chunks.size(); i++) {
                            stream.reply(requestBodyReply(chunks.get(i), i == chunks.size() - 1));
                        }
                    }
                }
                case RESPONSE_HEADERS -> stream.reply(responseHeadersReply(responseMutation.build()));
                case RESPONSE_BODY -> onResponseBody(request, stream);
                default -> { }
            }
        }

        /** Passes each chunk through (rewritten), as the reference EPP streams a response. */
        void onResponseBody(ProcessingRequest request, RecordedStream stream) {
            stream.reply(responseBodyReply(responseChunk.apply(request.getResponseBody().getBody()),
                    request.getResponseBody().getEndOfStream()));
        }

        private ProcessingResponse headersReply(int bodyLength) {
            HeaderMutation.Builder mutation = requestMutation.clone();
            if (header) {
                mutation.addSetHeaders(setHeader(EnvoyMessages.DESTINATION, destination));
            }
            if (bodyLength > 0) {
                mutation.addSetHeaders(setHeader("Content-Length", Integer.toString(bodyLength)));
            }
            return requestHeadersReply(mutation.build(),
                    metadata ? destinationMetadata(destination) : Struct.getDefaultInstance());
        }
    }
}
