package dev.lodestar.epp.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GrpcServersTest {
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        Collections.reverse(cleanup);
        for (AutoCloseable closeable : cleanup) {
            closeable.close();
        }
    }

    /** Answers every message with an empty request-body reply and the body's size in dynamic metadata. */
    static final class BodySizeEcho extends ExternalProcessorGrpc.ExternalProcessorImplBase {
        @Override
        public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProcessingRequest request) {
                    int size = request.getRequestBody().getBody().size();
                    responses.onNext(ProcessingResponse.newBuilder()
                            .setRequestBody(BodyResponse.getDefaultInstance())
                            .setDynamicMetadata(Struct.newBuilder().putFields("size",
                                    Value.newBuilder().setNumberValue(size).build()))
                            .build());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }
    }

    /** A client stream whose replies and end land in queues. */
    static final class Stream {
        final BlockingQueue<ProcessingResponse> replies = new LinkedBlockingQueue<>();
        final CompletableFuture<Void> end = new CompletableFuture<>();
        final StreamObserver<ProcessingRequest> requests;

        Stream(ManagedChannel channel) {
            requests = ExternalProcessorGrpc.newStub(channel).process(new StreamObserver<>() {
                @Override
                public void onNext(ProcessingResponse value) {
                    replies.add(value);
                }

                @Override
                public void onError(Throwable t) {
                    end.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    end.complete(null);
                }
            });
        }

        double send(int bodyBytes) throws InterruptedException {
            requests.onNext(ProcessingRequest.newBuilder()
                    .setRequestBody(HttpBody.newBuilder().setBody(ByteString.copyFrom(new byte[bodyBytes])))
                    .build());
            ProcessingResponse reply = replies.poll(20, TimeUnit.SECONDS);
            assertThat(reply).as("reply within 20 s").isNotNull();
            return reply.getDynamicMetadata().getFieldsOrThrow("size").getNumberValue();
        }
    }

    private WebServer start(GrpcServers.Builder builder) {
        WebServer server = builder.host("127.0.0.1").port(0).addService(new BodySizeEcho()).build().start();
        cleanup.add(server::stop);
        return server;
    }

    private ManagedChannel channel(WebServer server) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        cleanup.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return channel;
    }

    @Test
    void acceptsMessagesAboveHelidonsDefaultTwoMebibytes() throws Exception {
        WebServer server = start(GrpcServers.builder());
        Stream stream = new Stream(channel(server));

        assertThat(stream.send(5 << 20)).isEqualTo(5 << 20);
        assertThat(stream.send(16 << 20)).isEqualTo(16 << 20);
        stream.requests.onCompleted();
        stream.end.get(20, TimeUnit.SECONDS);
    }

    @Test
    void shortStreamsDoNotStallOnNagle() throws Exception {
        WebServer server = start(GrpcServers.builder());
        ManagedChannel channel = channel(server);
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            long start = System.nanoTime();
            Stream stream = new Stream(channel);
            stream.send(1000);
            stream.requests.onCompleted();
            stream.end.get(20, TimeUnit.SECONDS);
            micros.add((System.nanoTime() - start) / 1000);
        }
        List<Long> warm = new ArrayList<>(micros.subList(20, micros.size()));
        Collections.sort(warm);

        // Without tcpNoDelay a stream waits ~40 ms (Nagle plus delayed ACK); on loopback it otherwise takes a few ms.
        assertThat(warm.get(warm.size() / 2)).as("median stream time in microseconds").isLessThan(20_000L);
    }

    @Test
    void helidonCutsAnOpenStreamOnAConnectionWithoutNewStreams() throws Exception {
        // Why GrpcServers raises the idle timeout: Helidon counts a connection idle when no new stream
        // started on it, even while a stream is open; the next frame then gets a GOAWAY that kills the stream.
        WebServer server = start(GrpcServers.builder()
                .idleConnectionTimeout(Duration.ofSeconds(1), Duration.ofMillis(100)));
        Stream stream = new Stream(channel(server));
        stream.send(10);
        Thread.sleep(3000); // not synchronization: the quiet time is what this test is about
        stream.requests.onNext(ProcessingRequest.newBuilder()
                .setRequestBody(HttpBody.newBuilder().setBody(ByteString.copyFromUtf8("late"))).build());

        assertThatThrownBy(() -> stream.end.get(20, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(StatusRuntimeException.class)
                .rootCause().hasMessageContaining("UNAVAILABLE").hasMessageContaining("Idle timeout");
    }

    @Test
    void answersUncompressedAlthoughTheClientAdvertisesGzip() throws Exception {
        WebServer server = start(GrpcServers.builder());
        CompletableFuture<io.grpc.Metadata> responseHeaders = new CompletableFuture<>();
        io.grpc.ClientInterceptor capture = new io.grpc.ClientInterceptor() {
            @Override
            public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
                                                                io.grpc.CallOptions options, io.grpc.Channel next) {
                return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, io.grpc.Metadata headers) {
                        super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                            @Override
                            public void onHeaders(io.grpc.Metadata metadata) {
                                responseHeaders.complete(metadata);
                                super.onHeaders(metadata);
                            }
                        }, headers);
                    }
                };
            }
        };
        // grpc-java sends grpc-accept-encoding: gzip on every call, as the dev gateway does.
        Stream stream = new Stream(ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .intercept(capture).build());

        assertThat(stream.send(64 << 10)).isEqualTo(64 << 10);
        io.grpc.Metadata headers = responseHeaders.get(20, TimeUnit.SECONDS);
        assertThat(headers.get(io.grpc.Metadata.Key.of("grpc-encoding", io.grpc.Metadata.ASCII_STRING_MARSHALLER)))
                .isIn(null, "identity");
        stream.requests.onCompleted();
        stream.end.get(20, TimeUnit.SECONDS);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        WebServer server = GrpcServers.builder().port(0).addService(new BodySizeEcho()).build();

        assertThat(server.prototype().connectionOptions().tcpNoDelay()).isTrue();
        assertThat(server.prototype().idleConnectionTimeout()).isEqualTo(Duration.ofHours(24));
        assertThat(server.prototype().protocols()).anySatisfy(protocol -> assertThat(protocol)
                .isInstanceOfSatisfying(GrpcConfig.class,
                        grpc -> assertThat(grpc.maxReadBufferSize()).isEqualTo(32 << 20)));
        assertThat(server.prototype().protocols()).anySatisfy(protocol -> assertThat(protocol)
                .isInstanceOfSatisfying(GrpcConfig.class, grpc -> assertThat(grpc.enableCompression()).isFalse()));
        assertThat(server.hasTls()).isFalse();
    }

    @Test
    void rejectsAServerWithoutServices() {
        assertThatThrownBy(() -> GrpcServers.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("at least one service");
    }
}
