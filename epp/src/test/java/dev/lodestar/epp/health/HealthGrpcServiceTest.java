package dev.lodestar.epp.health;

import com.google.protobuf.Empty;
import dev.lodestar.epp.grpc.GrpcServers;
import dev.lodestar.epp.tls.ServingCertificate;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ClientCalls;
import io.helidon.webserver.WebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HealthGrpcServiceTest {
    private final AtomicBoolean synced = new AtomicBoolean();
    private final AtomicBoolean leader = new AtomicBoolean();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        Collections.reverse(cleanup);
        for (AutoCloseable closeable : cleanup) {
            closeable.close();
        }
    }

    private ManagedChannel plaintext(WebServer server) {
        return track(ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build());
    }

    private ManagedChannel track(ManagedChannel channel) {
        cleanup.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return channel;
    }

    private WebServer track(WebServer server) {
        cleanup.add(server::stop);
        return server;
    }

    private static ServingStatus check(ManagedChannel channel, String service) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    private static Map<String, ServingStatus> list(ManagedChannel channel) {
        return ClientCalls.blockingUnaryCall(channel, HealthList.METHOD,
                CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), Empty.getDefaultInstance()).statuses();
    }

    @Test
    void healthServerFollowsSyncWithoutLeaderElection() {
        WebServer server = track(HealthServer.start("127.0.0.1", 0, EppHealth.create(synced::get)));
        ManagedChannel channel = plaintext(server);

        assertThat(check(channel, "inference-extension")).isEqualTo(ServingStatus.NOT_SERVING);
        synced.set(true);
        assertThat(check(channel, "inference-extension")).isEqualTo(ServingStatus.SERVING);
        assertThat(check(channel, "")).isEqualTo(ServingStatus.SERVING);
        assertThat(list(channel)).isEqualTo(Map.of(EppHealth.EXT_PROC, ServingStatus.SERVING));
        assertThat(server.hasTls()).isFalse();
    }

    @Test
    void healthServerWithLeaderElection() {
        WebServer server = track(HealthServer.start("127.0.0.1", 0,
                EppHealth.withLeaderElection(synced::get, leader::get)));
        ManagedChannel channel = plaintext(server);
        synced.set(true);

        assertThat(check(channel, "liveness")).isEqualTo(ServingStatus.SERVING);
        assertThat(check(channel, "readiness")).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(check(channel, "bogus")).isEqualTo(ServingStatus.SERVICE_UNKNOWN);
        leader.set(true);
        assertThat(check(channel, "readiness")).isEqualTo(ServingStatus.SERVING);
        assertThat(check(channel, EppHealth.EXT_PROC)).isEqualTo(ServingStatus.SERVING);
        assertThat(list(channel)).isEqualTo(Map.of(EppHealth.EXT_PROC, ServingStatus.SERVING,
                "liveness", ServingStatus.SERVING, "readiness", ServingStatus.SERVING));
    }

    @Test
    void watchIsUnimplemented() {
        WebServer server = track(HealthServer.start("127.0.0.1", 0, EppHealth.create(synced::get)));
        ManagedChannel channel = plaintext(server);

        assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .watch(HealthCheckRequest.getDefaultInstance()).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("Watch is not implemented");
                });
    }

    @Test
    void sameServiceOnATlsExtProcServerForHealthChecking() {
        // --health-checking: the ext_proc server also answers health, here over its TLS listener.
        WebServer server = track(GrpcServers.builder().host("127.0.0.1").port(0)
                .tls(ServingCertificate.selfSigned().toTls())
                .addService(new ExternalProcessorGrpc.ExternalProcessorImplBase() {
                })
                .addService(new HealthGrpcService(EppHealth.create(synced::get)))
                .build().start());
        ManagedChannel channel = track(Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
                TlsChannelCredentials.newBuilder().trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers())
                        .build()).build());

        assertThat(check(channel, EppHealth.EXT_PROC)).isEqualTo(ServingStatus.NOT_SERVING);
        synced.set(true);
        assertThat(check(channel, EppHealth.EXT_PROC)).isEqualTo(ServingStatus.SERVING);
        assertThat(list(channel)).containsEntry(EppHealth.EXT_PROC, ServingStatus.SERVING);
    }

    @Test
    void listResponseRoundTripsTheProtoMapEncoding() throws Exception {
        HealthList.Response response = new HealthList.Response(Map.of("a", ServingStatus.SERVING,
                "envoy.service.ext_proc.v3.ExternalProcessor", ServingStatus.NOT_SERVING, "", ServingStatus.UNKNOWN));

        HealthList.Response parsed = HealthList.Response.parse(new java.io.ByteArrayInputStream(response.toByteArray()));

        assertThat(parsed).isEqualTo(response);
        // map<string, HealthCheckResponse> statuses = 1: entry {1: "a", 2: {1: SERVING(1)}}.
        byte[] single = new HealthList.Response(Map.of("a", ServingStatus.SERVING)).toByteArray();
        assertThat(single).containsExactly(0x0a, 0x07, 0x0a, 0x01, 'a', 0x12, 0x02, 0x08, 0x01);
    }
}
