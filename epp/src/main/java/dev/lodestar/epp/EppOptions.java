package dev.lodestar.epp;

import dev.lodestar.epp.framework.plugin.GoDuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The EPP's command-line flags, named and defaulted as GIE v1.5.0's ({@code pkg/epp/server/options.go}),
 * plus Lodestar's {@code --static-endpoints} and {@code --inference-objects-file} for running without
 * Kubernetes. Durations take Go syntax ({@code 50ms}, {@code 2s}).
 */
@Command(name = "epp", mixinStandardHelpOptions = true, sortOptions = true, usageHelpWidth = 110,
        description = "Lodestar Endpoint Picker: serves Envoy's ext_proc API and picks a model server per request.")
public final class EppOptions {
    @Option(names = "--grpc-port", defaultValue = "9002", description = "ext_proc gRPC port (default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--grpc-health-port", defaultValue = "9003",
            description = "gRPC health port for liveness/readiness (default: ${DEFAULT-VALUE}).")
    int grpcHealthPort;

    @Option(names = "--metrics-port", defaultValue = "9090",
            description = "Prometheus /metrics port (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--metrics-endpoint-auth", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Require a bearer token listed in --metrics-token-file on /metrics (default: ${DEFAULT-VALUE}).")
    boolean metricsEndpointAuth;

    @Option(names = "--metrics-token-file", defaultValue = "",
            description = "Bearer tokens /metrics accepts, one per line (re-read when it changes).")
    String metricsTokenFile;

    @Option(names = "--pool-name", defaultValue = "", description = "InferencePool this EPP serves (Kubernetes mode).")
    String poolName;

    @Option(names = "--pool-namespace", defaultValue = "",
            description = "Namespace of the pool (default: $NAMESPACE, else default).")
    String poolNamespace;

    @Option(names = "--pool-group", defaultValue = "inference.networking.k8s.io",
            description = "API group of the InferencePool (default: ${DEFAULT-VALUE}).")
    String poolGroup;

    @Option(names = "--endpoint-selector", defaultValue = "",
            description = "Standalone Kubernetes mode: pods by label, e.g. app=vllm,env=prod (no InferencePool).")
    String endpointSelector;

    @Option(names = "--endpoint-target-ports", split = ",",
            description = "Target ports of the pods in --endpoint-selector mode (1-8).")
    List<Integer> endpointTargetPorts = List.of();

    @Option(names = "--static-endpoints", defaultValue = "",
            description = "Run without Kubernetes on a fixed pool: ip:port[,ip:port...] or name=ip:port entries.")
    String staticEndpoints;

    @Option(names = "--inference-objects-file", defaultValue = "",
            description = "Without Kubernetes: YAML file of InferenceObjective and InferenceModelRewrite objects, "
                    + "followed for changes.")
    String inferenceObjectsFile;

    @Option(names = "--disable-endpoint-subset-filter", defaultValue = "false", arity = "0..1", fallbackValue = "true",
            description = "Ignore the proxy's x-gateway-destination-endpoint-subset hint.")
    boolean disableEndpointSubsetFilter;

    @Option(names = "--refresh-metrics-interval", defaultValue = "50ms",
            description = "Interval of model-server metrics scrapes (default: ${DEFAULT-VALUE}).")
    String refreshMetricsInterval;

    @Option(names = "--refresh-prometheus-metrics-interval", defaultValue = "5s",
            description = "Interval of pool-level metric aggregation (default: ${DEFAULT-VALUE}).")
    String refreshPrometheusMetricsInterval;

    @Option(names = "--metrics-staleness-threshold", defaultValue = "2s",
            description = "Age after which model-server metrics count as stale (default: ${DEFAULT-VALUE}).")
    String metricsStalenessThreshold;

    @Option(names = "--config-file", defaultValue = "", description = "EndpointPickerConfig YAML file.")
    String configFile;

    @Option(names = "--config-text", defaultValue = "", description = "EndpointPickerConfig YAML text.")
    String configText;

    @Option(names = "--secure-serving", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Serve ext_proc over TLS (default: ${DEFAULT-VALUE}).")
    boolean secureServing;

    @Option(names = "--cert-path", defaultValue = "",
            description = "Directory with tls.crt and tls.key; a self-signed certificate is generated when empty.")
    String certPath;

    @Option(names = "--enable-cert-reload", defaultValue = "false", arity = "0..1", fallbackValue = "true",
            description = "Reload the certificate in --cert-path when it changes.")
    boolean enableCertReload;

    @Option(names = "--health-checking", defaultValue = "false", arity = "0..1", fallbackValue = "true",
            description = "Also serve gRPC health on the ext_proc port.")
    boolean healthChecking;

    @Option(names = "--ha-enable-leader-election", defaultValue = "false", arity = "0..1", fallbackValue = "true",
            description = "Active-passive HA: only the leader reports ready (needs the controllers module).")
    boolean haEnableLeaderElection;

    @Option(names = "--tracing", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Accepted for compatibility (default: ${DEFAULT-VALUE}); Lodestar does not export traces"
                    + " yet.")
    boolean tracing;

    @Option(names = "--enable-pprof", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Accepted for compatibility (Go profiling, default: ${DEFAULT-VALUE}); use JFR with the JVM"
                    + " instead.")
    boolean enablePprof;

    @Option(names = {"-v", "--v"}, defaultValue = "2",
            description = "Log verbosity: 2 default, 3 verbose, 4 debug, 5 trace.")
    int verbosity;

    // controller-runtime's zap flags: the upstream Helm chart passes --zap-encoder json.
    @Option(names = "--zap-devel", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Accepted for compatibility (zap development mode); Lodestar logs with java.util.logging.")
    boolean zapDevel;

    @Option(names = "--zap-encoder", defaultValue = "",
            description = "Accepted for compatibility: json or console.")
    String zapEncoder;

    @Option(names = "--zap-log-level", defaultValue = "",
            description = "Accepted for compatibility: debug, info, error, panic or an integer > 0; use --v.")
    String zapLogLevel;

    @Option(names = "--zap-stacktrace-level", defaultValue = "",
            description = "Accepted for compatibility: info, error or panic.")
    String zapStacktraceLevel;

    @Option(names = "--zap-time-encoding", defaultValue = "",
            description = "Accepted for compatibility: epoch, millis, nano, iso8601, rfc3339 or rfc3339nano.")
    String zapTimeEncoding;

    @Option(names = "--model-server-metrics-scheme", defaultValue = "http",
            description = "Deprecated: scheme of metrics scrapes (use metrics-data-source parameters).")
    String modelServerMetricsScheme;

    @Option(names = "--model-server-metrics-path", defaultValue = "/metrics",
            description = "Deprecated: path of metrics scrapes (use metrics-data-source parameters).")
    String modelServerMetricsPath;

    @Option(names = "--model-server-metrics-port", defaultValue = "0",
            description = "Deprecated: scrape this port instead of the target port (single-port pools only).")
    int modelServerMetricsPort;

    @Option(names = "--model-server-metrics-https-insecure-skip-verify", defaultValue = "true", arity = "0..1",
            fallbackValue = "true", description = "Deprecated: skip TLS verification of https scrapes.")
    boolean modelServerMetricsHttpsInsecureSkipVerify;

    @Option(names = {"--total-queued-requests-metric", "--total-running-requests-metric",
            "--kv-cache-usage-percentage-metric", "--lora-info-metric", "--cache-info-metric"},
            hidden = true, description = "Removed upstream: use engineConfigs of core-metrics-extractor.")
    List<String> removedMetricFlags = List.of();

    private Map<String, String> given = Map.of();
    private boolean helpRequested;

    /**
     * Parses the command line.
     *
     * @throws IllegalArgumentException with a message for the user when a flag or combination is invalid
     */
    public static EppOptions parse(String... args) {
        EppOptions options = new EppOptions();
        // Go's pflag lets a later occurrence of a flag win (Helm charts append user flags after their own).
        CommandLine commandLine = new CommandLine(options).setOverwrittenOptionsAllowed(true);
        CommandLine.ParseResult result;
        try {
            result = commandLine.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage() + " (see --help)", e);
        }
        Map<String, String> flags = new LinkedHashMap<>();
        for (CommandLine.Model.OptionSpec option : commandLine.getCommandSpec().options()) {
            Object value = option.getValue();
            flags.put(option.longestName().replaceFirst("^--", ""), value == null ? "" : String.valueOf(value));
        }
        options.given = Map.copyOf(flags);
        options.helpRequested = result.isUsageHelpRequested() || result.isVersionHelpRequested();
        if (!options.helpRequested) {
            options.validate(result);
        }
        return options;
    }

    /** The usage text for {@code --help}. */
    public static String usage() {
        return new CommandLine(new EppOptions()).getUsageMessage();
    }

    private void validate(CommandLine.ParseResult result) {
        if (!removedMetricFlags.isEmpty()) {
            throw new IllegalArgumentException("the metric-name flags (--total-queued-requests-metric, ...) were"
                    + " removed upstream; configure engineConfigs of the core-metrics-extractor plugin instead");
        }
        if (!configFile.isEmpty() && !configText.isEmpty()) {
            throw new IllegalArgumentException("--config-file and --config-text are mutually exclusive");
        }
        int modes = (poolName.isEmpty() ? 0 : 1) + (endpointSelector.isEmpty() ? 0 : 1)
                + (staticEndpoints.isEmpty() ? 0 : 1);
        if (modes > 1) {
            throw new IllegalArgumentException("use only one of --pool-name, --endpoint-selector and --static-endpoints");
        }
        endpointTargetPorts = List.copyOf(new LinkedHashSet<>(endpointTargetPorts));
        if (!endpointSelector.isEmpty() && (endpointTargetPorts.isEmpty() || endpointTargetPorts.size() > 8)) {
            throw new IllegalArgumentException("--endpoint-selector needs 1-8 --endpoint-target-ports");
        }
        for (int port : endpointTargetPorts) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("invalid port number " + port + " in --endpoint-target-ports");
            }
        }
        if (!modelServerMetricsScheme.equals("http") && !modelServerMetricsScheme.equals("https")) {
            throw new IllegalArgumentException("--model-server-metrics-scheme must be http or https, got '"
                    + modelServerMetricsScheme + "'");
        }
        for (int port : List.of(grpcPort, grpcHealthPort, metricsPort)) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 0-65535");
            }
        }
        for (String flag : List.of("refresh-metrics-interval", "refresh-prometheus-metrics-interval",
                "metrics-staleness-threshold")) {
            goDuration(flag, given.get(flag));
        }
        if (!certPath.isEmpty() && !secureServing) {
            throw new IllegalArgumentException("--cert-path needs --secure-serving=true");
        }
        oneOf("zap-encoder", zapEncoder, Set.of("json", "console"));
        oneOf("zap-stacktrace-level", zapStacktraceLevel, Set.of("info", "error", "panic"));
        oneOf("zap-time-encoding", zapTimeEncoding,
                Set.of("epoch", "millis", "nano", "iso8601", "rfc3339", "rfc3339nano"));
        if (!zapLogLevel.isEmpty() && !zapLogLevel.matches("[1-9][0-9]{0,8}")
                && !Set.of("debug", "info", "error", "panic").contains(zapLogLevel.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--zap-log-level must be debug, info, error, panic or an integer > 0,"
                    + " got '" + zapLogLevel + "'");
        }
    }

    /** An empty value is "not given"; zap compares case-insensitively. */
    private static void oneOf(String flag, String value, Set<String> allowed) {
        if (!value.isEmpty() && !allowed.contains(value.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--" + flag + " must be one of " + allowed.stream().sorted().toList()
                    + ", got '" + value + "'");
        }
    }

    /** Whether {@code --help} or {@code --version} was asked for (then nothing else was validated). */
    public boolean helpRequested() {
        return helpRequested;
    }

    /** Every flag by name (no dashes) with its value as text, for pool-source providers. */
    public Map<String, String> flags() {
        return given;
    }

    public int grpcPort() {
        return grpcPort;
    }

    public int grpcHealthPort() {
        return grpcHealthPort;
    }

    public int metricsPort() {
        return metricsPort;
    }

    public boolean metricsEndpointAuth() {
        return metricsEndpointAuth;
    }

    public Optional<Path> metricsTokenFile() {
        return Optional.of(metricsTokenFile).filter(s -> !s.isEmpty()).map(Path::of);
    }

    public String poolName() {
        return poolName;
    }

    /** {@code --pool-namespace}, else {@code $NAMESPACE}, else {@code default}. */
    public String poolNamespace() {
        if (!poolNamespace.isEmpty()) {
            return poolNamespace;
        }
        String fromEnv = System.getenv("NAMESPACE");
        return fromEnv == null || fromEnv.isEmpty() ? "default" : fromEnv;
    }

    public String poolGroup() {
        return poolGroup;
    }

    public String endpointSelector() {
        return endpointSelector;
    }

    public List<Integer> endpointTargetPorts() {
        return List.copyOf(endpointTargetPorts);
    }

    public Optional<String> staticEndpoints() {
        return Optional.of(staticEndpoints).filter(s -> !s.isEmpty());
    }

    public Optional<Path> inferenceObjectsFile() {
        return Optional.of(inferenceObjectsFile).filter(s -> !s.isEmpty()).map(Path::of);
    }

    public boolean disableEndpointSubsetFilter() {
        return disableEndpointSubsetFilter;
    }

    public Duration refreshMetricsInterval() {
        return goDuration("refresh-metrics-interval", refreshMetricsInterval);
    }

    public Duration refreshPrometheusMetricsInterval() {
        return goDuration("refresh-prometheus-metrics-interval", refreshPrometheusMetricsInterval);
    }

    public Duration metricsStalenessThreshold() {
        return goDuration("metrics-staleness-threshold", metricsStalenessThreshold);
    }

    public Optional<Path> configFile() {
        return Optional.of(configFile).filter(s -> !s.isEmpty()).map(Path::of);
    }

    public Optional<String> configText() {
        return Optional.of(configText).filter(s -> !s.isEmpty());
    }

    public boolean secureServing() {
        return secureServing;
    }

    public Optional<Path> certPath() {
        return Optional.of(certPath).filter(s -> !s.isEmpty()).map(Path::of);
    }

    public boolean enableCertReload() {
        return enableCertReload;
    }

    public boolean healthChecking() {
        return healthChecking;
    }

    public boolean haEnableLeaderElection() {
        return haEnableLeaderElection;
    }

    public boolean tracing() {
        return tracing;
    }

    public boolean enablePprof() {
        return enablePprof;
    }

    public int verbosity() {
        return verbosity;
    }

    public String modelServerMetricsScheme() {
        return modelServerMetricsScheme;
    }

    public String modelServerMetricsPath() {
        return modelServerMetricsPath;
    }

    public int modelServerMetricsPort() {
        return modelServerMetricsPort;
    }

    public boolean modelServerMetricsHttpsInsecureSkipVerify() {
        return modelServerMetricsHttpsInsecureSkipVerify;
    }

    private static Duration goDuration(String flag, String text) {
        try {
            return GoDuration.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + flag + ": " + e.getMessage(), e);
        }
    }
}
