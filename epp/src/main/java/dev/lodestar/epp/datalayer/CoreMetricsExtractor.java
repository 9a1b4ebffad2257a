package dev.lodestar.epp.datalayer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads a model server's metrics into {@link EndpointMetrics}, with the metric names of the endpoint's
 * engine: the pod label {@code engineLabelKey} names it, {@code defaultEngine} serves pods without the label
 * or with an unknown engine. Built-in engines ({@link EngineConfig#BUILT_IN}) are known unless an
 * {@code engineConfigs} entry of the same name replaces one, completely.
 */
public final class CoreMetricsExtractor implements Plugin {
    public static final String TYPE = "core-metrics-extractor";
    public static final String DEFAULT_ENGINE_LABEL_KEY = "inference.networking.k8s.io/engine-type";
    public static final String DEFAULT_ENGINE = "vllm";
    /** Upstream's registry key of the fallback mapping, so no engine may be called this. */
    static final String RESERVED_ENGINE_NAME = "default";

    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        Params params = PluginParameters.decode(name, parameters, Params.class);
        try {
            return new CoreMetricsExtractor(name, params);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("plugin '" + name + "': " + e.getMessage(), e);
        }
    };

    /**
     * @param engineLabelKey the pod label naming the engine (default {@value #DEFAULT_ENGINE_LABEL_KEY})
     * @param defaultEngine  the engine of pods without that label (default {@value #DEFAULT_ENGINE})
     * @param engineConfigs  engines added, or replacing a built-in one of the same name
     */
    public record Params(String engineLabelKey, String defaultEngine, List<EngineConfig> engineConfigs) {
        public Params {
            engineLabelKey = engineLabelKey == null || engineLabelKey.isBlank() ? DEFAULT_ENGINE_LABEL_KEY
                    : engineLabelKey.trim();
            defaultEngine = defaultEngine == null || defaultEngine.isBlank() ? DEFAULT_ENGINE : defaultEngine.trim();
            engineConfigs = engineConfigs == null ? List.of() : List.copyOf(engineConfigs);
        }
    }

    private final TypedName typedName;
    private final String engineLabelKey;
    private final Map<String, EngineMapping> mappings;
    private final EngineMapping defaultMapping;

    /**
     * @throws IllegalArgumentException for an unnamed, reserved or repeated engine, an unknown default
     *                                  engine or a spec that does not parse
     */
    public CoreMetricsExtractor(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.engineLabelKey = params.engineLabelKey();
        List<EngineConfig> engines = new ArrayList<>();
        Set<String> configured = new HashSet<>();
        for (EngineConfig engine : params.engineConfigs()) {
            if (engine.name().isEmpty()) {
                throw new IllegalArgumentException("engineConfigs: an engine config has no name");
            }
            if (engine.name().equals(RESERVED_ENGINE_NAME)) {
                throw new IllegalArgumentException("engineConfigs: engine name '" + RESERVED_ENGINE_NAME
                        + "' is reserved");
            }
            if (!configured.add(engine.name())) {
                throw new IllegalArgumentException("engineConfigs: engine '" + engine.name() + "' is defined twice");
            }
            engines.add(engine);
        }
        for (EngineConfig builtIn : EngineConfig.BUILT_IN) {
            if (!configured.contains(builtIn.name())) {
                engines.add(builtIn);
            }
        }
        Map<String, EngineMapping> compiled = new LinkedHashMap<>();
        for (EngineConfig engine : engines) {
            compiled.put(engine.name(), EngineMapping.compile(engine));
        }
        this.mappings = Map.copyOf(compiled);
        this.defaultMapping = compiled.get(params.defaultEngine());
        if (defaultMapping == null) {
            throw new IllegalArgumentException("defaultEngine '" + params.defaultEngine()
                    + "' is not an engine (known: " + String.join(", ", compiled.keySet()) + ")");
        }
    }

    /** An extractor with upstream's defaults: built-in engines, vLLM for unlabelled pods. */
    public static CoreMetricsExtractor create() {
        return new CoreMetricsExtractor(TYPE, new Params(null, null, null));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public String engineLabelKey() {
        return engineLabelKey;
    }

    /** The engines this extractor knows, by name. */
    public Map<String, EngineMapping> engines() {
        return mappings;
    }

    /** The mapping for an endpoint: its engine label's, else the default engine's. */
    public EngineMapping mappingFor(EndpointMetadata endpoint) {
        String engine = endpoint.labels().get(engineLabelKey);
        if (engine == null || engine.isEmpty()) {
            return defaultMapping;
        }
        return mappings.getOrDefault(engine, defaultMapping);
    }

    /**
     * Parses a {@code /metrics} body (keeping only the series the endpoint's engine reads) and extracts it.
     *
     * @throws PrometheusFormatException when the body is not valid exposition text
     */
    public Extraction extract(byte[] body, EndpointMetadata endpoint, EndpointMetrics previous, Instant scrapeTime) {
        return extract(body, 0, body.length, endpoint, previous, scrapeTime);
    }

    /** As {@link #extract(byte[], EndpointMetadata, EndpointMetrics, Instant)}, for a range of a buffer. */
    public Extraction extract(byte[] body, int offset, int length, EndpointMetadata endpoint, EndpointMetrics previous,
                              Instant scrapeTime) {
        EngineMapping mapping = mappingFor(endpoint);
        return mapping.extract(mapping.parser().parse(body, offset, length), previous, scrapeTime);
    }

    /** Extracts an already parsed scrape. */
    public Extraction extract(MetricFamilies families, EndpointMetadata endpoint, EndpointMetrics previous,
                              Instant scrapeTime) {
        Objects.requireNonNull(families, "families");
        return mappingFor(endpoint).extract(families, previous, scrapeTime);
    }
}
