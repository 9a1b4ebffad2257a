package dev.lodestar.epp.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.lodestar.api.config.EndpointPickerConfig;
import dev.lodestar.api.config.EndpointPickerConfig.PluginRef;
import dev.lodestar.api.config.EndpointPickerConfig.PluginSpec;
import dev.lodestar.api.config.EndpointPickerConfig.ProfilePlugin;
import dev.lodestar.api.config.EndpointPickerConfigs;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.datalayer.CoreMetricsExtractor;
import dev.lodestar.epp.datalayer.MetricsDataSource;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.ProducerPlugin;
import dev.lodestar.epp.framework.requestcontrol.AdmissionPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.Picker;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import dev.lodestar.epp.plugins.prefixscorer.PrefixCacheScorer;
import dev.lodestar.epp.spi.PoolSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Builds the EPP's plugins from an {@code EndpointPickerConfig}, applying GIE v1.5.0's defaults
 * (gie.md §3.5):
 * <ul>
 *   <li>no configuration: queue-scorer (weight 2), kv-cache-utilization-scorer (2) and
 *       prefix-cache-scorer (3) in a profile named {@code default}, with the default data layer;</li>
 *   <li>a plugin's name defaults to its type; duplicate names and unknown types are errors (the message
 *       lists the known types);</li>
 *   <li>a {@code prefix-cache-scorer} without an {@code approx-prefix-cache-producer} gets one with the
 *       same parameters;</li>
 *   <li>no profiles: one {@code default} profile with every filter, scorer and picker;</li>
 *   <li>one profile and no profile handler: {@code single-profile-handler}; a profile without a picker:
 *       a shared {@code max-score-picker}; a scorer without a weight: 1.0;</li>
 *   <li>parser {@code openai-parser}, saturation detector {@code utilization-detector}, data layer
 *       {@code metrics-data-source} + {@code core-metrics-extractor}, unless configured: a {@code dataLayer}
 *       without {@code sources} gets the default source unless llm-d's {@code injectDefaults} is false;
 *       {@code sources: []} means no metrics collection.</li>
 *   <li>a single-profile-handler with several profiles, a scorer weight that is negative or not finite, and
 *       data-layer references to plugins that are not metrics sources or extractors are errors.</li>
 * </ul>
 * Request-control plugins (data producers, admission, pre-request, response hooks) are every instance
 * implementing the interface; data producers run in the order their produced and consumed keys require.
 */
public final class ConfigLoader {
    private static final java.util.logging.Logger LOGGER =
            java.util.logging.Logger.getLogger(ConfigLoader.class.getName());

    static final String DEFAULT_PROFILE = "default";
    static final String SINGLE_PROFILE_HANDLER = "single-profile-handler";
    static final String MAX_SCORE_PICKER = "max-score-picker";
    static final String OPENAI_PARSER = "openai-parser";
    static final String UTILIZATION_DETECTOR = "utilization-detector";
    static final String METRICS_DATA_SOURCE = "metrics-data-source";
    static final String CORE_METRICS_EXTRACTOR = "core-metrics-extractor";
    static final String PREFIX_CACHE_SCORER = "prefix-cache-scorer";
    static final String QUEUE_SCORER = "queue-scorer";
    static final String KV_CACHE_UTILIZATION_SCORER = "kv-cache-utilization-scorer";

    /** Feature gates GIE v1.5.0 defines; {@code flowControl} is recognised but not yet supported. */
    static final Set<String> KNOWN_FEATURE_GATES = Set.of("dataLayer", "enableLegacyMetrics", "flowControl");

    private final PluginRegistry registry;
    private final Supplier<List<EndpointMetadata>> endpoints;
    private final PluginTimer timer;

    public ConfigLoader(PluginRegistry registry, Supplier<List<EndpointMetadata>> endpoints, PluginTimer timer) {
        this.registry = registry;
        this.endpoints = endpoints;
        this.timer = timer;
    }

    /**
     * Loads a configuration text ({@code --config-text} or the file's content); empty means the defaults.
     *
     * @throws InvalidConfigException naming what is wrong
     */
    public EppConfig load(Optional<String> text) {
        EndpointPickerConfig raw = text.filter(t -> !t.isBlank())
                .map(EndpointPickerConfigs::parse)
                .orElseGet(ConfigLoader::defaultConfig);
        return build(raw);
    }

