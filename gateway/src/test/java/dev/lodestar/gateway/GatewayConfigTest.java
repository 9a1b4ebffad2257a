package dev.lodestar.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewayConfigTest {
    private static final String POOL = """
            pools:
              - name: main
                endpointPicker: {address: "127.0.0.1:9002"}
            """;
    private static final String ROUTE = """
            routes:
              - pool: main
            """;

    @TempDir
    Path dir;

    @Test
    void minimalFileGetsTheDocumentedDefaults() {
        GatewayConfig config = GatewayConfig.parse(POOL + ROUTE);

        assertThat(config.listen().host()).isEqualTo("127.0.0.1");
        assertThat(config.listen().port()).isEqualTo(8080);
        assertThat(config.timeouts().message()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.timeouts().connect()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.timeouts().response()).isEqualTo(Duration.ofSeconds(300));
        GatewayConfig.Pool pool = config.pools().getFirst();
        assertThat(pool.failureMode()).isEqualTo(GatewayConfig.FailureMode.FailClose);
        assertThat(pool.endpointPicker().tls()).isTrue();
        assertThat(pool.endpoints()).isEmpty();
        GatewayConfig.Route route = config.routes().getFirst();
        assertThat(route.pathPrefix()).isEqualTo("/");
        assertThat(route.model()).isNull();
        assertThat(route.subset()).isEmpty();
    }

    @Test
    void fullFileIsReadAsWritten() {
        GatewayConfig config = GatewayConfig.parse("""
                listen: {host: 0.0.0.0, port: 0}
                timeouts: {messageTimeout: 250ms, connectTimeout: 5m, responseTimeout: 1h}
                pools:
                  - name: a
                    endpointPicker: {address: "epp.local:9002", tls: false}
                    failureMode: FailOpen
                    endpoints: ["10.0.0.1:8000", "[::1]:8000"]
                routes:
                  - pathPrefix: /v1/chat
                    model: llama
                    pool: a
                    endpointSubset: ["10.0.0.1:8000"]
                """);

        assertThat(config.listen()).isEqualTo(new GatewayConfig.Listen("0.0.0.0", 0));
        assertThat(config.timeouts().message()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.timeouts().connect()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.timeouts().response()).isEqualTo(Duration.ofHours(1));
        GatewayConfig.Pool pool = config.pools().getFirst();
        assertThat(pool.endpointPicker().tls()).isFalse();
        assertThat(pool.failureMode()).isEqualTo(GatewayConfig.FailureMode.FailOpen);
        assertThat(pool.endpoints()).containsExactly("10.0.0.1:8000", "[::1]:8000");
        GatewayConfig.Route route = config.routes().getFirst();
        assertThat(route.pathPrefix()).isEqualTo("/v1/chat");
        assertThat(route.subset()).contains(List.of("10.0.0.1:8000"));
        assertThat(route.matches("/v1/chat/completions", Optional.of("llama"))).isTrue();
        assertThat(route.matches("/v1/chat/completions", Optional.of("other"))).isFalse();
        assertThat(route.matches("/v1/chat/completions", Optional.empty())).isFalse();
        assertThat(route.matches("/v1/completions", Optional.of("llama"))).isFalse();
    }

    @Test
    void loadsAFile() throws Exception {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, POOL + ROUTE);

        assertThat(GatewayConfig.load(file).pools()).extracting(GatewayConfig.Pool::name).containsExactly("main");
        assertThatThrownBy(() -> GatewayConfig.load(dir.resolve("missing.yaml")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.yaml");
    }

    @ParameterizedTest
    @CsvSource({"250ms, PT0.25S", "10s, PT10S", "5m, PT5M", "1h, PT1H", "' 2S ', PT2S"})
    void durations(String text, Duration expected) {
        assertThat(GatewayConfig.duration("k", text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10", "1.5s", "-1s", "10 s", "s", "1d", "", "0s", "0ms", "99999999999999999999s",
            "9999999999999999h"})
    void badDurationsNameTheKey(String text) {
        assertThatThrownBy(() -> GatewayConfig.parse("timeouts: {connectTimeout: '" + text + "'}\n" + POOL + ROUTE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeouts.connectTimeout");
    }

    @Test
    void unknownKeyIsNamed() {
        assertThatThrownBy(() -> GatewayConfig.parse("listen: {hots: x}\n" + POOL + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hots")
                .hasMessageContaining("listen");
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + ROUTE + "extra: 1\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extra");
        assertThatThrownBy(() -> GatewayConfig.parse("""
                pools:
                  - name: main
                    endpointPicker: {address: "127.0.0.1:9002"}
                    failuremode: FailOpen
                """ + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("failuremode")
                .hasMessageContaining("pools[0]");
    }

    @Test
    void routeToAMissingPoolNamesTheRoute() {
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + """
                routes:
                  - pool: main
                  - pool: nope
                """))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("routes[1].pool").hasMessageContaining("nope").hasMessageContaining("main");
    }

    @Test
    void duplicatePoolIsAnError() {
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + """
                  - name: main
                    endpointPicker: {address: "127.0.0.1:9003"}
                """ + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pools")
                .hasMessageContaining("'main'");
    }

    @Test
    void failOpenNeedsEndpoints() {
        assertThatThrownBy(() -> GatewayConfig.parse("""
                pools:
                  - name: main
                    endpointPicker: {address: "127.0.0.1:9002"}
                    failureMode: FailOpen
                """ + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pools[main]")
                .hasMessageContaining("FailOpen").hasMessageContaining("endpoints");
    }

    @Test
    void unknownFailureModeIsNamed() {
        assertThatThrownBy(() -> GatewayConfig.parse("""
                pools:
                  - name: main
                    endpointPicker: {address: "127.0.0.1:9002"}
                    failureMode: Sometimes
                """ + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("failureMode")
                .hasMessageContaining("Sometimes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:8000", "[::1]:8000", "[fe80::1]:1", "pod.ns.svc:65535", "localhost:0"})
    void goodHostPorts(String endpoint) {
        assertThat(GatewayConfig.hostPort("k", endpoint).port()).isBetween(0, 65535);
        assertThat(GatewayConfig.parse(POOL + "    endpoints: [\"" + endpoint + "\"]\n" + ROUTE)
                .pools().getFirst().endpoints()).containsExactly(endpoint);
    }

    @Test
    void ipv6HostPortIsSplitWithoutBrackets() {
        assertThat(GatewayConfig.hostPort("k", "[::1]:8000")).isEqualTo(new GatewayConfig.HostPort("::1", 8000));
        assertThat(GatewayConfig.hostPort("k", "10.1.2.3:80")).isEqualTo(new GatewayConfig.HostPort("10.1.2.3", 80));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1:8000", "[::1]", "127.0.0.1:65536", ":8000", "host:", "a:b",
            "127.0.0.1:8000,127.0.0.2:8000", "[::1:8000"})
    void badHostPortsNameTheKey(String endpoint) {
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + "    endpoints: [\"" + endpoint + "\"]\n" + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pools[main].endpoints")
                .hasMessageContaining(endpoint);
        assertThatThrownBy(() -> GatewayConfig.parse("""
                pools:
                  - name: main
                    endpointPicker: {address: "%s"}
                """.formatted(endpoint) + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpointPicker.address");
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + """
                routes:
                  - pool: main
                    endpointSubset: ["%s"]
                """.formatted(endpoint)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpointSubset");
    }

    @Test
    void missingPartsAreNamed() {
        assertThatThrownBy(() -> GatewayConfig.parse(ROUTE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pools");
        assertThatThrownBy(() -> GatewayConfig.parse(POOL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("routes");
        assertThatThrownBy(() -> GatewayConfig.parse("""
                pools:
                  - name: main
                """ + ROUTE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("endpointPicker");
        assertThatThrownBy(() -> GatewayConfig.parse(POOL + "routes:\n  - pathPrefix: v1\n    pool: main\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pathPrefix");
        assertThatThrownBy(() -> GatewayConfig.parse("listen: {port: 70000}\n" + POOL + ROUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("listen.port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   \n", "# only a comment\n"})
    void emptyFileIsAnError(String text) throws Exception {
        assertThatThrownBy(() -> GatewayConfig.parse(text))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        Path file = dir.resolve("empty.yaml");
        Files.writeString(file, text);
        assertThatThrownBy(() -> GatewayConfig.load(file))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }

    @Test
    void notYamlIsAnError() {
        assertThatThrownBy(() -> GatewayConfig.parse("pools: [\n"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
