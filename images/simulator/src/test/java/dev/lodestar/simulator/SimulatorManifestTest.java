package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The simulator Deployment of config/manifests runs with flags the simulator accepts, serving what the pool and the
 * example objects expect. (In the simulator's package: the command-line loader is package-private.)
 */
class SimulatorManifestTest {
    @Test
    void deploymentArgsAreAcceptedAndServeThePool() throws Exception {
        String repo = System.getProperty("lodestar.repo", "../..");
        Path file = Path.of(repo, "config/manifests/base/simulator.yaml");
        JsonNode deployment;
        try (MappingIterator<JsonNode> documents = new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class)
                .readValues(file.toFile())) {
            deployment = documents.next();
        }
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));

        FleetConfigLoader.Loaded loaded = FleetConfigLoader.load(args.toArray(String[]::new));

        assertThat(loaded.servers()).hasSize(1);
        SimulatorConfig config = loaded.servers().get(0);
        assertThat(config.port()).isEqualTo(container.at("/ports/0/containerPort").asInt()).isEqualTo(8000);
        assertThat(config.host()).isEqualTo("0.0.0.0");
        assertThat(config.model()).isEqualTo("Qwen/Qwen3-32B");
        assertThat(config.maxLoras()).isEqualTo(2);
        assertThat(config.loraModules()).extracting(SimulatorConfig.LoraModule::name).containsExactly("food-review-1");
        assertThat(container.path("image").asText()).isEqualTo("lodestar-simulator:dev");
        // The pod's name and namespace reach the simulator's x-inference-pod / x-inference-namespace headers.
        List<String> env = new ArrayList<>();
        container.path("env").forEach(e -> env.add(e.path("name").asText() + "=" + e.at("/valueFrom/fieldRef/fieldPath").asText()));
        assertThat(env).contains("POD_NAME=metadata.name", "POD_NAMESPACE=metadata.namespace");
    }
}