    /**
     * The configuration text the flags give: {@code --config-text}, else the content of {@code --config-file},
     * else none (the defaults). Upstream rejects both together, and so do we.
     *
     * @throws InvalidConfigException when both are given or the file cannot be read
     */
    public static Optional<String> configText(Optional<Path> configFile, Optional<String> configText) {
        if (configFile.isPresent() && configText.isPresent()) {
            throw new InvalidConfigException("--config-file and --config-text are mutually exclusive");
        }
        if (configText.isPresent()) {
            return configText;
        }
        if (configFile.isEmpty()) {
            return Optional.empty();
        }
        Path file = configFile.get();
        try {
            return Optional.of(Files.readString(file));
        } catch (IOException e) {
            throw new InvalidConfigException("cannot read --config-file " + file + ": " + e.getMessage(), e);
        }
    }

    /** GIE's built-in configuration, used when none is given. */
    public static EndpointPickerConfig defaultConfig() {
        return new EndpointPickerConfig(EndpointPickerConfigs.API_VERSIONS.stream().sorted().toList().get(0),
                EndpointPickerConfigs.KIND, List.of(),
                List.of(spec(QUEUE_SCORER), spec(KV_CACHE_UTILIZATION_SCORER), spec(PREFIX_CACHE_SCORER),
                        spec(METRICS_DATA_SOURCE), spec(CORE_METRICS_EXTRACTOR)),
                List.of(new EndpointPickerConfig.SchedulingProfile(DEFAULT_PROFILE, List.of(
                        new ProfilePlugin(QUEUE_SCORER, 2.0),
                        new ProfilePlugin(KV_CACHE_UTILIZATION_SCORER, 2.0),
                        new ProfilePlugin(PREFIX_CACHE_SCORER, 3.0)))),
                null, defaultDataLayer(), null, null, null);
    }

