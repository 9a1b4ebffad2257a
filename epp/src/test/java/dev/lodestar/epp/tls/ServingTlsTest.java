package dev.lodestar.epp.tls;

import dev.lodestar.epp.grpc.GrpcServers;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.webserver.WebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServingTlsTest {
    @TempDir
    Path certPath;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        Collections.reverse(cleanup);
        for (AutoCloseable closeable : cleanup) {
            closeable.close();
        }
    }

    private WebServer start(ServingTls tls) {
        WebServer server = GrpcServers.builder().host("127.0.0.1").port(0).tls(tls.tls())
                .addService(new HealthStatusManager().getHealthService()).build().start();
        cleanup.add(server::stop);
        tls.attach(server);
        cleanup.add(tls);
        return server;
    }

    /** Opens a new TLS connection, makes one call and returns the certificate the server presented. */
    private X509Certificate presentedCertificate(WebServer server) throws InterruptedException {
        RecordingTrustManager trust = new RecordingTrustManager();
        ChannelCredentials credentials = TlsChannelCredentials.newBuilder().trustManager(trust).build();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), credentials).build();
        try {
            HealthCheckResponse response = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        return trust.last();
    }

    @Test
    void grpcClientConnectsWithTheGeneratedCertificate() throws Exception {
        ServingTls tls = ServingTls.create(true, Optional.empty(), false);
        WebServer server = start(tls);

        X509Certificate presented = presentedCertificate(server);

        assertThat(presented).isEqualTo(tls.certificate().orElseThrow().leaf());
        assertThat(presented.getSubjectX500Principal().getName()).isEqualTo("O=Inference Ext");
        assertThat(server.hasTls()).isTrue();
    }

    @Test
    void reloadSwapsTheServedCertificate() throws Exception {
        KeyPair firstKeys = TestPki.rsa();
        X509Certificate first = TestPki.selfSigned("CN=first", firstKeys);
        TestPki.writePair(certPath, TestPki.pem(first), TestPki.pkcs8Key(firstKeys));
        ServingTls tls = ServingTls.create(true, Optional.of(certPath), true, Duration.ofMillis(50));
        BlockingQueue<ServingCertificate> reloaded = new LinkedBlockingQueue<>();
        tls.onReload(reloaded::add);
        WebServer server = start(tls);
        assertThat(presentedCertificate(server)).isEqualTo(first);

        KeyPair secondKeys = TestPki.ec();
        X509Certificate second = TestPki.selfSigned("CN=second", secondKeys);
        TestPki.writePair(certPath, TestPki.pem(second), TestPki.traditionalKey(secondKeys));
        ServingCertificate swapped = reloaded.poll(20, TimeUnit.SECONDS);

        assertThat(swapped).as("reload within 20 s").isNotNull();
        assertThat(swapped.leaf()).isEqualTo(second);
        assertThat(presentedCertificate(server)).isEqualTo(second);
    }

    @Test
    void loadsCertPathWithoutReloading() throws Exception {
        KeyPair keys = TestPki.rsa();
        X509Certificate certificate = TestPki.selfSigned("CN=static", keys);
        TestPki.writePair(certPath, TestPki.pem(certificate), TestPki.traditionalKey(keys));
        ServingTls tls = ServingTls.create(true, Optional.of(certPath), false);
        WebServer server = start(tls);

        assertThat(tls.reloading()).isFalse();
        assertThat(presentedCertificate(server)).isEqualTo(certificate);
    }

    @Test
    void plaintextWhenSecureServingIsOff() {
        ServingTls tls = ServingTls.create(false, Optional.of(certPath), true);

        assertThat(tls.tls()).isEmpty();
        assertThat(tls.certificate()).isEmpty();
        assertThat(tls.reloading()).isFalse();
    }

    @Test
    void certReloadNeedsCertPath() {
        assertThat(ServingTls.create(true, Optional.empty(), true).reloading()).isFalse();
    }

    @Test
    void badCertPathFailsAtStart() {
        assertThatThrownBy(() -> ServingTls.create(true, Optional.of(certPath), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
    }
}
