package dev.lodestar.epp;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class EppOptionsTest {
    /** GIE v1.5.0's defaults ({@code pkg/epp/server/options.go}, gie.md §4.1), by flag name. */
    private static final Map<String, String> UPSTREAM_DEFAULTS = Map.ofEntries(
            entry("grpc-port", "9002"),
            entry("grpc-health-port", "9003"),
            entry("metrics-port", "9090"),
            entry("metrics-endpoint-auth", "true"),
            entry("pool-name", ""),
            entry("pool-namespace", ""),
            entry("pool-group", "inference.networking.k8s.io"),
            entry("endpoint-selector", ""),
            entry("disable-endpoint-subset-filter", "false"),
            entry("refresh-metrics-interval", "50ms"),
            entry("refresh-prometheus-metrics-interval", "5s"),
            entry("metrics-staleness-threshold", "2s"),
            entry("config-file", ""),
            entry("config-text", ""),
            entry("secure-serving", "true"),
            entry("cert-path", ""),
            entry("enable-cert-reload", "false"),
            entry("health-checking", "false"),
            entry("ha-enable-leader-election", "false"),
            entry("tracing", "true"),
            entry("enable-pprof", "true"),
            entry("v", "2"),
            entry("model-server-metrics-scheme", "http"),
            entry("model-server-metrics-path", "/metrics"),
            entry("model-server-metrics-port", "0"),
            entry("model-server-metrics-https-insecure-skip-verify", "true"));

    @Test
    void everyUpstreamFlagHasUpstreamsDefault() {
        EppOptions options = EppOptions.parse();

        assertThat(options.flags()).containsAllEntriesOf(UPSTREAM_DEFAULTS);
        assertThat(options.grpcPort()).isEqualTo(9002);
        assertThat(options.grpcHealthPort()).isEqualTo(9003);
        assertThat(options.metricsPort()).isEqualTo(9090);
        assertThat(options.metricsEndpointAuth()).isTrue();
        assertThat(options.metricsTokenFile()).isEmpty();
        assertThat(options.poolName()).isEmpty();
        assertThat(options.poolGroup()).isEqualTo("inference.networking.k8s.io");
        assertThat(options.endpointSelector()).isEmpty();
        assertThat(options.endpointTargetPorts()).isEmpty();
        assertThat(options.staticEndpoints()).isEmpty();
        assertThat(options.inferenceObjectsFile()).isEmpty();
        assertThat(options.disableEndpointSubsetFilter()).isFalse();
        assertThat(options.refreshMetricsInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(options.refreshPrometheusMetricsInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(options.metricsStalenessThreshold()).isEqualTo(Duration.ofSeconds(2));
        assertThat(options.configFile()).isEmpty();
        assertThat(options.configText()).isEmpty();
        assertThat(options.secureServing()).isTrue();
        assertThat(options.certPath()).isEmpty();
        assertThat(options.enableCertReload()).isFalse();
        assertThat(options.healthChecking()).isFalse();
        assertThat(options.haEnableLeaderElection()).isFalse();
        assertThat(options.tracing()).isTrue();
        assertThat(options.enablePprof()).isTrue();
        assertThat(options.verbosity()).isEqualTo(2);
        assertThat(options.modelServerMetricsScheme()).isEqualTo("http");
        assertThat(options.modelServerMetricsPath()).isEqualTo("/metrics");
        assertThat(options.modelServerMetricsPort()).isZero();
        assertThat(options.modelServerMetricsHttpsInsecureSkipVerify()).isTrue();
        assertThat(options.helpRequested()).isFalse();
    }

    @Test
    void poolNamespaceFallsBackToTheNamespaceVariableThenDefault() {
        String fromEnv = System.getenv("NAMESPACE");
        String expected = fromEnv == null || fromEnv.isEmpty() ? "default" : fromEnv;

        assertThat(EppOptions.parse().poolNamespace()).isEqualTo(expected);
        assertThat(EppOptions.parse("--pool-namespace", "team-a").poolNamespace()).isEqualTo("team-a");
    }

    @Test
    void everyUpstreamFlagNameIsAccepted() {
        List<String> args = UPSTREAM_DEFAULTS.entrySet().stream()
                .filter(flag -> !flag.getKey().startsWith("config-") && !flag.getKey().equals("cert-path"))
                .map(flag -> "--" + flag.getKey() + "=" + flag.getValue())
                .toList();

        EppOptions options = EppOptions.parse(args.toArray(String[]::new));

        assertThat(options.flags()).containsAllEntriesOf(Map.of("grpc-port", "9002", "tracing", "true"));
    }

    @Test
    void acceptsTheArgumentsOfGiesHelmChartAndE2eManifest() {
        // config/charts/epplib/templates/_deployment.yaml@v1.5.0 (vLLM, one replica, tracing off, no metrics auth)
        EppOptions chart = EppOptions.parse("--pool-name", "vllm-llama3-8b-instruct", "--pool-namespace", "default",
                "--pool-group", "inference.networking.k8s.io", "--zap-encoder", "json",
                "--config-file", "/config/default-plugins.yaml", "--tracing=false", "--metrics-endpoint-auth=false");
        // test/testdata/inferencepool-e2e.yaml@v1.5.0
        EppOptions e2e = EppOptions.parse("--pool-name", "vllm-qwen3-32b", "--pool-namespace", "e2e", "--v", "4",
                "--zap-encoder", "json", "--grpc-port", "9002", "--grpc-health-port", "9003",
                "--config-file", "/config/default-plugins.yaml");

        assertThat(chart.poolName()).isEqualTo("vllm-llama3-8b-instruct");
        assertThat(chart.tracing()).isFalse();
        assertThat(chart.metricsEndpointAuth()).isFalse();
        assertThat(chart.configFile()).contains(Path.of("/config/default-plugins.yaml"));
        assertThat(e2e.verbosity()).isEqualTo(4);
        assertThat(e2e.poolNamespace()).isEqualTo("e2e");
    }

    @Test
    void aRepeatedFlagTakesItsLastValueAsInPflag() {
        EppOptions options = EppOptions.parse("--tracing=true", "--v", "3", "--tracing=false", "--v=6");

        assertThat(options.tracing()).isFalse();
        assertThat(options.verbosity()).isEqualTo(6);
        assertThat(options.flags()).containsEntry("tracing", "false").containsEntry("v", "6");
    }

    @Test
    void verbosityTakesPflagsShorthandToo() {
        assertThat(EppOptions.parse("-v", "5").verbosity()).isEqualTo(5);
        assertThat(EppOptions.parse("--v=3").verbosity()).isEqualTo(3);
    }

    @Test
    void zapFlagsAreAcceptedAndTheirValuesChecked() {
        EppOptions options = EppOptions.parse("--zap-encoder=console", "--zap-log-level=debug", "--zap-log-level=7",
                "--zap-stacktrace-level=error", "--zap-time-encoding=iso8601", "--zap-devel=false");

        assertThat(options.flags()).containsEntry("zap-encoder", "console").containsEntry("zap-log-level", "7")
                .containsEntry("zap-devel", "false");
        assertThat(EppOptions.parse("--zap-encoder=JSON").flags()).containsEntry("zap-encoder", "JSON");
        assertThatThrownBy(() -> EppOptions.parse("--zap-encoder=xml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--zap-encoder must be one of [console, json], got 'xml'");
        assertThatThrownBy(() -> EppOptions.parse("--zap-log-level=0"))
                .hasMessageContaining("--zap-log-level must be debug, info, error, panic or an integer > 0, got '0'");
        assertThatThrownBy(() -> EppOptions.parse("--zap-log-level=warn"))
                .hasMessageContaining("--zap-log-level");
        assertThatThrownBy(() -> EppOptions.parse("--zap-stacktrace-level=debug"))
                .hasMessageContaining("--zap-stacktrace-level must be one of [error, info, panic]");
        assertThatThrownBy(() -> EppOptions.parse("--zap-time-encoding=unix"))
                .hasMessageContaining("--zap-time-encoding");
    }

    @Test
    void durationsTakeGoSyntax() {
        EppOptions options = EppOptions.parse("--refresh-metrics-interval=1m", "--refresh-prometheus-metrics-interval",
                "1h30m", "--metrics-staleness-threshold=1.5s");

        assertThat(options.refreshMetricsInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(options.refreshPrometheusMetricsInterval()).isEqualTo(Duration.ofMinutes(90));
        assertThat(options.metricsStalenessThreshold()).isEqualTo(Duration.ofMillis(1500));
        assertThat(EppOptions.parse("--refresh-metrics-interval=50ms").refreshMetricsInterval())
                .isEqualTo(Duration.ofMillis(50));
        assertThat(EppOptions.parse("--metrics-staleness-threshold=250us").metricsStalenessThreshold())
                .isEqualTo(Duration.ofNanos(250_000));
    }

    @Test
    void invalidDurationsNameTheFlag() {
        assertThatThrownBy(() -> EppOptions.parse("--refresh-metrics-interval=50"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--refresh-metrics-interval: ")
                .hasMessageContaining("missing unit in duration \"50\"");
        assertThatThrownBy(() -> EppOptions.parse("--metrics-staleness-threshold=2sec"))
                .hasMessageStartingWith("--metrics-staleness-threshold: ")
                .hasMessageContaining("unknown unit \"sec\"");
        assertThatThrownBy(() -> EppOptions.parse("--refresh-prometheus-metrics-interval="))
                .hasMessageStartingWith("--refresh-prometheus-metrics-interval: ");
    }

    @Test
    void booleansTakeAnOptionalValue() {
        assertThat(EppOptions.parse("--secure-serving=false").secureServing()).isFalse();
        assertThat(EppOptions.parse("--secure-serving=true").secureServing()).isTrue();
        assertThat(EppOptions.parse("--health-checking").healthChecking()).isTrue();
        assertThat(EppOptions.parse("--disable-endpoint-subset-filter").disableEndpointSubsetFilter()).isTrue();
        assertThat(EppOptions.parse("--enable-cert-reload=true").enableCertReload()).isTrue();
        assertThat(EppOptions.parse("--model-server-metrics-https-insecure-skip-verify=false")
                .modelServerMetricsHttpsInsecureSkipVerify()).isFalse();
        assertThat(EppOptions.parse("--enable-pprof=false").enablePprof()).isFalse();
        assertThat(EppOptions.parse("--secure-serving=false").flags()).containsEntry("secure-serving", "false");
    }

    @Test
    void aBooleanThatIsNotABooleanIsAnError() {
        assertThatThrownBy(() -> EppOptions.parse("--secure-serving=maybe"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--secure-serving")
                .hasMessageContaining("maybe")
                .hasMessageEndingWith("(see --help)");
    }

    @Test
    void staticEndpointsRunWithoutKubernetes() {
        EppOptions options = EppOptions.parse("--static-endpoints", "10.0.0.1:8000,pod-b=10.0.0.2:8001",
                "--inference-objects-file", "/etc/objects.yaml");

        assertThat(options.staticEndpoints()).contains("10.0.0.1:8000,pod-b=10.0.0.2:8001");
        assertThat(options.inferenceObjectsFile()).contains(Path.of("/etc/objects.yaml"));
        assertThatThrownBy(() -> EppOptions.parse("--static-endpoints", "10.0.0.1:8000", "--pool-name", "p"))
                .hasMessage("use only one of --pool-name, --endpoint-selector and --static-endpoints");
        assertThatThrownBy(() -> EppOptions.parse("--pool-name", "p", "--endpoint-selector", "app=vllm",
                "--endpoint-target-ports", "8000"))
                .hasMessage("use only one of --pool-name, --endpoint-selector and --static-endpoints");
    }

    @Test
    void endpointSelectorNeedsOneToEightValidUniquePorts() {
        EppOptions options = EppOptions.parse("--endpoint-selector", "app=vllm,env=prod",
                "--endpoint-target-ports", "8000,8001,8000");

        assertThat(options.endpointSelector()).isEqualTo("app=vllm,env=prod");
        assertThat(options.endpointTargetPorts()).containsExactly(8000, 8001);
        assertThat(EppOptions.parse("--endpoint-selector=app=vllm", "--endpoint-target-ports=1,2,3,4,5,6,7,8,8")
                .endpointTargetPorts()).hasSize(8);
        assertThatThrownBy(() -> EppOptions.parse("--endpoint-selector", "app=vllm"))
                .hasMessage("--endpoint-selector needs 1-8 --endpoint-target-ports");
        assertThatThrownBy(() -> EppOptions.parse("--endpoint-selector", "app=vllm",
                "--endpoint-target-ports", "1,2,3,4,5,6,7,8,9"))
                .hasMessage("--endpoint-selector needs 1-8 --endpoint-target-ports");
        assertThatThrownBy(() -> EppOptions.parse("--endpoint-selector", "app=vllm",
                "--endpoint-target-ports", "8000,70000"))
                .hasMessage("invalid port number 70000 in --endpoint-target-ports");
        assertThatThrownBy(() -> EppOptions.parse("--endpoint-target-ports", "80x0"))
                .hasMessageContaining("--endpoint-target-ports");
    }

    @Test
    void invalidValuesAreClearErrors() {
        assertThatThrownBy(() -> EppOptions.parse("--grpc-port=abc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--grpc-port")
                .hasMessageContaining("abc");
        assertThatThrownBy(() -> EppOptions.parse("--metrics-port=70000"))
                .hasMessage("port 70000 is outside 0-65535");
        assertThatThrownBy(() -> EppOptions.parse("--model-server-metrics-scheme=ftp"))
                .hasMessage("--model-server-metrics-scheme must be http or https, got 'ftp'");
        assertThat(EppOptions.parse("--model-server-metrics-scheme=https").modelServerMetricsScheme())
                .isEqualTo("https");
        assertThatThrownBy(() -> EppOptions.parse("--cert-path=/tls", "--secure-serving=false"))
                .hasMessage("--cert-path needs --secure-serving=true");
        assertThatThrownBy(() -> EppOptions.parse("--no-such-flag"))
                .hasMessageContaining("Unknown option: '--no-such-flag'");
        assertThatThrownBy(() -> EppOptions.parse("stray-argument"))
                .hasMessageContaining("stray-argument");
    }

    @Test
    void removedMetricNameFlagsAreRejected() {
        for (String flag : List.of("--total-queued-requests-metric", "--total-running-requests-metric",
                "--kv-cache-usage-percentage-metric", "--lora-info-metric", "--cache-info-metric")) {
            assertThatThrownBy(() -> EppOptions.parse(flag, "vllm:x"))
                    .as(flag)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("engineConfigs");
        }
    }

    @Test
    void configFileAndConfigTextAreMutuallyExclusive() {
        assertThat(EppOptions.parse("--config-file", "/etc/epp.yaml").configFile()).contains(Path.of("/etc/epp.yaml"));
        assertThat(EppOptions.parse("--config-text", "kind: EndpointPickerConfig").configText())
                .contains("kind: EndpointPickerConfig");
        assertThat(EppOptions.parse("--config-text=").configText()).isEmpty();
        assertThatThrownBy(() -> EppOptions.parse("--config-file", "/etc/epp.yaml", "--config-text", "plugins: []"))
                .hasMessage("--config-file and --config-text are mutually exclusive");
    }

    @Test
    void helpSkipsValidationAndTheUsageListsEveryFlag() {
        EppOptions help = EppOptions.parse("--help", "--config-file", "a", "--config-text", "b");
        String usage = EppOptions.usage();

        assertThat(help.helpRequested()).isTrue();
        assertThat(EppOptions.parse("-h").helpRequested()).isTrue();
        for (String flag : UPSTREAM_DEFAULTS.keySet()) {
            assertThat(usage).as(flag).contains("--" + flag);
        }
        assertThat(usage).contains("--static-endpoints", "--inference-objects-file", "--metrics-token-file",
                "--endpoint-target-ports", "--zap-encoder", "-v, --v=", "-h, --help");
        assertThat(usage).contains("(default: 9002)", "(default: 50ms)", "(default: inference.networking.k8s.io)");
        assertThat(usage).doesNotContain("--total-queued-requests-metric");
        assertThat(usage).startsWith("Usage: epp ");
    }
}
