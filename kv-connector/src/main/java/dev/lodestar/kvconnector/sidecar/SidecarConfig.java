package dev.lodestar.kvconnector.sidecar;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The sidecar's settings, named and defaulted as llm-d's {@code pd-sidecar} flags.
 *
 * @param port                    where the sidecar listens ({@code --port}, 8000)
 * @param modelServerPort         the local decode model server's port on localhost ({@code --model-server-port}, 8200)
 * @param kvConnector             the P/D protocol ({@code --kv-connector}); only {@link KvConnector#NIXLV2}
 * @param inferencePool           the pool whose pods may be prefill targets, when SSRF protection is on
 * @param poolGroup               the InferencePool API group ({@code --pool-group})
 * @param enablePrefillerSampling pick a random prefill host of the header's list instead of the first
 * @param secureProxy             serve HTTPS ({@code --secure-proxy}, default true)
 * @param certPath                directory with {@code tls.crt}/{@code tls.key}; empty = a self-signed certificate
 * @param tls                     the legs sent over HTTPS ({@code --enable-tls})
 * @param insecureSkipVerify      the legs whose server certificate is not verified ({@code --tls-insecure-skip-verify})
 * @param prefillMaxRetries       extra prefill attempts on 502/503/504
 * @param prefillRetryBackoff     the pause between prefill attempts
 * @param maxIdleConnsPerHost     idle keep-alive connections kept for the legs
 */
public record SidecarConfig(int port, int modelServerPort, KvConnector kvConnector, Optional<PoolRef> inferencePool,
                            String poolGroup, boolean enablePrefillerSampling, boolean secureProxy,
                            Optional<Path> certPath, Set<Stage> tls, Set<Stage> insecureSkipVerify,
                            int prefillMaxRetries, Duration prefillRetryBackoff, int maxIdleConnsPerHost) {
    public static final int DEFAULT_PORT = 8000;
    public static final int DEFAULT_MODEL_SERVER_PORT = 8200;
    public static final String DEFAULT_POOL_GROUP = "inference.networking.k8s.io";
    public static final Duration DEFAULT_PREFILL_RETRY_BACKOFF = Duration.ofMillis(200);
    public static final int DEFAULT_MAX_IDLE_CONNS_PER_HOST = 1024;

    public SidecarConfig {
        Objects.requireNonNull(kvConnector, "kvConnector");
        Objects.requireNonNull(inferencePool, "inferencePool");
        Objects.requireNonNull(poolGroup, "poolGroup");
        Objects.requireNonNull(certPath, "certPath");
        Objects.requireNonNull(prefillRetryBackoff, "prefillRetryBackoff");
        tls = tls.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(tls));
        insecureSkipVerify = insecureSkipVerify.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(insecureSkipVerify));
        checkPort("--port", port);
        checkPort("--model-server-port", modelServerPort);
        if (prefillMaxRetries < 0) {
            throw new IllegalArgumentException("--prefill-max-retries must not be negative, got " + prefillMaxRetries);
        }
        if (prefillMaxRetries > 0 && (prefillRetryBackoff.isNegative() || prefillRetryBackoff.isZero())) {
            throw new IllegalArgumentException("--prefill-retry-backoff must be positive when --prefill-max-retries > 0, got "
                    + prefillRetryBackoff);
        }
        if (maxIdleConnsPerHost < 0) {
            throw new IllegalArgumentException("--max-idle-conns-per-host must not be negative, got " + maxIdleConnsPerHost);
        }
    }

    /** SSRF protection is on exactly when a pool is named ({@code --enable-ssrf-protection} requires one). */
    public boolean ssrfProtection() {
        return inferencePool.isPresent();
    }

    /** The defaults, plain HTTP on both sides: for tests and as a starting point. */
    public static SidecarConfig plain(int port, int modelServerPort) {
        return new SidecarConfig(port, modelServerPort, KvConnector.NIXLV2, Optional.empty(), DEFAULT_POOL_GROUP,
                false, false, Optional.empty(), Set.of(), Set.of(), 0, DEFAULT_PREFILL_RETRY_BACKOFF,
                DEFAULT_MAX_IDLE_CONNS_PER_HOST);
    }

    public SidecarConfig withPrefillRetries(int maxRetries, Duration backoff) {
        return new SidecarConfig(port, modelServerPort, kvConnector, inferencePool, poolGroup, enablePrefillerSampling,
                secureProxy, certPath, tls, insecureSkipVerify, maxRetries, backoff, maxIdleConnsPerHost);
    }

    public SidecarConfig withPrefillerSampling(boolean sampling) {
        return new SidecarConfig(port, modelServerPort, kvConnector, inferencePool, poolGroup, sampling,
                secureProxy, certPath, tls, insecureSkipVerify, prefillMaxRetries, prefillRetryBackoff,
                maxIdleConnsPerHost);
    }

    public SidecarConfig withTls(boolean secureProxy, Set<Stage> tls, Set<Stage> insecureSkipVerify) {
        return new SidecarConfig(port, modelServerPort, kvConnector, inferencePool, poolGroup, enablePrefillerSampling,
                secureProxy, certPath, tls, insecureSkipVerify, prefillMaxRetries, prefillRetryBackoff,
                maxIdleConnsPerHost);
    }

    public SidecarConfig withCertPath(Path directory) {
        return new SidecarConfig(port, modelServerPort, kvConnector, inferencePool, poolGroup, enablePrefillerSampling,
                secureProxy, Optional.of(directory), tls, insecureSkipVerify, prefillMaxRetries, prefillRetryBackoff,
                maxIdleConnsPerHost);
    }

    public SidecarConfig withInferencePool(PoolRef pool) {
        return new SidecarConfig(port, modelServerPort, kvConnector, Optional.of(pool), poolGroup,
                enablePrefillerSampling, secureProxy, certPath, tls, insecureSkipVerify, prefillMaxRetries,
                prefillRetryBackoff, maxIdleConnsPerHost);
    }

    private static void checkPort(String flag, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + " " + port + " is out of valid range [1, 65535]");
        }
    }

    /** The KV connectors upstream names; this sidecar implements NIXL v2 only. */
    public enum KvConnector {
        NIXLV2("nixlv2");

        private static final Set<String> UPSTREAM_ONLY = Set.of("shared-storage", "sglang", "mooncake", "offloading");
        private final String flagValue;

        KvConnector(String flagValue) {
            this.flagValue = flagValue;
        }

        public String flagValue() {
            return flagValue;
        }

        /** @throws IllegalArgumentException for anything but {@code nixlv2}, saying which values exist upstream */
        public static KvConnector parse(String value) {
            for (KvConnector connector : values()) {
                if (connector.flagValue.equals(value)) {
                    return connector;
                }
            }
            if (UPSTREAM_ONLY.contains(value)) {
                throw new IllegalArgumentException("--kv-connector " + value
                        + " is not supported by this sidecar (only nixlv2 is implemented)");
            }
            throw new IllegalArgumentException("--kv-connector must be one of: nixlv2 (got '" + value + "')");
        }
    }

    /** A leg of the P/D flow, as {@code --enable-tls} and {@code --tls-insecure-skip-verify} name it. */
    public enum Stage {
        PREFILLER, DECODER;

        public String flagValue() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** {@code prefiller,decoder} (also as repeated values); {@code encoder} has no leg here. */
        public static Set<Stage> parseList(String flag, Iterable<String> values) {
            Set<Stage> stages = EnumSet.noneOf(Stage.class);
            for (String value : values) {
                for (String part : value.split(",")) {
                    String name = part.strip();
                    if (name.isEmpty()) {
                        continue;
                    }
                    stages.add(Arrays.stream(values()).filter(stage -> stage.flagValue().equals(name)).findFirst()
                            .orElseThrow(() -> new IllegalArgumentException(flag + " stages must be one of: "
                                    + Arrays.stream(values()).map(Stage::flagValue).collect(Collectors.joining(", "))
                                    + " (got '" + name + "'" + (name.equals("encoder")
                                    ? "; the encoder stage is not supported by this sidecar" : "") + ")")));
                }
            }
            return stages;
        }
    }

    /** An InferencePool: {@code namespace/name}, or {@code name} in namespace {@code default}. */
    public record PoolRef(String namespace, String name) {
        public PoolRef {
            if (namespace.isEmpty() || name.isEmpty()) {
                throw new IllegalArgumentException("--inference-pool cannot have empty namespace or name");
            }
        }

        public static PoolRef parse(String value) {
            String[] parts = value.split("/", -1);
            if (parts.length > 2) {
                throw new IllegalArgumentException(
                        "--inference-pool must be in format 'namespace/name' or 'name', not multiple slashes");
            }
            return parts.length == 2 ? new PoolRef(parts[0], parts[1]) : new PoolRef("default", parts[0]);
        }

        @Override
        public String toString() {
            return namespace + "/" + name;
        }
    }
}
