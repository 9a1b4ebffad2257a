package dev.lodestar.epp.discovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.lodestar.epp.testing.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileDiscoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TWO = """
            endpoints:
              - name: vllm-0
                address: "10.0.0.1"
                port: "8000"
                labels:
                  model: llama-3-8b
              - name: vllm-1
                namespace: inference
                address: 10.0.0.2
                port: 8001
            """;

    @TempDir
    Path directory;

    private final Datastore datastore = new Datastore();
    private final List<FileDiscovery> started = new ArrayList<>();

    @AfterEach
    void closeAll() {
        started.forEach(FileDiscovery::close);
    }

    private Path write(String content) throws IOException {
        return write("endpoints.yaml", content);
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(directory.resolve(name), content, StandardCharsets.UTF_8);
    }

    /** Writes beside the file, then renames over it, as editors and deploy tools do. */
    private void replace(Path file, String content) throws IOException {
        Path temporary = Files.writeString(directory.resolve(".endpoints.tmp"), content, StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private FileDiscovery start(Path file, boolean watch) {
        FileDiscovery discovery = FileDiscovery.builder().path(file).watchFile(watch).build();
        started.add(discovery);
        discovery.start(datastore);
        return discovery;
    }

    private List<String> names() {
        return datastore.endpoints().stream().map(EndpointState::metadata).map(e -> e.key().toString()).toList();
    }

    @Test
    void registeredAsABuiltInPlugin() {
        assertThat(PluginRegistry.builtIn().factory(FileDiscovery.TYPE)).containsSame(FileDiscovery.FACTORY);
    }

    @Test
    void loadsTheFileWithUpstreamsSchema() throws Exception {
        start(write(TWO), false);

        assertThat(datastore.synced()).isTrue();
        assertThat(datastore.endpoints()).extracting(EndpointState::metadata).containsExactly(
                new EndpointMetadata(new EndpointKey("default", "vllm-0"), "vllm-0", "10.0.0.1", 8000, "10.0.0.1:8000",
                        Map.of("model", "llama-3-8b")),
                new EndpointMetadata(new EndpointKey("inference", "vllm-1"), "vllm-1", "10.0.0.2", 8001,
                        "10.0.0.2:8001", Map.of()));
    }

    @Test
    void jsonIpv6AndLaterDuplicatesWin() throws Exception {
        start(write("endpoints.json", """
                {"endpoints": [
                  {"name": "a", "address": "fd00::1", "port": "8000", "labels": {"rank": 0, "gpu": true}},
                  {"name": "b", "address": "10.0.0.1", "port": "8000"},
                  {"name": "a", "address": "[fd00::2]", "port": "9000"}]}
                """), false);

        assertThat(names()).containsExactly("default/a", "default/b");
        EndpointMetadata a = datastore.endpoint(new EndpointKey("default", "a")).orElseThrow().metadata();
        assertThat(a.address()).isEqualTo("fd00::2");
        assertThat(a.metricsHost()).isEqualTo("[fd00::2]:9000");
        assertThat(a.labels()).isEmpty();
    }

    @Test
    void emptyListIsAnEmptyPool() throws Exception {
        start(write("endpoints: []\n"), false);
        assertThat(datastore.endpoints()).isEmpty();
        assertThat(datastore.synced()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "`endpoints:\n  - {name: a, address: 10.0.0.300, port: \"80\"}`|endpoints[0] (a): invalid IP address '10.0.0.300' (names are not resolved)",
            "`endpoints:\n  - {name: a, address: vllm.local, port: \"80\"}`|endpoints[0] (a): invalid IP address 'vllm.local' (names are not resolved)",
            "`endpoints:\n  - {name: a, address: 10.0.0.1, port: \"0\"}`|endpoints[0] (a): invalid port '0' (1-65535)",
            "`endpoints:\n  - {name: a, address: 10.0.0.1, port: \"http\"}`|endpoints[0] (a): invalid port 'http' (1-65535)",
            "`endpoints:\n  - {name: a, address: 10.0.0.1}`|endpoints[0] (a): 'port' is required",
            "`endpoints:\n  - {name: a, port: 80}`|endpoints[0] (a): 'address' is required",
            "`endpoints:\n  - {address: 10.0.0.1, port: 80}`|endpoints[0]: 'name' is required",
            "`endpoints:\n  - {name: a, adress: 10.0.0.1, port: 80}`|endpoints[0] (a): unknown field 'adress' (known: address, labels, name, namespace, port)",
            "`endpoints:\n  - {name: a, address: 10.0.0.1, port: 80, labels: [x]}`|endpoints[0] (a): 'labels' must be a mapping, got a list",
            "`endpoint: []`|unknown field 'endpoint' (known: endpoints)",
            "`endpoints: {name: a}`|'endpoints' must be a list, got a mapping",
            "`- a`|expected a mapping with 'endpoints', got a list",
            "` `|the file is empty (write 'endpoints: []' for an empty pool)"})
    void badFileFailsTheStartNamingTheProblem(String content, String problem) throws Exception {
        Path file = write(content);
        FileDiscovery discovery = FileDiscovery.builder().path(file).build();
        assertThatThrownBy(() -> discovery.start(datastore))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("file-discovery: " + file + ": " + problem);
        assertThat(datastore.synced()).isFalse();
        assertThat(datastore.endpoints()).isEmpty();
    }

    @Test
    void unreadableOrHugeOrMalformedFileFailsTheStart() throws Exception {
        Path missing = directory.resolve("missing.yaml");
        assertThatThrownBy(() -> FileDiscovery.builder().path(missing).build().start(datastore))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("file-discovery: cannot read " + missing + ": no such file");

        Path huge = write("endpoints: []\n#" + "x".repeat(1 << 20));
        assertThatThrownBy(() -> FileDiscovery.builder().path(huge).build().start(datastore))
                .hasMessage("file-discovery: " + huge + ": the file is larger than 1 MiB (1048577 bytes)");

        Path malformed = write("endpoints: [\n");
        assertThatThrownBy(() -> FileDiscovery.builder().path(malformed).build().start(datastore))
                .hasMessageStartingWith("file-discovery: " + malformed + ": not valid YAML or JSON: ");
    }

    @Test
    void factoryParameters() throws Exception {
        Path file = write(TWO);
        FileDiscovery discovery = (FileDiscovery) FileDiscovery.FACTORY.create("files",
                JSON.readTree("{\"path\": \"" + file + "\"}"), null);
        assertThat(discovery.typedName().type()).isEqualTo("file-discovery");
        assertThat(discovery.typedName().name()).isEqualTo("files");
        assertThat(discovery.path()).isEqualTo(file);
        assertThat(discovery.watchFile()).isFalse();

        assertThatThrownBy(() -> FileDiscovery.FACTORY.create("files", JSON.readTree("{}"), null))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'files': 'path' parameter is required");
        assertThatThrownBy(() -> FileDiscovery.FACTORY.create("files",
                JSON.readTree("{\"path\": \"x\", \"watch\": true}"), null))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown parameter 'watch'");
    }

    @Test
    void reloadAddsRemovesAndUpdates() throws Exception {
        Path file = write(TWO);
        FileDiscovery discovery = start(file, true);
        assertThat(names()).containsExactly("default/vllm-0", "inference/vllm-1");

        write("""
                endpoints:
                  - {name: vllm-0, address: 10.0.0.1, port: "8000", labels: {model: llama-3-70b}}
                  - {name: vllm-2, address: 10.0.0.3, port: "8000"}
                """);

        await("reload in place", () -> names().equals(List.of("default/vllm-0", "default/vllm-2")));
        assertThat(datastore.endpoint(new EndpointKey("default", "vllm-0")).orElseThrow().metadata().labels())
                .containsEntry("model", "llama-3-70b");
        assertThat(discovery.endpoints()).hasSize(2);

        replace(file, "endpoints:\n  - {name: vllm-3, address: 10.0.0.4, port: \"8000\"}\n");

        await("reload after rename over the file", () -> names().equals(List.of("default/vllm-3")));
        assertThat(discovery.lastError()).isEmpty();
    }

    @Test
    void badOrMissingFileOnReloadKeepsThePreviousEndpoints() throws Exception {
        Path file = write(TWO);
        FileDiscovery discovery = start(file, true);

        replace(file, "endpoints:\n  - {name: vllm-9, address: not-an-ip, port: \"8000\"}\n");
        await("the bad file is seen", () -> discovery.lastError().isPresent());
        assertThat(discovery.lastError()).contains("endpoints[0] (vllm-9): invalid IP address 'not-an-ip' "
                + "(names are not resolved)");
        assertThat(names()).containsExactly("default/vllm-0", "inference/vllm-1");

        Files.delete(file);
        await("the missing file is seen", () -> discovery.lastError().equals(java.util.Optional.of("the file is missing")));
        assertThat(names()).containsExactly("default/vllm-0", "inference/vllm-1");

        replace(file, "endpoints: []\n");
        await("recovery", () -> datastore.endpoints().isEmpty());
        assertThat(discovery.lastError()).isEmpty();
    }

    @Test
    void configMapStyleSymlinkSwap() throws Exception {
        // A ConfigMap volume: endpoints.yaml -> ..data/endpoints.yaml, ..data -> ..<version>, swapped by rename.
        Path first = Files.createDirectory(directory.resolve("..v1"));
        Files.writeString(first.resolve("endpoints.yaml"), TWO);
        Files.createSymbolicLink(directory.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(directory.resolve("endpoints.yaml"), Path.of("..data/endpoints.yaml"));
        start(file, true);
        assertThat(names()).hasSize(2);

        Path second = Files.createDirectory(directory.resolve("..v2"));
        Files.writeString(second.resolve("endpoints.yaml"),
                "endpoints:\n  - {name: swapped, address: 10.0.0.9, port: \"8000\"}\n");
        Path link = Files.createSymbolicLink(directory.resolve("..data_tmp"), second.getFileName());
        Files.move(link, directory.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);

        await("reload after the swap", () -> names().equals(List.of("default/swapped")));
    }

    @Test
    void startsOnlyOnce() throws Exception {
        FileDiscovery discovery = start(write(TWO), false);
        assertThatThrownBy(() -> discovery.start(datastore)).isInstanceOf(IllegalStateException.class);
    }
}
