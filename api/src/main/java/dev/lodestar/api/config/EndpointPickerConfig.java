package dev.lodestar.api.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Optional;

/**
 * The EPP's configuration file ({@code kind: EndpointPickerConfig}), as GIE v1.5.0 and llm-d Router
 * define it. Decoded strictly by {@link EndpointPickerConfigs}: an unknown field is an error.
 *
 * @param apiVersion         {@code inference.networking.x-k8s.io/v1alpha1} or {@code llm-d.ai/v1alpha1}
 * @param kind               {@code EndpointPickerConfig}
 * @param featureGates       e.g. {@code flowControl}, {@code enableLegacyMetrics}, {@code dataLayer}
 * @param plugins            plugin instances; a missing name defaults to the type
 * @param schedulingProfiles profiles naming plugins with optional weights
 * @param saturationDetector the detector used by admission; default {@code utilization-detector}
 * @param dataLayer          metrics sources and endpoint discovery
 * @param flowControl        flow-control settings, kept as raw JSON until flow control exists
 * @param parser             the request parser (GIE); default {@code openai-parser}
 * @param requestHandler     the request parsers (llm-d Router)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EndpointPickerConfig(String apiVersion,
                                   String kind,
                                   List<String> featureGates,
                                   List<PluginSpec> plugins,
                                   List<SchedulingProfile> schedulingProfiles,
                                   PluginRef saturationDetector,
                                   DataLayer dataLayer,
                                   JsonNode flowControl,
                                   PluginRef parser,
                                   RequestHandler requestHandler) {

    public EndpointPickerConfig {
        featureGates = featureGates == null ? List.of() : List.copyOf(featureGates);
        plugins = plugins == null ? List.of() : List.copyOf(plugins);
        schedulingProfiles = schedulingProfiles == null ? List.of() : List.copyOf(schedulingProfiles);
    }

    public Optional<PluginRef> saturationDetectorRef() {
        return Optional.ofNullable(saturationDetector);
    }

    public Optional<DataLayer> dataLayerConfig() {
        return Optional.ofNullable(dataLayer);
    }

    public Optional<PluginRef> parserRef() {
        return Optional.ofNullable(parser);
    }

    public Optional<RequestHandler> requestHandlerConfig() {
        return Optional.ofNullable(requestHandler);
    }

    /**
     * One plugin instance.
     *
     * @param name       instance name, unique in the file; defaults to {@code type}
     * @param type       registered plugin type, e.g. {@code queue-scorer}
     * @param parameters the plugin's own parameters, decoded by the plugin (strictly)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PluginSpec(String name, String type, JsonNode parameters) {
        /** The instance name: {@code name}, or the type when no name is given. */
        public String effectiveName() {
            return name == null || name.isEmpty() ? type : name;
        }
    }

    /** A scheduling profile: filters, weighted scorers and one picker, by plugin name. */
    public record SchedulingProfile(String name, List<ProfilePlugin> plugins) {
        public SchedulingProfile {
            plugins = plugins == null ? List.of() : List.copyOf(plugins);
        }
    }

    /** A plugin used by a profile; {@code weight} matters for scorers only (default 1.0). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ProfilePlugin(String pluginRef, Double weight) {
        public Optional<Double> weightValue() {
            return Optional.ofNullable(weight);
        }
    }

    /** A reference to a plugin instance by name. */
    public record PluginRef(String pluginRef) {
    }

    /**
     * Data-layer section ({@code dataLayer}).
     *
     * @param injectDefaults llm-d Router: whether missing default sources are added (default true)
     * @param sources        metrics sources, each with its extractors; {@code []} disables collection
     * @param discovery      llm-d Router: the plugin that discovers endpoints (e.g. {@code file-discovery})
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DataLayer(Boolean injectDefaults, List<Source> sources, PluginRef discovery) {
        public Optional<List<Source>> sourceList() {
            return Optional.ofNullable(sources);
        }

        public Optional<PluginRef> discoveryRef() {
            return Optional.ofNullable(discovery);
        }
    }

    /** A data source and the extractors fed by it. */
    public record Source(String pluginRef, List<PluginRef> extractors) {
        public Source {
            extractors = extractors == null ? List.of() : List.copyOf(extractors);
        }
    }

    /** llm-d Router's request-handler section: the parsers to try. */
    public record RequestHandler(List<PluginRef> parsers) {
        public RequestHandler {
            parsers = parsers == null ? List.of() : List.copyOf(parsers);
        }
    }
}
