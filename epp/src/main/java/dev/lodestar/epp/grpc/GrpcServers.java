package dev.lodestar.epp.grpc;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.helidon.common.tls.Tls;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.grpc.GrpcRouting;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds the Helidon WebServers that serve the EPP's gRPC services (ext_proc, health) with the settings
 * Helidon's defaults get wrong for them:
 * <ul>
 *   <li>{@code tcpNoDelay}: off by default, which costs ~40 ms (Nagle plus delayed ACK) per ext_proc
 *       message exchange;</li>
 *   <li>the largest gRPC message: Helidon reads at most 2 MiB by default and, above that, leaves the
 *       client waiting with no status at all; raised to {@value #DEFAULT_MAX_MESSAGE_BYTES} bytes;</li>
 *   <li>the idle-connection timeout: Helidon closes an HTTP/2 connection when no <em>new</em> stream
 *       started on it for 5 minutes, open streams or not, which would cut a long LLM request's ext_proc
 *       stream; raised to {@link #DEFAULT_IDLE_CONNECTION_TIMEOUT}.</li>
 *   <li>messages above 4 MiB: Helidon's request stream misreports its end, so protobuf rejects them;
 *       every service's request marshaller is wrapped to fix that ({@link EndOfStreamMarshaller}).</li>
 * </ul>
 */
public final class GrpcServers {
    /** 32 MiB: above any single ext_proc message Envoy sends (bodies arrive in chunks). */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 32 << 20;
    /** Longer than any request: upstream's grpc-go server never closes idle connections. */
    public static final Duration DEFAULT_IDLE_CONNECTION_TIMEOUT = Duration.ofHours(24);

    private GrpcServers() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects the listener's address, TLS and services; {@link #build()} returns an unstarted server. */
    public static final class Builder {
        private final GrpcRouting.Builder routing = GrpcRouting.builder();
        private String host = "0.0.0.0";
        private int port;
        private Optional<Tls> tls = Optional.empty();
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private Duration idleConnectionTimeout = DEFAULT_IDLE_CONNECTION_TIMEOUT;
        private Duration idleConnectionPeriod = Duration.ofMinutes(2);
        private boolean hasService;

        private Builder() {
        }

        /** The address to bind (default {@code 0.0.0.0}, as upstream's {@code :port}). */
        public Builder host(String value) {
            host = Objects.requireNonNull(value, "host");
            return this;
        }

        /** The port to bind; 0 picks a free one (read it back with {@link WebServer#port()}). */
        public Builder port(int value) {
            if (value < 0 || value > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + value);
            }
            port = value;
            return this;
        }

        /** Serves TLS with {@code value}; without it the listener is plaintext (h2c). */
        public Builder tls(Tls value) {
            tls = Optional.of(Objects.requireNonNull(value, "tls"));
            return this;
        }

        public Builder tls(Optional<Tls> value) {
            tls = Objects.requireNonNull(value, "tls");
            return this;
        }

        public Builder addService(BindableService service) {
            return addService(Objects.requireNonNull(service, "service").bindService());
        }

        public Builder addService(ServerServiceDefinition service) {
            routing.service(EndOfStreamMarshaller.wrap(Objects.requireNonNull(service, "service")));
            hasService = true;
            return this;
        }

        /** The largest gRPC message the server reads, in bytes (default 32 MiB). */
        public Builder maxMessageBytes(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("max message bytes must be positive, got " + value);
            }
            maxMessageBytes = value;
            return this;
        }

        /**
         * How long a connection may go without a new stream before the server closes it, and how often
         * that is checked. Helidon closes it even with streams open, so keep it above the longest request.
         */
        public Builder idleConnectionTimeout(Duration timeout, Duration checkPeriod) {
            if (timeout.isNegative() || timeout.isZero() || checkPeriod.isNegative() || checkPeriod.isZero()) {
                throw new IllegalArgumentException("idle connection timeout and period must be positive, got "
                        + timeout + " and " + checkPeriod);
            }
            idleConnectionTimeout = timeout;
            idleConnectionPeriod = checkPeriod;
            return this;
        }

        public WebServer build() {
            if (!hasService) {
                throw new IllegalStateException("a gRPC server needs at least one service");
            }
            WebServerConfig.Builder server = WebServer.builder()
                    .host(host)
                    .port(port)
                    .connectionOptions(options -> options.tcpNoDelay(true))
                    .idleConnectionTimeout(idleConnectionTimeout)
                    .idleConnectionPeriod(idleConnectionPeriod)
                    // Helidon's default gzips every response message for any client that merely advertises
                    // grpc-accept-encoding (grpc-java does), which cost ~10% of the EPP's CPU per request; grpc-go
                    // servers (the upstream EPP) answer uncompressed, and Envoy never compresses ext_proc messages.
                    .addProtocol(GrpcConfig.builder().maxReadBufferSize(maxMessageBytes).enableCompression(false).build())
                    .addRouting(routing);
            tls.ifPresent(server::tls);
            return server.build();
        }
    }
}
