package dev.lodestar.kvconnector.sidecar;

import dev.lodestar.epp.framework.plugin.GoDuration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.helidon.logging.common.LogConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The P/D routing sidecar's command line, with llm-d {@code pd-sidecar}'s flag names and defaults (those this
 * sidecar implements).
 */
@Command(name = "lodestar-sidecar", mixinStandardHelpOptions = true, sortOptions = false,
        description = "P/D routing sidecar in front of the decode model server (llm-d pd-sidecar compatible, NIXL v2).")
public final class SidecarMain implements Callable<Integer> {
    /** How long start-up waits for the InferencePool's pods to be listed. */
    private static final Duration POOL_SYNC_TIMEOUT = Duration.ofSeconds(60);

    @Option(names = "--port", defaultValue = "8000", description = "the port the sidecar is listening on")
    int port;

    @Option(names = "--model-server-port", description = "the port the model server is listening on (default 8200)")
    Integer modelServerPort;

    /** Upstream's deprecated name of {@code --model-server-port}, which wins when both are given. */
    @Option(names = "--vllm-port", hidden = true)
    Integer vllmPort;

    @Option(names = "--kv-connector", defaultValue = "nixlv2",
            description = "the KV protocol between prefiller and decoder. Supported: nixlv2")
    String kvConnector;

    @Option(names = "--enable-ssrf-protection", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "enable SSRF protection using InferencePool allowlisting")
    boolean enableSsrfProtection;

    @Option(names = "--inference-pool", defaultValue = "${env:INFERENCE_POOL}",
            description = "InferencePool as namespace/name or name (namespace default); env INFERENCE_POOL")
    String inferencePool;

    @Option(names = "--pool-group", defaultValue = SidecarConfig.DEFAULT_POOL_GROUP,
            description = "API group of the InferencePool")
    String poolGroup;

    @Option(names = "--enable-prefiller-sampling", arity = "0..1", fallbackValue = "true",
            defaultValue = "${env:ENABLE_PREFILLER_SAMPLING:-false}",
            description = "pick the prefill host at random among the header's values instead of the first")
    boolean enablePrefillerSampling;

    @Option(names = "--secure-proxy", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            description = "serve HTTPS (default true)")
    boolean secureProxy;

    @Option(names = "--cert-path", description = "directory with tls.crt and tls.key; a self-signed certificate if unset")
    Path certPath;

    @Option(names = "--enable-tls", split = ",", description = "stages reached over HTTPS: prefiller, decoder")
    List<String> enableTls = new ArrayList<>();

    @Option(names = "--tls-insecure-skip-verify", split = ",",
            description = "stages whose certificate is not verified: prefiller, decoder")
    List<String> tlsInsecureSkipVerify = new ArrayList<>();

    @Option(names = "--prefill-max-retries", defaultValue = "0",
            description = "extra prefill attempts on 502/503/504; 0 means no retries")
    int prefillMaxRetries;

    @Option(names = "--prefill-retry-backoff", defaultValue = "200ms", description = "delay between prefill attempts")
    String prefillRetryBackoff;

    @Option(names = "--max-idle-conns-per-host", defaultValue = "1024",
            description = "idle keep-alive connections kept for the legs")
    int maxIdleConnsPerHost;

    /** The validated configuration of these flags. */
    SidecarConfig config() {
        SidecarConfig.KvConnector connector = SidecarConfig.KvConnector.parse(kvConnector);
        Optional<SidecarConfig.PoolRef> pool = Optional.empty();
        if (enableSsrfProtection) {
            if (inferencePool == null || inferencePool.isBlank()) {
                throw new IllegalArgumentException("--inference-pool flag or INFERENCE_POOL environment variable is"
                        + " required when --enable-ssrf-protection is true");
            }
            pool = Optional.of(SidecarConfig.PoolRef.parse(inferencePool.strip()));
        } else if (inferencePool != null && !inferencePool.isBlank()) {
            SidecarConfig.PoolRef.parse(inferencePool.strip()); // validated as upstream does, unused
        }
        Duration backoff;
        try {
            backoff = GoDuration.parse(prefillRetryBackoff);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--prefill-retry-backoff: " + e.getMessage());
        }
        int effectiveModelServerPort = modelServerPort != null ? modelServerPort
                : vllmPort != null ? vllmPort : SidecarConfig.DEFAULT_MODEL_SERVER_PORT;
        return new SidecarConfig(port, effectiveModelServerPort, connector, pool, poolGroup, enablePrefillerSampling,
                secureProxy, Optional.ofNullable(certPath), SidecarConfig.Stage.parseList("--enable-tls", enableTls),
                SidecarConfig.Stage.parseList("--tls-insecure-skip-verify", tlsInsecureSkipVerify),
                prefillMaxRetries, backoff, maxIdleConnsPerHost);
    }

    @Override
    public Integer call() throws Exception {
        SidecarConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            System.err.println("sidecar: " + e.getMessage());
            return 2;
        }
        // The JDK client's pool is one per client, not per host; the legs' hosts are few, so it is the same bound.
        if (System.getProperty("jdk.httpclient.connectionPoolSize") == null) {
            System.setProperty("jdk.httpclient.connectionPoolSize", Integer.toString(config.maxIdleConnsPerHost()));
        }
        LogConfig.configureRuntime();
        PrefillAllowlist allowlist = PrefillAllowlist.allowAll();
        PoolAllowlist poolAllowlist = null;
        if (config.inferencePool().isPresent()) {
            KubernetesClient client = new KubernetesClientBuilder().build();
            poolAllowlist = PoolAllowlist.watch(client, config.inferencePool().get(), config.poolGroup());
            if (!poolAllowlist.awaitSynced(POOL_SYNC_TIMEOUT)) {
                System.err.println("sidecar: the InferencePool " + config.inferencePool().get() + " ("
                        + config.poolGroup() + ") was not listed within " + POOL_SYNC_TIMEOUT.toSeconds() + " s (check"
                        + " RBAC for inferencepools and pods, and that the pool exists)");
                poolAllowlist.close();
                return 1;
            }
            allowlist = poolAllowlist;
        }
        Sidecar sidecar = Sidecar.start(config, allowlist);
        System.out.printf("sidecar listening on %s://0.0.0.0:%d, decoder localhost:%d, kv-connector %s%s%n",
                sidecar.scheme(), sidecar.port(), config.modelServerPort(), config.kvConnector().flagValue(),
                config.inferencePool().map(pool -> ", SSRF protection from InferencePool " + pool).orElse(""));
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        PoolAllowlist watched = poolAllowlist;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sidecar.close();
            if (watched != null) {
                watched.close();
            }
            stopped.countDown();
        }, "sidecar-shutdown"));
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        int exit = new CommandLine(new SidecarMain()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
