package dev.lodestar.api.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndpointPickerConfigsTest {
    @Test
    void readsGiesMinimalExample() {
        EndpointPickerConfig config = EndpointPickerConfigs.parse("""
                apiVersion: inference.networking.x-k8s.io/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                - type: queue-scorer
                - type: kv-cache-utilization-scorer
                - type: prefix-cache-scorer
                  parameters: {blockSizeTokens: 16, maxPrefixBlocksToMatch: 256, lruCapacityPerServer: 31250}
                schedulingProfiles:
                - name: default
                  plugins:
                  - {pluginRef: queue-scorer, weight: 2}
                  - {pluginRef: kv-cache-utilization-scorer, weight: 2}
                  - {pluginRef: prefix-cache-scorer, weight: 3}
                """);
        assertThat(config.plugins()).extracting(EndpointPickerConfig.PluginSpec::effectiveName)
                .containsExactly("queue-scorer", "kv-cache-utilization-scorer", "prefix-cache-scorer");
        assertThat(config.plugins().get(2).parameters().get("blockSizeTokens").asInt()).isEqualTo(16);
        assertThat(config.schedulingProfiles().get(0).plugins().get(2).weightValue()).contains(3.0);
        assertThat(config.dataLayerConfig()).isEmpty();
    }

    @Test
    void readsLlmdRoutersVersionWithDiscoveryAndParsers() {
        EndpointPickerConfig config = EndpointPickerConfigs.parse("""
                apiVersion: llm-d.ai/v1alpha1
                kind: EndpointPickerConfig
                featureGates: [dataLayer]
                plugins:
                - name: endpoints
                  type: file-discovery
                  parameters: {path: /etc/endpoints.yaml, watchFile: true}
                dataLayer:
                  discovery: {pluginRef: endpoints}
                  sources: []
                requestHandler:
                  parsers: [{pluginRef: openai-parser}]
                """);
        assertThat(config.dataLayer().discoveryRef()).contains(new EndpointPickerConfig.PluginRef("endpoints"));
        assertThat(config.dataLayer().sourceList()).contains(java.util.List.of());
        assertThat(config.requestHandler().parsers()).hasSize(1);
        assertThat(config.featureGates()).containsExactly("dataLayer");
    }

    @Test
    void unknownFieldsAreErrorsNamingTheFieldAndItsPlace() {
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("""
                plugins:
                - type: queue-scorer
                  weight: 2
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("unknown field 'weight' at plugins[0] (known: name, parameters, type)");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("schedulingProfile: []"))
                .hasMessageStartingWith("unknown field 'schedulingProfile' at the top level (known: apiVersion, ");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("dataLayer: {sources: [{pluginRef: a, extractor: []}]}"))
                .hasMessageStartingWith("unknown field 'extractor' at dataLayer.sources[0]"
                        + " (known: extractors, pluginRef)");
    }

    @Test
    void wrongApiVersionKindOrSyntaxIsRefused() {
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("apiVersion: v1\nkind: EndpointPickerConfig"))
                .hasMessageContaining("apiVersion 'v1' is not supported");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("kind: ConfigMap"))
                .hasMessageContaining("kind must be EndpointPickerConfig");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("plugins: [ {type: a"))
                .hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("plugins: 5"))
                .hasMessageContaining("invalid value at plugins");
        assertThatThrownBy(() -> EndpointPickerConfigs.parse("  ")).hasMessageContaining("empty");
    }
}