    EppConfig build(EndpointPickerConfig raw) {
        Set<String> gates = featureGates(raw.featureGates());
        Handle handle = new Handle(endpoints);
        List<PluginSpec> specs = new ArrayList<>();
        for (PluginSpec spec : raw.plugins()) {
            specs.add(new PluginSpec(spec.effectiveName(), spec.type(), spec.parameters()));
        }
        instantiate(specs, handle);

        List<EndpointPickerConfig.SchedulingProfile> profiles = new ArrayList<>(raw.schedulingProfiles());
        if (profiles.isEmpty()) {
            List<ProfilePlugin> refs = new ArrayList<>();
            handle.instances.forEach((name, plugin) -> {
                if (plugin instanceof Filter || plugin instanceof Scorer || plugin instanceof Picker) {
                    refs.add(new ProfilePlugin(name, null));
                }
            });
            profiles.add(new EndpointPickerConfig.SchedulingProfile(DEFAULT_PROFILE, refs));
        }
        if (profiles.size() == 1 && handle.ofType(ProfileHandler.class).isEmpty()) {
            addDefault(specs, handle, SINGLE_PROFILE_HANDLER);
        }
        String picker = handle.ofType(Picker.class).keySet().stream().findFirst()
                .orElseGet(() -> addDefault(specs, handle, MAX_SCORE_PICKER));
        List<EndpointPickerConfig.SchedulingProfile> effectiveProfiles = new ArrayList<>();
        Set<String> profileNames = new HashSet<>();
        for (EndpointPickerConfig.SchedulingProfile profile : profiles) {
            EndpointPickerConfig.SchedulingProfile effectiveProfile = withDefaults(profile, handle, picker);
            if (!profileNames.add(effectiveProfile.name())) {
                throw new InvalidConfigException("duplicate scheduling profile name '" + profile.name() + "'");
            }
            effectiveProfiles.add(effectiveProfile);
        }

        PluginRef parserRef = raw.parserRef()
                .or(() -> raw.requestHandlerConfig().flatMap(h -> h.parsers().stream().findFirst()))
                .orElse(new PluginRef(OPENAI_PARSER));
        if (!handle.instances.containsKey(parserRef.pluginRef()) && parserRef.pluginRef().equals(OPENAI_PARSER)) {
            addDefault(specs, handle, OPENAI_PARSER);
        }
        PluginRef detectorRef = raw.saturationDetectorRef()
                .filter(ref -> ref.pluginRef() != null && !ref.pluginRef().isEmpty())
                .orElse(new PluginRef(UTILIZATION_DETECTOR));
        if (!handle.instances.containsKey(detectorRef.pluginRef()) && detectorRef.pluginRef().equals(UTILIZATION_DETECTOR)) {
            addDefault(specs, handle, UTILIZATION_DETECTOR);
        }
        EndpointPickerConfig.DataLayer dataLayer = raw.dataLayer();
        if (dataLayer == null || dataLayer.sources() == null) {
            // llm-d's dataLayer.injectDefaults: false leaves the sources empty (no metrics collection)
            boolean injectDefaults = dataLayer == null || !Boolean.FALSE.equals(dataLayer.injectDefaults());
            if (injectDefaults && !handle.instances.containsKey(METRICS_DATA_SOURCE)) {
                addDefault(specs, handle, METRICS_DATA_SOURCE);
            }
            if (injectDefaults && !handle.instances.containsKey(CORE_METRICS_EXTRACTOR)) {
                addDefault(specs, handle, CORE_METRICS_EXTRACTOR);
            }
            dataLayer = new EndpointPickerConfig.DataLayer(dataLayer == null ? null : dataLayer.injectDefaults(),
                    injectDefaults ? defaultDataLayer().sources() : List.of(),
                    dataLayer == null ? null : dataLayer.discovery());
        }

        Scheduler scheduler = scheduler(effectiveProfiles, handle);
        Parser parser = handle.require(parserRef.pluginRef(), Parser.class, "parser");
        SaturationDetector detector = handle.require(detectorRef.pluginRef(), SaturationDetector.class,
                "saturationDetector");
        List<EppConfig.DataSource> sources = new ArrayList<>();
        for (EndpointPickerConfig.Source source : dataLayer.sources()) {
            Plugin sourcePlugin = handle.require(source.pluginRef(), MetricsDataSource.class, "dataLayer.sources");
            List<Plugin> extractors = new ArrayList<>();
            for (PluginRef extractor : source.extractors()) {
                extractors.add(handle.require(extractor.pluginRef(), CoreMetricsExtractor.class,
                        "dataLayer.sources[" + source.pluginRef() + "].extractors"));
            }
            sources.add(new EppConfig.DataSource(sourcePlugin, extractors));
        }
        Optional<PoolSource> discovery = dataLayer.discoveryRef()
                .map(ref -> handle.require(ref.pluginRef(), PoolSource.class, "dataLayer.discovery"));

        EndpointPickerConfig effective = new EndpointPickerConfig(raw.apiVersion(), raw.kind(),
                List.copyOf(gates), specs, effectiveProfiles, detectorRef, dataLayer, raw.flowControl(),
                parserRef, raw.requestHandler());
        Map<String, Plugin> plugins = Collections.unmodifiableMap(new LinkedHashMap<>(handle.instances));
        return new EppConfig(effective, plugins, scheduler, parser, detector,
                dataProducersInOrder(handle), List.copyOf(handle.ofType(AdmissionPlugin.class).values()),
                List.copyOf(handle.ofType(PreRequestPlugin.class).values()),
                List.copyOf(handle.ofType(ResponseHeaderPlugin.class).values()),
                List.copyOf(handle.ofType(ResponseBodyPlugin.class).values()),
                List.copyOf(sources), discovery, Set.copyOf(gates));
    }

    private static Set<String> featureGates(List<String> gates) {
        Set<String> enabled = new LinkedHashSet<>();
        for (String gate : gates) {
            if (!KNOWN_FEATURE_GATES.contains(gate)) {
                throw new InvalidConfigException("feature gate '" + gate + "' is unknown; known gates: "
                        + KNOWN_FEATURE_GATES.stream().sorted().toList());
            }
            if (gate.equals("flowControl")) {
                throw new InvalidConfigException("feature gate 'flowControl' is not supported by Lodestar yet; "
                        + "remove it to use legacy admission (priority < 0 is shed when the pool is saturated)");
            }
            enabled.add(gate);
        }
        return enabled;
    }

