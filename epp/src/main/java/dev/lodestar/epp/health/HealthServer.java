package dev.lodestar.epp.health;

import dev.lodestar.epp.grpc.GrpcServers;
import io.helidon.webserver.WebServer;

/**
 * The health server on {@code --grpc-health-port} (9003): plaintext, as upstream's, serving only
 * {@code grpc.health.v1.Health}.
 */
public final class HealthServer {
    /** Upstream's {@code --grpc-health-port} default. */
    public static final int DEFAULT_PORT = 9003;

    private HealthServer() {
    }

    /** Starts the health server on {@code host:port} (port 0 picks a free one). */
    public static WebServer start(String host, int port, EppHealth health) {
        return GrpcServers.builder().host(host).port(port).addService(new HealthGrpcService(health)).build().start();
    }
}
