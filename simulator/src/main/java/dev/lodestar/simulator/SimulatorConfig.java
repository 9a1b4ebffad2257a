package dev.lodestar.simulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Settings of one simulated server. Keys, meanings and defaults follow llm-d-inference-sim where it has
 * them ({@link ConfigKeys} lists every key with its documentation); {@code host}, {@code pod-name},
 * {@code namespace}, {@code lora-load-time} and {@code enable-prefix-caching} are Lodestar's.
 */
public final class SimulatorConfig {
    static final Set<Integer> BLOCK_SIZES = Set.of(8, 16, 32, 64, 128);
    static final String DEFAULT_MODEL = "meta-llama/Llama-3.1-8B-Instruct";

    private final String host;
    private final int port;
    private final String podName;
    private final Optional<String> namespace;
    private final String model;
    private final List<String> servedModelNames;
    private final int maxNumSeqs;
    private final int maxModelLen;
    private final int maxWaitingQueueLength;
    private final long seed;
    private final Mode mode;
    private final LatencyModel.LatencyCalculator latencyCalculator;
    private final Duration timeToFirstToken;
    private final Duration timeToFirstTokenStdDev;
    private final Duration interTokenLatency;
    private final Duration interTokenLatencyStdDev;
    private final Duration prefillOverhead;
    private final Duration prefillTimePerToken;
    private final Duration prefillTimeStdDev;
    private final double timeFactorUnderLoad;
    private final int kvCacheSize;
    private final int blockSize;
    private final boolean enablePrefixCaching;
    private final List<LoraModule> loraModules;
    private final int maxLoras;
    private final Duration loraLoadTime;
    private final int failureInjectionRate;
    private final List<FailureType> failureTypes;
    private final Optional<KvTransfer> kvTransfer;

    private SimulatorConfig(Builder builder) {
        this.host = builder.host;
        this.port = builder.port;
        this.podName = builder.podName;
        this.namespace = Optional.ofNullable(builder.namespace).filter(s -> !s.isBlank());
        this.model = builder.model;
        this.servedModelNames = builder.servedModelNames.isEmpty()
                ? List.of(builder.model)
                : List.copyOf(builder.servedModelNames);
        this.maxNumSeqs = builder.maxNumSeqs;
        this.maxModelLen = builder.maxModelLen;
        this.maxWaitingQueueLength = builder.maxWaitingQueueLength;
        this.seed = builder.seed;
        this.mode = builder.mode;
        this.latencyCalculator = builder.latencyCalculator;
        this.timeToFirstToken = builder.timeToFirstToken;
        this.timeToFirstTokenStdDev = builder.timeToFirstTokenStdDev;
        this.interTokenLatency = builder.interTokenLatency;
        this.interTokenLatencyStdDev = builder.interTokenLatencyStdDev;
        this.prefillOverhead = builder.prefillOverhead;
        this.prefillTimePerToken = builder.prefillTimePerToken;
        this.prefillTimeStdDev = builder.prefillTimeStdDev;
        this.timeFactorUnderLoad = builder.timeFactorUnderLoad;
        this.kvCacheSize = builder.kvCacheSize;
        this.blockSize = builder.blockSize;
        this.enablePrefixCaching = builder.enablePrefixCaching;
        this.loraModules = List.copyOf(builder.loraModules);
        this.maxLoras = builder.maxLoras;
        this.loraLoadTime = builder.loraLoadTime;
        this.failureInjectionRate = builder.failureInjectionRate;
        this.failureTypes = List.copyOf(builder.failureTypes);
        this.kvTransfer = builder.kvTransfer
                ? Optional.of(new KvTransfer(sideChannelHost(builder),
                        builder.kvTransferSideChannelPort, builder.kvTransferBlockBytes,
                        builder.kvTransferNumBlocks == 0 ? builder.kvCacheSize : builder.kvTransferNumBlocks,
                        builder.kvTransferEngineId.isBlank() ? UUID.randomUUID().toString() : builder.kvTransferEngineId,
                        builder.kvTransferPeerFailureDetection))
                : Optional.empty();
    }