    private void instantiate(List<PluginSpec> specs, Handle handle) {
        Map<String, PluginSpec> byName = new LinkedHashMap<>();
        for (PluginSpec spec : specs) {
            if (spec.type() == null || spec.type().isEmpty()) {
                throw new InvalidConfigException("plugin '" + spec.name() + "' is missing a type");
            }
            if (byName.putIfAbsent(spec.name(), spec) != null) {
                throw new InvalidConfigException("duplicate plugin name '" + spec.name() + "'");
            }
        }
        // A factory may look up a plugin declared later in the file (upstream orders instantiation by such
        // references, e.g. a profile handler's deciders); the handle then creates it on demand.
        handle.pending(byName, spec -> create(spec.type(), spec.name(), spec.parameters(), handle));
        for (PluginSpec spec : specs) {
            handle.ensure(spec.name());
        }
        handle.inFileOrder(byName.keySet());
        PrefixCacheScorer.missingDefaultProducer(List.copyOf(handle.instances.values()), handle)
                .or(() -> missingDefaultPrefixProducer(handle))
                .ifPresent(producer -> handle.add(producer.typedName().name(), producer));
    }

    /**
     * Upstream creates a missing data producer: when a plugin other than a prefix-cache-scorer (e.g. the
     * {@code prefix-based-pd-decider}) reads the default approximate prefix producer's match info and none
     * is configured, one with the default parameters.
     */
    private static Optional<ApproxPrefixCacheProducer> missingDefaultPrefixProducer(Handle handle) {
        String key = PrefixCacheMatchInfo.key(PrefixCacheMatchInfo.DEFAULT_PRODUCER).name();
        boolean produced = handle.instances.values().stream()
                .anyMatch(plugin -> plugin instanceof ProducerPlugin producer && producer.produces().contains(key));
        boolean consumed = handle.instances.values().stream()
                .anyMatch(plugin -> plugin instanceof ConsumerPlugin consumer && consumer.consumes().contains(key));
        if (produced || !consumed || handle.instances.containsKey(ApproxPrefixCacheProducer.TYPE)) {
            return Optional.empty();
        }
        return Optional.of(ApproxPrefixCacheProducer.create(ApproxPrefixCacheProducer.TYPE,
                ApproxPrefixCacheProducer.Params.DEFAULTS, handle));
    }

    private Plugin create(String type, String name, JsonNode parameters, Handle handle) {
        PluginFactory factory = registry.factory(type).orElseThrow(() -> new InvalidConfigException(
                "plugin '" + name + "' has unknown type '" + type + "'; known types: " + registry.types()));
        try {
            return factory.create(name, parameters == null ? MissingNode.getInstance() : parameters, handle);
        } catch (InvalidConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InvalidConfigException("failed to create plugin '" + name + "' (type " + type + "): "
                    + e.getMessage(), e);
        }
    }

    private String addDefault(List<PluginSpec> specs, Handle handle, String type) {
        handle.add(type, create(type, type, null, handle));
        specs.add(new PluginSpec(type, type, null));
        return type;
    }

    private static EndpointPickerConfig.SchedulingProfile withDefaults(EndpointPickerConfig.SchedulingProfile profile,
                                                                       Handle handle, String defaultPicker) {
        if (profile.name() == null || profile.name().isEmpty()) {
            throw new InvalidConfigException("a scheduling profile is missing a name");
        }
        List<ProfilePlugin> plugins = new ArrayList<>();
        boolean hasPicker = false;
        for (int i = 0; i < profile.plugins().size(); i++) {
            ProfilePlugin ref = profile.plugins().get(i);
            if (ref.pluginRef() == null || ref.pluginRef().isEmpty()) {
                throw new InvalidConfigException("schedulingProfiles[" + profile.name() + "].plugins[" + i
                        + "] is missing a 'pluginRef'");
            }
            Plugin plugin = handle.instances.get(ref.pluginRef());
            if (plugin == null) {
                throw new InvalidConfigException("schedulingProfiles[" + profile.name()
                        + "] references undefined plugin '" + ref.pluginRef() + "'");
            }
            Double weight = ref.weight();
            if (plugin instanceof Scorer && weight == null) {
                weight = 1.0;
            }
            if (plugin instanceof Scorer && (!(weight >= 0) || weight.isInfinite())) {
                throw new InvalidConfigException("schedulingProfiles[" + profile.name() + "] gives scorer '"
                        + ref.pluginRef() + "' weight " + weight + "; a weight must be a finite number >= 0");
            }
            hasPicker |= plugin instanceof Picker;
            plugins.add(new ProfilePlugin(ref.pluginRef(), weight));
        }
        if (!hasPicker) {
            plugins.add(new ProfilePlugin(defaultPicker, null));
        }
        return new EndpointPickerConfig.SchedulingProfile(profile.name(), plugins);
    }

