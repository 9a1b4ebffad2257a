package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FleetConfigLoaderTest {
    @TempDir
    Path dir;

    private static List<SimulatorConfig> load(String... args) {
        return FleetConfigLoader.load(args).servers();
    }

    @Test
    void defaultsMatchLlmdInferenceSim() {
        SimulatorConfig config = load().get(0);
        assertThat(config.port()).isEqualTo(8000);
        assertThat(config.maxNumSeqs()).isEqualTo(5);
        assertThat(config.maxModelLen()).isEqualTo(1024);
        assertThat(config.maxWaitingQueueLength()).isEqualTo(1000);
        assertThat(config.kvCacheSize()).isEqualTo(1024);
        assertThat(config.blockSize()).isEqualTo(16);
        assertThat(config.maxLoras()).isEqualTo(1);
        assertThat(config.mode()).isEqualTo(SimulatorConfig.Mode.RANDOM);
        assertThat(config.timeFactorUnderLoad()).isEqualTo(1.0);
        assertThat(config.servedModelNames()).containsExactly(config.model());
    }

    @Test
    void kvTransferIsOffByDefaultAndItsFlagsConfigureTheEngine() {
        assertThat(load().get(0).kvTransfer()).isEmpty();

        SimulatorConfig config = load("--host", "127.0.0.1", "--kv-cache-size", "300", "--kv-transfer", "true",
                "--kv-transfer-side-channel-port", "5600", "--kv-transfer-block-bytes", "131072",
                "--kv-transfer-engine-id", "engine-7", "--kv-transfer-peer-failure-detection", "false").get(0);
        assertThat(config.kvTransfer()).contains(
                new SimulatorConfig.KvTransfer("127.0.0.1", 5600, 131072, 300, "engine-7", false));

        SimulatorConfig wildcard = load("--kv-transfer", "true", "--kv-transfer-num-blocks", "50").get(0);
        assertThat(wildcard.kvTransfer().orElseThrow().sideChannelHost())
                .as("decoders are told an address they can reach, not the wildcard").isEqualTo("127.0.0.1");
        assertThat(wildcard.kvTransfer().orElseThrow().numBlocks()).isEqualTo(50);
        assertThat(wildcard.kvTransfer().orElseThrow().engineId()).isNotBlank();

        assertThatThrownBy(() -> load("--kv-transfer", "true", "--kv-transfer-block-bytes", "100"))
                .hasMessageContaining("kv-transfer-block-bytes must be a positive multiple of 8, got 100");
    }

    @Test
    void flagsTakeBothSyntaxesAndGoDurations() {
        SimulatorConfig config = load("--port=9000", "--max-num-seqs", "8", "--time-to-first-token", "1.5s",
                "--inter-token-latency=750us", "--prefill-time-per-token", "20", "--served-model-name", "a", "b",
                "--lora-modules", "{\"name\":\"l1\",\"path\":\"/p\"}", "l2=/q", "--mode", "echo",
                "--failure-types", "rate_limit,server_error").get(0);
        assertThat(config.port()).isEqualTo(9000);
        assertThat(config.maxNumSeqs()).isEqualTo(8);
        assertThat(config.timeToFirstToken()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.interTokenLatency()).isEqualTo(Duration.ofNanos(750_000));
        assertThat(config.prefillTimePerToken()).as("bare numbers are milliseconds").isEqualTo(Duration.ofMillis(20));
        assertThat(config.servedModelNames()).containsExactly("a", "b");
        assertThat(config.loraModules()).containsExactly(new SimulatorConfig.LoraModule("l1", "/p"),
                new SimulatorConfig.LoraModule("l2", "/q"));
        assertThat(config.mode()).isEqualTo(SimulatorConfig.Mode.ECHO);
        assertThat(config.failureTypes()).containsExactly(FailureType.RATE_LIMIT, FailureType.SERVER_ERROR);
    }

    @Test
    void flagsOverrideTheFileAndServerEntriesOverrideBoth() throws IOException {
        Path file = dir.resolve("fleet.yaml");
        Files.writeString(file, """
                model: "org/model"
                max-num-seqs: 3
                inter-token-latency: 10ms
                lora-modules:
                  - '{"name":"food-review-1","path":"/a"}'
                servers:
                  - host: 127.0.1.1
                    pod-name: alpha
                  - host: 127.0.1.2
                    max-num-seqs: 7
                    lora-modules: []
                """);
        List<SimulatorConfig> servers = load("--config", file.toString(), "--max-num-seqs", "4");
        assertThat(servers).hasSize(2);
        assertThat(servers.get(0).podName()).isEqualTo("alpha");
        assertThat(servers.get(0).maxNumSeqs()).isEqualTo(4);
        assertThat(servers.get(0).loraModules()).extracting(SimulatorConfig.LoraModule::name).containsExactly("food-review-1");
        assertThat(servers.get(1).podName()).isEqualTo("lodestar-sim-1");
        assertThat(servers.get(1).maxNumSeqs()).isEqualTo(7);
        assertThat(servers.get(1).loraModules()).isEmpty();
        assertThat(servers).allSatisfy(server -> {
            assertThat(server.model()).isEqualTo("org/model");
            assertThat(server.interTokenLatency()).isEqualTo(Duration.ofMillis(10));
        });
    }

    @Test
    void fleetSizeSpreadsServersOverConsecutiveAddresses() {
        List<SimulatorConfig> servers = load("--fleet-size", "3", "--host", "127.0.1.254");
        assertThat(servers).extracting(SimulatorConfig::host).containsExactly("127.0.1.254", "127.0.1.255", "127.0.2.0");
        assertThat(servers).extracting(SimulatorConfig::podName)
                .containsExactly("lodestar-sim-0", "lodestar-sim-1", "lodestar-sim-2");
        assertThat(servers).extracting(SimulatorConfig::port).containsOnly(8000);
    }

    @Test
    void mistakesAreReportedByName() throws IOException {
        assertThatThrownBy(() -> load("--max-num-seq", "3")).hasMessageContaining("--max-num-seq");
        assertThatThrownBy(() -> load("--inter-token-latency", "fast")).hasMessageContaining("inter-token-latency")
                .hasMessageContaining("not a duration");
        assertThatThrownBy(() -> load("--block-size", "12")).hasMessageContaining("block-size must be one of");
        assertThatThrownBy(() -> load("--mode", "loud")).hasMessageContaining("invalid mode 'loud'");
        assertThatThrownBy(() -> load("--time-factor-under-load", "0.5")).hasMessageContaining(">= 1.0");
        assertThatThrownBy(() -> load("--failure-types", "meteor")).hasMessageContaining("unknown failure type 'meteor'");
        assertThatThrownBy(() -> load("--kv-cache-size", "4", "--max-model-len", "1024"))
                .hasMessageContaining("must hold at least one request of max-model-len");
        assertThatThrownBy(() -> load("--fleet-size", "2")).hasMessageContaining("IPv4 address");
        assertThatThrownBy(() -> load("--fleet-size", "2", "--host", "127.0.1.1", "--port", "8000",
                "--config", "/no/such/file.yaml")).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> load("--inter-token-latency", "10ms", "--inter-token-latency-std-dev", "5ms"))
                .hasMessageContaining("30%");
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "max-num-seqs: 2\nmax_num_seqs: 3\n");
        assertThatThrownBy(() -> load("--config", file.toString())).hasMessageContaining("unknown key 'max_num_seqs'");
        Files.writeString(file, "servers:\n  - host: 127.0.1.1\n    color: red\n");
        assertThatThrownBy(() -> load("--config", file.toString())).hasMessageContaining("servers[0]: unknown key 'color'");
        Files.writeString(file, "servers:\n  - port: 9000\n  - port: 9000\n");
        assertThatThrownBy(() -> load("--config", file.toString(), "--host", "127.0.0.1"))
                .hasMessageContaining("two servers would listen on 127.0.0.1:9000");
    }

    @Test
    void helpListsEveryKey() {
        String help = FleetConfigLoader.load("--help").help().orElseThrow();
        for (ConfigKeys.Key key : ConfigKeys.all()) {
            assertThat(help).contains("--" + key.name());
        }
        assertThat(help).contains("--fleet-size", "--config");
    }
}