    // The address decoders are told to connect to, so never the wildcard.
    private static String sideChannelHost(Builder builder) {
        String host = builder.kvTransferSideChannelHost.isBlank() ? builder.host : builder.kvTransferSideChannelHost;
        return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Name reported in {@code x-inference-pod}. */
    public String podName() {
        return podName;
    }

    /** Reported in {@code x-inference-namespace} when set. */
    public Optional<String> namespace() {
        return namespace;
    }

    public String model() {
        return model;
    }

    /** Names clients may use for the base model; the first is the one reported in metrics. */
    public List<String> servedModelNames() {
        return servedModelNames;
    }

    public int maxNumSeqs() {
        return maxNumSeqs;
    }

    public int maxModelLen() {
        return maxModelLen;
    }

    public int maxWaitingQueueLength() {
        return maxWaitingQueueLength;
    }

    public long seed() {
        return seed;
    }

    public Mode mode() {
        return mode;
    }

    LatencyModel.LatencyCalculator latencyCalculator() {
        return latencyCalculator;
    }

    public Duration timeToFirstToken() {
        return timeToFirstToken;
    }

    public Duration timeToFirstTokenStdDev() {
        return timeToFirstTokenStdDev;
    }

    public Duration interTokenLatency() {
        return interTokenLatency;
    }

    public Duration interTokenLatencyStdDev() {
        return interTokenLatencyStdDev;
    }

    public Duration prefillOverhead() {
        return prefillOverhead;
    }

    public Duration prefillTimePerToken() {
        return prefillTimePerToken;
    }

    public Duration prefillTimeStdDev() {
        return prefillTimeStdDev;
    }

    public double timeFactorUnderLoad() {
        return timeFactorUnderLoad;
    }

    /** KV cache size in blocks. */
    public int kvCacheSize() {
        return kvCacheSize;
    }

    /** Tokens per KV block. */
    public int blockSize() {
        return blockSize;
    }

    public boolean enablePrefixCaching() {
        return enablePrefixCaching;
    }

    public List<LoraModule> loraModules() {
        return loraModules;
    }

    public int maxLoras() {
        return maxLoras;
    }

    public Duration loraLoadTime() {
        return loraLoadTime;
    }

    /** Percentage (0-100) of requests answered with an injected error. */
    public int failureInjectionRate() {
        return failureInjectionRate;
    }

    /** Error kinds to inject; empty means all of them. */
    public List<FailureType> failureTypes() {
        return failureTypes;
    }

    /**
     * The KV transfer engine, when on ({@code kv-transfer}): the server then plays vLLM's NixlConnector
     * {@code kv_both} role, the request's {@code kv_transfer_params} choosing prefill or decode. Off, the
     * server ignores {@code kv_transfer_params}, as a vLLM without a KV connector does.
     */
    public Optional<KvTransfer> kvTransfer() {
        return kvTransfer;
    }

    /**
     * Settings of the KV transfer engine.
     *
     * @param sideChannelHost       where the handshake listens and what prefill answers carry as {@code remote_host}
     * @param sideChannelPort       handshake port, 0 for a free one ({@code remote_port})
     * @param blockBytes            bytes of one KV block (one block holds {@code block-size} tokens)
     * @param numBlocks             blocks of transfer memory
     * @param engineId              {@code remote_engine_id}
     * @param peerFailureDetection  UCX peer error handling (TCP even on one host) rather than shared memory
     */
    public record KvTransfer(String sideChannelHost, int sideChannelPort, int blockBytes, int numBlocks,
                             String engineId, boolean peerFailureDetection) {
    }

    /** How response text is produced. */
    public enum Mode {
        /** Repeat the prompt (completions) or the last message (chat). */
        ECHO,
        /** Sentences from a fixed corpus, drawn deterministically from the seed. */
        RANDOM;

        static Mode parse(String value) {
            return switch (value.trim()) {
                case "echo" -> ECHO;
                case "random" -> RANDOM;
                default -> throw new IllegalArgumentException(
                        "invalid mode '" + value + "', valid values are 'random' and 'echo'");
            };
        }
    }

    /** A LoRA adapter the server can load: {@code --lora-modules}. */
    public record LoraModule(String name, String path) {
        public LoraModule {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(path, "path");
            if (name.isBlank()) {
                throw new IllegalArgumentException("a LoRA module needs a name");
            }
        }
    }

    /** Fluent builder; {@link #build()} validates the whole configuration. */
    public static final class Builder {
        private String host = "0.0.0.0";
        private int port = 8000;
        private String podName = Optional.ofNullable(System.getenv("POD_NAME")).orElse("");
        private String namespace = System.getenv("POD_NAMESPACE");
        private String model = DEFAULT_MODEL;
        private List<String> servedModelNames = List.of();
        private int maxNumSeqs = 5;
        private int maxModelLen = 1024;
        private int maxWaitingQueueLength = 1000;
        private long seed = 0;
        private Mode mode = Mode.RANDOM;
        private LatencyModel.LatencyCalculator latencyCalculator = LatencyModel.LatencyCalculator.DEFAULT;
        private Duration timeToFirstToken = Duration.ZERO;
        private Duration timeToFirstTokenStdDev = Duration.ZERO;
        private Duration interTokenLatency = Duration.ZERO;
        private Duration interTokenLatencyStdDev = Duration.ZERO;
        private Duration prefillOverhead = Duration.ZERO;
        private Duration prefillTimePerToken = Duration.ZERO;
        private Duration prefillTimeStdDev = Duration.ZERO;
        private double timeFactorUnderLoad = 1.0;
        private int kvCacheSize = 1024;
        private int blockSize = 16;
        private boolean enablePrefixCaching = true;
        private List<LoraModule> loraModules = List.of();
        private int maxLoras = 1;
        private Duration loraLoadTime = Duration.ZERO;
        private int failureInjectionRate = 0;
        private List<FailureType> failureTypes = List.of();
        private boolean kvTransfer = false;
        private String kvTransferSideChannelHost = Optional.ofNullable(System.getenv("VLLM_NIXL_SIDE_CHANNEL_HOST"))
                .orElse("");
        private int kvTransferSideChannelPort = envPort("VLLM_NIXL_SIDE_CHANNEL_PORT");
        private int kvTransferBlockBytes = 64 * 1024;
        private int kvTransferNumBlocks = 0;
        private String kvTransferEngineId = "";
        private boolean kvTransferPeerFailureDetection = true;

        private Builder() {
        }

        private Builder(SimulatorConfig config) {
            host = config.host;
            port = config.port;
            podName = config.podName;
            namespace = config.namespace.orElse(null);
            model = config.model;
            servedModelNames = config.servedModelNames.equals(List.of(config.model)) ? List.of() : config.servedModelNames;
            maxNumSeqs = config.maxNumSeqs;
            maxModelLen = config.maxModelLen;
            maxWaitingQueueLength = config.maxWaitingQueueLength;
            seed = config.seed;
            mode = config.mode;
            latencyCalculator = config.latencyCalculator;
            timeToFirstToken = config.timeToFirstToken;
            timeToFirstTokenStdDev = config.timeToFirstTokenStdDev;
            interTokenLatency = config.interTokenLatency;
            interTokenLatencyStdDev = config.interTokenLatencyStdDev;
            prefillOverhead = config.prefillOverhead;
            prefillTimePerToken = config.prefillTimePerToken;
            prefillTimeStdDev = config.prefillTimeStdDev;
            timeFactorUnderLoad = config.timeFactorUnderLoad;
            kvCacheSize = config.kvCacheSize;
            blockSize = config.blockSize;
            enablePrefixCaching = config.enablePrefixCaching;
            loraModules = config.loraModules;
            maxLoras = config.maxLoras;
            loraLoadTime = config.loraLoadTime;
            failureInjectionRate = config.failureInjectionRate;
            failureTypes = config.failureTypes;
            config.kvTransfer.ifPresent(kv -> {
                kvTransfer = true;
                kvTransferSideChannelHost = kv.sideChannelHost();
                kvTransferSideChannelPort = kv.sideChannelPort();
                kvTransferBlockBytes = kv.blockBytes();
                kvTransferNumBlocks = kv.numBlocks();
                kvTransferEngineId = kv.engineId();
                kvTransferPeerFailureDetection = kv.peerFailureDetection();
            });
        }

        private static int envPort(String name) {
            String value = System.getenv(name);
            if (value == null || value.isBlank()) {
                return 0;
            }
            try {
                return Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " is not a port number: '" + value + "'");
            }
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder podName(String podName) {
            this.podName = Objects.requireNonNull(podName, "podName");
            return this;
        }

        public Builder namespace(String namespace) {
            this.namespace = Objects.requireNonNull(namespace, "namespace");
            return this;
        }

        public Builder model(String model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        public Builder servedModelNames(List<String> servedModelNames) {
            this.servedModelNames = List.copyOf(servedModelNames);
            return this;
        }

        public Builder maxNumSeqs(int maxNumSeqs) {
            this.maxNumSeqs = maxNumSeqs;
            return this;
        }

        public Builder maxModelLen(int maxModelLen) {
            this.maxModelLen = maxModelLen;
            return this;
        }

        public Builder maxWaitingQueueLength(int maxWaitingQueueLength) {
            this.maxWaitingQueueLength = maxWaitingQueueLength;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        Builder latencyCalculator(LatencyModel.LatencyCalculator latencyCalculator) {
            this.latencyCalculator = Objects.requireNonNull(latencyCalculator, "latencyCalculator");
            return this;
        }

        public Builder timeToFirstToken(Duration value) {
            this.timeToFirstToken = Objects.requireNonNull(value);
            return this;
        }

        public Builder timeToFirstTokenStdDev(Duration value) {
            this.timeToFirstTokenStdDev = Objects.requireNonNull(value);
            return this;
        }

        public Builder interTokenLatency(Duration value) {
            this.interTokenLatency = Objects.requireNonNull(value);
            return this;
        }

        public Builder interTokenLatencyStdDev(Duration value) {
            this.interTokenLatencyStdDev = Objects.requireNonNull(value);
            return this;
        }

        public Builder prefillOverhead(Duration value) {
            this.prefillOverhead = Objects.requireNonNull(value);
            return this;
        }

        public Builder prefillTimePerToken(Duration value) {
            this.prefillTimePerToken = Objects.requireNonNull(value);
            return this;
        }

        public Builder prefillTimeStdDev(Duration value) {
            this.prefillTimeStdDev = Objects.requireNonNull(value);
            return this;
        }

        public Builder timeFactorUnderLoad(double timeFactorUnderLoad) {
            this.timeFactorUnderLoad = timeFactorUnderLoad;
            return this;
        }

        public Builder kvCacheSize(int kvCacheSize) {
            this.kvCacheSize = kvCacheSize;
            return this;
        }

        public Builder blockSize(int blockSize) {
            this.blockSize = blockSize;
            return this;
        }

        public Builder enablePrefixCaching(boolean enablePrefixCaching) {
            this.enablePrefixCaching = enablePrefixCaching;
            return this;
        }

        public Builder loraModules(List<LoraModule> loraModules) {
            this.loraModules = List.copyOf(loraModules);
            return this;
        }

        public Builder maxLoras(int maxLoras) {
            this.maxLoras = maxLoras;
            return this;
        }

        public Builder loraLoadTime(Duration loraLoadTime) {
            this.loraLoadTime = Objects.requireNonNull(loraLoadTime);
            return this;
        }

        public Builder failureInjectionRate(int failureInjectionRate) {
            this.failureInjectionRate = failureInjectionRate;
            return this;
        }

        public Builder failureTypes(List<FailureType> failureTypes) {
            this.failureTypes = List.copyOf(failureTypes);
            return this;
        }

        /** Turns the KV transfer engine (P/D roles) on or off; off by default. */
        public Builder kvTransfer(boolean on) {
            this.kvTransfer = on;
            return this;
        }

        /** Side-channel host; blank for the server's own host ({@code VLLM_NIXL_SIDE_CHANNEL_HOST}). */
        public Builder kvTransferSideChannelHost(String host) {
            this.kvTransferSideChannelHost = Objects.requireNonNull(host);
            return this;
        }

        /** Side-channel port; 0 for a free one ({@code VLLM_NIXL_SIDE_CHANNEL_PORT}). */
        public Builder kvTransferSideChannelPort(int port) {
            this.kvTransferSideChannelPort = port;
            return this;
        }

        public Builder kvTransferBlockBytes(int blockBytes) {
            this.kvTransferBlockBytes = blockBytes;
            return this;
        }

        /** Blocks of transfer memory; 0 for kv-cache-size. */
        public Builder kvTransferNumBlocks(int numBlocks) {
            this.kvTransferNumBlocks = numBlocks;
            return this;
        }

        /** Engine id; blank for a random UUID. */
        public Builder kvTransferEngineId(String engineId) {
            this.kvTransferEngineId = Objects.requireNonNull(engineId);
            return this;
        }

        public Builder kvTransferPeerFailureDetection(boolean on) {
            this.kvTransferPeerFailureDetection = on;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the first invalid key
         */
        public SimulatorConfig build() {
            List<String> errors = new ArrayList<>();
            check(errors, port >= 0 && port < 65536, "port must be between 0 (any free port) and 65535, got " + port);
            check(errors, !model.isBlank(), "model parameter is empty");
            check(errors, servedModelNames.stream().noneMatch(String::isBlank), "served-model-name must not be empty");
            check(errors, maxNumSeqs >= 1, "max-num-seqs must be at least 1, got " + maxNumSeqs);
            check(errors, maxModelLen >= 1, "max-model-len must be at least 1, got " + maxModelLen);
            check(errors, maxWaitingQueueLength >= 1,
                    "max-waiting-queue-length must be at least 1, got " + maxWaitingQueueLength);
            check(errors, timeFactorUnderLoad >= 1.0,
                    "time-factor-under-load must be >= 1.0, got " + timeFactorUnderLoad);
            checkDuration(errors, "time-to-first-token", timeToFirstToken);
            checkDuration(errors, "inter-token-latency", interTokenLatency);
            checkDuration(errors, "prefill-overhead", prefillOverhead);
            checkDuration(errors, "prefill-time-per-token", prefillTimePerToken);
            checkDuration(errors, "prefill-time-std-dev", prefillTimeStdDev);
            checkDuration(errors, "lora-load-time", loraLoadTime);
            checkStdDev(errors, "time-to-first-token", timeToFirstToken, timeToFirstTokenStdDev);
            checkStdDev(errors, "inter-token-latency", interTokenLatency, interTokenLatencyStdDev);
            check(errors, BLOCK_SIZES.contains(blockSize),
                    "block-size must be one of 8, 16, 32, 64, 128, got " + blockSize);
            check(errors, kvCacheSize >= 1, "kv-cache-size must be at least 1, got " + kvCacheSize);
            check(errors, (long) kvCacheSize * blockSize >= maxModelLen,
                    "kv-cache-size x block-size (" + (long) kvCacheSize * blockSize
                            + " tokens) must hold at least one request of max-model-len (" + maxModelLen + ")");
            check(errors, maxLoras >= 1, "max-loras must be at least 1, got " + maxLoras);
            check(errors, failureInjectionRate >= 0 && failureInjectionRate <= 100,
                    "failure-injection-rate must be between 0 and 100, got " + failureInjectionRate);
            check(errors, loraModules.stream().map(LoraModule::name).distinct().count() == loraModules.size(),
                    "lora-modules has duplicate names");
            for (LoraModule module : loraModules) {
                check(errors, !servedModelNames.contains(module.name()) && !module.name().equals(model),
                        "LoRA module '" + module.name() + "' has the name of the base model");
            }
            check(errors, kvTransferSideChannelPort >= 0 && kvTransferSideChannelPort < 65536,
                    "kv-transfer-side-channel-port must be between 0 (any free port) and 65535, got "
                            + kvTransferSideChannelPort);
            check(errors, kvTransferBlockBytes > 0 && kvTransferBlockBytes % 8 == 0,
                    "kv-transfer-block-bytes must be a positive multiple of 8, got " + kvTransferBlockBytes);
            check(errors, kvTransferNumBlocks >= 0,
                    "kv-transfer-num-blocks must be at least 1 (or 0 for kv-cache-size), got " + kvTransferNumBlocks);
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", errors));
            }
            return new SimulatorConfig(this);
        }

        private static void check(List<String> errors, boolean ok, String message) {
            if (!ok) {
                errors.add(message);
            }
        }

        private static void checkDuration(List<String> errors, String key, Duration value) {
            check(errors, !value.isNegative(), key + " must not be negative, got " + value);
        }

        private static void checkStdDev(List<String> errors, String key, Duration mean, Duration stdDev) {
            check(errors, !stdDev.isNegative() && stdDev.toNanos() <= mean.toNanos() * 0.3 + 0.5,
                    key + "-std-dev must be between 0 and 30% of " + key + ", got " + stdDev);
        }
    }
}