    private Scheduler scheduler(List<EndpointPickerConfig.SchedulingProfile> profiles, Handle handle) {
        Map<String, ProfileHandler> handlers = handle.ofType(ProfileHandler.class);
        if (handlers.isEmpty()) {
            throw new InvalidConfigException("no profile handler: with " + profiles.size()
                    + " scheduling profiles, configure one (e.g. " + SINGLE_PROFILE_HANDLER + ")");
        }
        if (handlers.size() > 1) {
            throw new InvalidConfigException("only one profile handler may be configured, found " + handlers.keySet());
        }
        ProfileHandler handler = handlers.values().iterator().next();
        if (handler.typedName().type().equals(SINGLE_PROFILE_HANDLER) && profiles.size() > 1) {
            throw new InvalidConfigException("profile handler '" + handler.typedName().name() + "' ("
                    + SINGLE_PROFILE_HANDLER + ") supports one scheduling profile, but " + profiles.size()
                    + " are configured; configure a profile handler for several profiles");
        }
        Map<String, SchedulerProfile> built = new LinkedHashMap<>();
        for (EndpointPickerConfig.SchedulingProfile profile : profiles) {
            List<Filter> filters = new ArrayList<>();
            List<WeightedScorer> scorers = new ArrayList<>();
            Picker picker = null;
            for (ProfilePlugin ref : profile.plugins()) {
                Plugin plugin = handle.instances.get(ref.pluginRef());
                boolean used = false;
                if (plugin instanceof Filter filter) {
                    filters.add(filter);
                    used = true;
                }
                if (plugin instanceof Scorer scorer) {
                    scorers.add(new WeightedScorer(scorer, ref.weightValue().orElse(1.0)));
                    used = true;
                }
                if (plugin instanceof Picker candidate) {
                    if (picker != null) {
                        throw new InvalidConfigException("scheduling profile '" + profile.name()
                                + "' has more than one picker: " + picker.typedName().name() + ", " + ref.pluginRef());
                    }
                    picker = candidate;
                    used = true;
                }
                if (!used) {
                    // GIE ignores such entries (its own request-attribute-reporter example lists the parser and
                    // the reporter in a profile); we accept the configuration too, but say so.
                    LOGGER.warning("plugin '" + ref.pluginRef() + "' (type " + plugin.typedName().type()
                            + ") is not a filter, scorer or picker; its entry in scheduling profile '"
                            + profile.name() + "' is ignored (it still runs in its own role)");
                }
            }
            built.put(profile.name(), new SchedulerProfile(profile.name(), filters, scorers, picker));
        }
        return new Scheduler(handler, built, timer);
    }

    /** Data producers sorted so that each runs after the producers of the keys it consumes. */
    private static List<PrepareDataPlugin> dataProducersInOrder(Handle handle) {
        List<PrepareDataPlugin> producers = new ArrayList<>(handle.ofType(PrepareDataPlugin.class).values());
        Map<String, PrepareDataPlugin> producerOf = new HashMap<>();
        for (PrepareDataPlugin producer : producers) {
            for (String key : producer.produces()) {
                producerOf.putIfAbsent(key, producer);
            }
        }
        for (Plugin plugin : handle.instances.values()) {
            if (plugin instanceof ConsumerPlugin consumer) {
                for (String key : consumer.consumes()) {
                    if (!producerOf.containsKey(key)) {
                        throw new InvalidConfigException("plugin '" + plugin.typedName().name() + "' consumes '" + key
                                + "' but no configured plugin produces it");
                    }
                }
            }
        }
        List<PrepareDataPlugin> ordered = new ArrayList<>();
        Set<PrepareDataPlugin> done = new HashSet<>();
        for (PrepareDataPlugin producer : producers) {
            visit(producer, producerOf, done, new LinkedHashSet<>(), ordered);
        }
        return List.copyOf(ordered);
    }

