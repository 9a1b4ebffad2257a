package dev.lodestar.gateway;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC channel to one pool's EPP. With TLS the EPP's certificate is not verified, as GIE's Envoy
 * configuration (an empty {@code validation_context}) accepts the EPP's self-signed certificate.
 */
final class EndpointPickerClient implements AutoCloseable {
    private static final int MAX_MESSAGE_BYTES = 32 << 20;
    private static final int FLOW_CONTROL_WINDOW = 16 << 20;

    private final ManagedChannel channel;
    private final ExternalProcessorGrpc.ExternalProcessorStub stub;

    EndpointPickerClient(GatewayConfig.EndpointPicker picker) {
        GatewayConfig.HostPort address = GatewayConfig.hostPort("endpointPicker.address", picker.address());
        // A fixed HTTP/2 flow-control window, as Envoy uses (grpc-java would otherwise re-size it from BDP pings
        // with SETTINGS changes in the middle of a busy connection, which Envoy never sends).
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address.host(), address.port())
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .flowControlWindow(FLOW_CONTROL_WINDOW);
        if (picker.tls()) {
            try {
                builder.sslContext(GrpcSslContexts.forClient()
                        .trustManager(InsecureTrustManagerFactory.INSTANCE).build());
            } catch (SSLException e) {
                throw new IllegalStateException("cannot set up TLS to the EPP: " + e.getMessage(), e);
            }
        } else {
            builder.usePlaintext();
        }
        this.channel = builder.build();
        this.stub = ExternalProcessorGrpc.newStub(channel);
    }

    ExtProcStream open() {
        return ExtProcStream.open(stub);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
