package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SidecarMainTest {
    private static SidecarConfig parse(String... args) {
        SidecarMain main = new SidecarMain();
        new CommandLine(main).parseArgs(args);
        return main.config();
    }

    @Test
    void defaultsAreUpstreams() {
        SidecarConfig config = parse();
        assertThat(config.port()).isEqualTo(8000);
        assertThat(config.modelServerPort()).isEqualTo(8200);
        assertThat(config.kvConnector()).isEqualTo(SidecarConfig.KvConnector.NIXLV2);
        assertThat(config.secureProxy()).isTrue();
        assertThat(config.certPath()).isEmpty();
        assertThat(config.tls()).isEmpty();
        assertThat(config.insecureSkipVerify()).isEmpty();
        assertThat(config.prefillMaxRetries()).isZero();
        assertThat(config.prefillRetryBackoff()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.maxIdleConnsPerHost()).isEqualTo(1024);
        assertThat(config.poolGroup()).isEqualTo("inference.networking.k8s.io");
        assertThat(config.ssrfProtection()).isFalse();
    }

    @Test
    void everyFlag() {
        SidecarConfig config = parse("--port", "9000", "--vllm-port", "8001", "--kv-connector", "nixlv2",
                "--enable-ssrf-protection", "--inference-pool", "llm/pool-a", "--pool-group", "x.k8s.io",
                "--enable-prefiller-sampling", "--secure-proxy=false", "--cert-path", "/certs",
                "--enable-tls=prefiller,decoder", "--tls-insecure-skip-verify", "prefiller",
                "--prefill-max-retries", "3", "--prefill-retry-backoff", "1.5s", "--max-idle-conns-per-host", "64");
        assertThat(config).isEqualTo(new SidecarConfig(9000, 8001, SidecarConfig.KvConnector.NIXLV2,
                Optional.of(new SidecarConfig.PoolRef("llm", "pool-a")), "x.k8s.io", true, false,
                Optional.of(Path.of("/certs")), Set.of(SidecarConfig.Stage.PREFILLER, SidecarConfig.Stage.DECODER),
                Set.of(SidecarConfig.Stage.PREFILLER), 3, Duration.ofMillis(1500), 64));
    }

    @Test
    void modelServerPortIsTheCurrentNameOfVllmPortAndWinsOverIt() {
        assertThat(parse("--model-server-port", "8300").modelServerPort()).isEqualTo(8300);
        assertThat(parse("--vllm-port", "8001", "--model-server-port", "8300").modelServerPort()).isEqualTo(8300);
    }

    @Test
    void aPoolNameAloneIsInTheDefaultNamespace() {
        assertThat(parse("--enable-ssrf-protection=true", "--inference-pool", "pool-a").inferencePool())
                .hasValue(new SidecarConfig.PoolRef("default", "pool-a"));
    }

    @Test
    void otherConnectorsAreRefusedClearly() {
        assertThatThrownBy(() -> parse("--kv-connector", "sglang"))
                .hasMessage("--kv-connector sglang is not supported by this sidecar (only nixlv2 is implemented)");
        assertThatThrownBy(() -> parse("--kv-connector", "nixl"))
                .hasMessage("--kv-connector must be one of: nixlv2 (got 'nixl')");
    }

    @Test
    void ssrfProtectionNeedsAPool() {
        assertThatThrownBy(() -> parse("--enable-ssrf-protection"))
                .hasMessage("--inference-pool flag or INFERENCE_POOL environment variable is required when"
                        + " --enable-ssrf-protection is true");
        assertThatThrownBy(() -> parse("--inference-pool", "a/b/c"))
                .hasMessageContaining("not multiple slashes");
        assertThatThrownBy(() -> parse("--enable-ssrf-protection", "--inference-pool", "/b"))
                .hasMessage("--inference-pool cannot have empty namespace or name");
    }

    @Test
    void badValuesAreClearErrors() {
        assertThatThrownBy(() -> parse("--enable-tls", "prefiller,encoder"))
                .hasMessageStartingWith("--enable-tls stages must be one of: prefiller, decoder");
        assertThatThrownBy(() -> parse("--prefill-retry-backoff", "soon"))
                .hasMessageStartingWith("--prefill-retry-backoff: ");
        assertThatThrownBy(() -> parse("--prefill-max-retries", "2", "--prefill-retry-backoff", "0"))
                .hasMessageStartingWith("--prefill-retry-backoff must be positive");
        assertThatThrownBy(() -> parse("--port", "70000")).hasMessageContaining("out of valid range");
    }

    @Test
    void theCommandExitsWith2OnABadFlagValue() {
        assertThat(new CommandLine(new SidecarMain()).execute("--kv-connector", "mooncake")).isEqualTo(2);
    }
}