    private static void visit(PrepareDataPlugin producer, Map<String, PrepareDataPlugin> producerOf,
                              Set<PrepareDataPlugin> done, Set<PrepareDataPlugin> path, List<PrepareDataPlugin> ordered) {
        if (done.contains(producer)) {
            return;
        }
        if (!path.add(producer)) {
            throw new InvalidConfigException("data producers depend on each other in a cycle: "
                    + path.stream().map(p -> p.typedName().name()).toList());
        }
        for (String key : producer.consumes()) {
            PrepareDataPlugin dependency = producerOf.get(key);
            if (dependency != null && dependency != producer) {
                visit(dependency, producerOf, done, path, ordered);
            }
        }
        path.remove(producer);
        done.add(producer);
        ordered.add(producer);
    }

    private static PluginSpec spec(String type) {
        return new PluginSpec(type, type, null);
    }

    private static EndpointPickerConfig.DataLayer defaultDataLayer() {
        return new EndpointPickerConfig.DataLayer(null, List.of(new EndpointPickerConfig.Source(METRICS_DATA_SOURCE,
                List.of(new PluginRef(CORE_METRICS_EXTRACTOR)))), null);
    }

    /** The plugin instances so far, for factories and for wiring. */
    private static final class Handle implements PluginHandle {
        private Map<String, Plugin> instances = new LinkedHashMap<>();
        private final Supplier<List<EndpointMetadata>> endpoints;
        private Map<String, PluginSpec> pending = Map.of();
        private Function<PluginSpec, Plugin> factory = spec -> {
            throw new IllegalStateException("no plugin is pending");
        };
        private final Set<String> creating = new LinkedHashSet<>();

        private Handle(Supplier<List<EndpointMetadata>> endpoints) {
            this.endpoints = endpoints;
        }

        void add(String name, Plugin plugin) {
            instances.put(name, plugin);
        }

        /** The plugins of the file, created by {@link #ensure} in file order or earlier on demand. */
        void pending(Map<String, PluginSpec> specs, Function<PluginSpec, Plugin> create) {
            this.pending = specs;
            this.factory = create;
        }

        void ensure(String name) {
            if (instances.containsKey(name) || !pending.containsKey(name)) {
                return;
            }
            if (!creating.add(name)) {
                throw new InvalidConfigException("plugins reference each other in a cycle: " + creating + " -> "
                        + name);
            }
            Plugin plugin = factory.apply(pending.get(name));
            creating.remove(name);
            instances.put(name, plugin);
        }

        /** Puts the instances created on demand back in the order of the file (picker defaults, producer order). */
        void inFileOrder(Collection<String> names) {
            Map<String, Plugin> ordered = new LinkedHashMap<>();
            for (String name : names) {
                ordered.put(name, instances.get(name));
            }
            ordered.putAll(instances);
            instances = ordered;
        }

        <T> Map<String, T> ofType(Class<T> type) {
            Map<String, T> matching = new LinkedHashMap<>();
            instances.forEach((name, plugin) -> {
                if (type.isInstance(plugin)) {
                    matching.put(name, type.cast(plugin));
                }
            });
            return matching;
        }

        <T> T require(String name, Class<T> type, String where) {
            Plugin plugin = instances.get(name);
            if (plugin == null) {
                throw new InvalidConfigException(where + " references undefined plugin '" + name + "'");
            }
            if (!type.isInstance(plugin)) {
                throw new InvalidConfigException(where + " references plugin '" + name + "' of type "
                        + plugin.typedName().type() + ", which is not a " + type.getSimpleName());
            }
            return type.cast(plugin);
        }

        @Override
        public <T extends Plugin> Optional<T> plugin(String name, Class<T> type) {
            ensure(name);
            Plugin plugin = instances.get(name);
            return type.isInstance(plugin) ? Optional.of(type.cast(plugin)) : Optional.empty();
        }

        @Override
        public Collection<Plugin> plugins() {
            return List.copyOf(instances.values());
        }

        @Override
        public List<EndpointMetadata> endpoints() {
            return endpoints.get();
        }
    }
}
