package dev.lodestar.kvconnector.transfer;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * How to start a {@link KvTransferEngine}. Keys as in a config file, defaults in brackets:
 * <ul>
 *   <li>{@code engine-id} [a random UUID]: vLLM's {@code kv_transfer_config.engine_id};</li>
 *   <li>{@code block-bytes}, {@code num-blocks}, {@code block-tokens} [16]: the {@link KvBlockLayout};</li>
 *   <li>{@code side-channel-host} [127.0.0.1], {@code side-channel-port} [0, an ephemeral port; vLLM uses
 *       5600]: where the ZeroMQ handshake server binds ({@code VLLM_NIXL_SIDE_CHANNEL_HOST/PORT});</li>
 *   <li>{@code pin-timeout} [480 s]: when pinned blocks are freed without a notification
 *       ({@code VLLM_NIXL_ABORT_REQUEST_TIMEOUT});</li>
 *   <li>{@code pull-timeout} [30 s]: default deadline of a whole pull;</li>
 *   <li>{@code handshake-timeout} [5 s]: the side-channel round trip (vLLM's is 5 s);</li>
 *   <li>{@code transports} [unset: UCX's own choice, which honours {@code UCX_TLS}]: a {@code UCX_TLS} value
 *       for this engine's UCX context only (e.g. {@code tcp}, {@code sm});</li>
 *   <li>{@code peer-failure-detection} [true]: endpoints in UCX's peer error-handling mode, so a peer that
 *       dies fails the pull with {@link KvTransferException.PeerFailed} instead of an error with no owner.
 *       UCX 1.13's shared-memory transports (sysv, posix) cannot detect peer failure, so with this on UCX
 *       uses TCP even between processes of one host; turn it off to get shared memory.</li>
 * </ul>
 */
public record KvTransferConfig(String engineId, KvBlockLayout layout, String sideChannelHost, int sideChannelPort,
                               Duration pinTimeout, Duration pullTimeout, Duration handshakeTimeout,
                               Optional<String> transports, boolean peerFailureDetection) {

    public KvTransferConfig {
        if (engineId.isBlank()) {
            throw new IllegalArgumentException("engine-id is blank");
        }
        if (sideChannelPort < 0 || sideChannelPort > 65535) {
            throw new IllegalArgumentException("side-channel-port out of range: " + sideChannelPort);
        }
        for (Duration d : new Duration[] {pinTimeout, pullTimeout, handshakeTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive, got " + d);
            }
        }
        transports.ifPresent(t -> {
            if (t.isBlank()) {
                throw new IllegalArgumentException("transports is blank (leave it unset for UCX's choice)");
            }
        });
    }

    public static Builder builder(KvBlockLayout layout) {
        return new Builder(layout);
    }

    public static final class Builder {
        private final KvBlockLayout layout;
        private String engineId = UUID.randomUUID().toString();
        private String sideChannelHost = "127.0.0.1";
        private int sideChannelPort;
        private Duration pinTimeout = Duration.ofSeconds(480);
        private Duration pullTimeout = Duration.ofSeconds(30);
        private Duration handshakeTimeout = Duration.ofSeconds(5);
        private String transports;
        private boolean peerFailureDetection = true;

        private Builder(KvBlockLayout layout) {
            this.layout = layout;
        }

        public Builder engineId(String engineId) {
            this.engineId = engineId;
            return this;
        }

        public Builder sideChannel(String host, int port) {
            this.sideChannelHost = host;
            this.sideChannelPort = port;
            return this;
        }

        public Builder pinTimeout(Duration pinTimeout) {
            this.pinTimeout = pinTimeout;
            return this;
        }

        public Builder pullTimeout(Duration pullTimeout) {
            this.pullTimeout = pullTimeout;
            return this;
        }

        public Builder handshakeTimeout(Duration handshakeTimeout) {
            this.handshakeTimeout = handshakeTimeout;
            return this;
        }

        public Builder transports(String ucxTls) {
            this.transports = ucxTls;
            return this;
        }

        public Builder peerFailureDetection(boolean on) {
            this.peerFailureDetection = on;
            return this;
        }

        public KvTransferConfig build() {
            return new KvTransferConfig(engineId, layout, sideChannelHost, sideChannelPort, pinTimeout, pullTimeout,
                    handshakeTimeout, Optional.ofNullable(transports), peerFailureDetection);
        }
    }
}
