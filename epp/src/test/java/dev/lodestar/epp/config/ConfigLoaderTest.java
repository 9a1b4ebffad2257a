package dev.lodestar.epp.config;

import dev.lodestar.api.config.EndpointPickerConfig;
import dev.lodestar.api.config.EndpointPickerConfig.PluginSpec;
import dev.lodestar.api.config.EndpointPickerConfig.ProfilePlugin;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.datalayer.CoreMetricsExtractor;
import dev.lodestar.epp.datalayer.MetricsDataSource;
import dev.lodestar.epp.discovery.FileDiscovery;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.concurrencydetector.ConcurrencyDetector;
import dev.lodestar.epp.plugins.disagg.DisaggProfileHandler;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelectorFilter;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.openaiparser.OpenAiParser;
import dev.lodestar.epp.plugins.passthroughparser.PassthroughParser;
import dev.lodestar.epp.plugins.prefixscorer.PrefixCacheScorer;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import dev.lodestar.epp.plugins.randompicker.RandomPicker;
import dev.lodestar.epp.plugins.singleprofilehandler.SingleProfileHandler;
import dev.lodestar.epp.plugins.utilizationdetector.UtilizationDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    private static final String GIE = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n";
    private static final String LLMD = "apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n";
    private static final String TWO_PROFILE_HANDLER = "test-two-profile-handler";

    private final List<EppConfig> loaded = new ArrayList<>();

    @AfterEach
    void closePlugins() throws Exception {
        for (EppConfig config : loaded) {
            for (Plugin plugin : config.plugins().values()) {
                if (plugin instanceof AutoCloseable closeable) {
                    closeable.close();
                }
            }
        }
    }

    private EppConfig load(String yaml) {
        return remember(loader().load(Optional.of(yaml)));
    }

    private EppConfig remember(EppConfig config) {
        loaded.add(config);
        return config;
    }

    /** The built-in plugins plus a profile handler that runs every profile, for multi-profile configurations. */
    private static ConfigLoader loader() {
        PluginRegistry registry = PluginRegistry.builtIn().register(TWO_PROFILE_HANDLER, (name, parameters, handle) -> {
            PluginParameters.decode(name, parameters, SingleProfileHandler.Params.class);
            return new RunEveryProfile(name);
        });
        return new ConfigLoader(registry, List::of, PluginTimer.NONE);
    }

    private static Map<String, Double> weights(SchedulerProfile profile) {
        Map<String, Double> weights = new LinkedHashMap<>();
        for (WeightedScorer scorer : profile.scorers()) {
            weights.put(scorer.scorer().typedName().name(), scorer.weight());
        }
        return weights;
    }

    private static List<String> names(List<PluginSpec> specs) {
        return specs.stream().map(PluginSpec::name).toList();
    }

    private static SchedulerProfile profile(EppConfig config, String name) {
        return config.scheduler().profiles().get(name);
    }

    // --- defaults (gie.md §3.5, defaults.go) ---

    @Test
    void noConfigurationIsGiesDefault() {
        EppConfig config = remember(loader().load(Optional.empty()));

        assertThat(config.effective().apiVersion()).isEqualTo("inference.networking.x-k8s.io/v1alpha1");
        assertThat(names(config.effective().plugins())).containsExactly("queue-scorer", "kv-cache-utilization-scorer",
                "prefix-cache-scorer", "metrics-data-source", "core-metrics-extractor", "single-profile-handler",
                "max-score-picker", "openai-parser", "utilization-detector");
        assertThat(config.scheduler().profiles()).containsOnlyKeys("default");
        SchedulerProfile profile = profile(config, "default");
        assertThat(weights(profile)).containsExactly(Map.entry("queue-scorer", 2.0),
                Map.entry("kv-cache-utilization-scorer", 2.0), Map.entry("prefix-cache-scorer", 3.0));
        assertThat(profile.filters()).isEmpty();
        assertThat(profile.picker()).isInstanceOf(MaxScorePicker.class);
        assertThat(((MaxScorePicker) profile.picker()).maxNumOfEndpoints()).isEqualTo(1);
        assertThat(config.scheduler().profileHandler()).isInstanceOf(SingleProfileHandler.class);
        assertThat(config.parser()).isInstanceOf(OpenAiParser.class);
        assertThat(config.saturationDetector()).isInstanceOf(UtilizationDetector.class);
        assertThat(config.dataSources()).singleElement().satisfies(source -> {
            assertThat(source.source()).isInstanceOf(MetricsDataSource.class);
            assertThat(source.extractors()).singleElement().isInstanceOf(CoreMetricsExtractor.class);
        });
        assertThat(config.prepareData()).singleElement().isInstanceOf(ApproxPrefixCacheProducer.class);
        assertThat(config.plugins()).containsKey("approx-prefix-cache-producer");
        assertThat(config.featureGates()).isEmpty();
        assertThat(config.discovery()).isEmpty();
    }

    @Test
    void aBlankConfigurationTextIsNoConfiguration() {
        EppConfig config = load(" \n\t\n");

        assertThat(weights(profile(config, "default"))).containsOnlyKeys("queue-scorer",
                "kv-cache-utilization-scorer", "prefix-cache-scorer");
    }

    @Test
    void aConfigurationWithNothingButItsTypeGetsOnlyTheStructuralDefaults() {
        EppConfig config = load(GIE);

        SchedulerProfile profile = profile(config, "default");
        assertThat(profile.scorers()).isEmpty();
        assertThat(profile.filters()).isEmpty();
        assertThat(profile.picker().typedName()).isEqualTo(new TypedName("max-score-picker", "max-score-picker"));
        assertThat(names(config.effective().plugins())).containsExactly("single-profile-handler", "max-score-picker",
                "openai-parser", "utilization-detector", "metrics-data-source", "core-metrics-extractor");
        assertThat(config.effective().schedulingProfiles()).singleElement()
                .satisfies(p -> assertThat(p.plugins()).containsExactly(new ProfilePlugin("max-score-picker", null)));
    }

    @Test
    void withoutProfilesTheDefaultProfileTakesEveryFilterScorerAndPicker() {
        EppConfig config = load(GIE + """
                plugins:
                - type: queue-scorer
                - {name: canary, type: label-selector-filter, parameters: {matchLabels: {track: canary}}}
                - type: random-picker
                - type: inflight-load-producer
                """);

        SchedulerProfile profile = profile(config, "default");
        assertThat(profile.filters()).extracting(f -> f.typedName().name()).containsExactly("canary");
        assertThat(weights(profile)).containsExactly(Map.entry("queue-scorer", 1.0));
        assertThat(profile.picker()).isInstanceOf(RandomPicker.class);
        assertThat(config.plugins()).doesNotContainKey("max-score-picker");
    }

    @Test
    void aProfileWithoutAPickerGetsMaxScorePicker() {
        EppConfig config = load(GIE + """
                plugins:
                - type: queue-scorer
                schedulingProfiles:
                - name: default
                  plugins:
                  - pluginRef: queue-scorer
                """);

        assertThat(profile(config, "default").picker()).isInstanceOf(MaxScorePicker.class);
        assertThat(config.effective().schedulingProfiles().get(0).plugins()).containsExactly(
                new ProfilePlugin("queue-scorer", 1.0), new ProfilePlugin("max-score-picker", null));
    }

    @Test
    void aProfileWithoutAPickerReusesAConfiguredPicker() {
        EppConfig config = load(GIE + """
                plugins:
                - type: queue-scorer
                - {name: top2, type: max-score-picker, parameters: {maxNumOfEndpoints: 2}}
                schedulingProfiles:
                - name: default
                  plugins:
                  - pluginRef: queue-scorer
                """);

        assertThat(profile(config, "default").picker().typedName().name()).isEqualTo("top2");
        assertThat(config.plugins()).doesNotContainKey("max-score-picker");
    }

    @Test
    void profilesWithoutAPickerShareOneMaxScorePicker() {
        EppConfig config = load(GIE + """
                plugins:
                - type: test-two-profile-handler
                - type: queue-scorer
                schedulingProfiles:
                - name: a
                  plugins: [{pluginRef: queue-scorer}]
                - name: b
                  plugins: [{pluginRef: queue-scorer}]
                """);

        assertThat(profile(config, "a").picker()).isSameAs(profile(config, "b").picker())
                .isInstanceOf(MaxScorePicker.class);
        assertThat(names(config.effective().plugins())).containsOnlyOnce("max-score-picker")
                .doesNotContain("single-profile-handler");
    }

    @Test
    void oneProfileWithoutAHandlerGetsSingleProfileHandler() {
        EppConfig config = load(GIE + """
                schedulingProfiles:
                - name: only
                  plugins: []
                """);

        assertThat(config.scheduler().profileHandler().typedName())
                .isEqualTo(new TypedName("single-profile-handler", "single-profile-handler"));
        assertThat(config.scheduler().profiles()).containsOnlyKeys("only");
    }

    @Test
    void profileHandlersMustBeExactlyOneAndFitTheProfiles() {
        assertThatThrownBy(() -> load(GIE + """
                schedulingProfiles:
                - {name: a, plugins: []}
                - {name: b, plugins: []}
                """)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("no profile handler");
        assertThatThrownBy(() -> load(GIE + """
                plugins:
                - type: single-profile-handler
                - type: test-two-profile-handler
                """)).hasMessageContaining("only one profile handler may be configured")
                .hasMessageContaining("single-profile-handler").hasMessageContaining(TWO_PROFILE_HANDLER);
        assertThatThrownBy(() -> load(GIE + """
                plugins:
                - type: single-profile-handler
                schedulingProfiles:
                - {name: a, plugins: []}
                - {name: b, plugins: []}
                """)).hasMessageContaining("profile handler 'single-profile-handler' (single-profile-handler)"
                + " supports one scheduling profile, but 2 are configured");
    }

    @Test
    void theParserDefaultsToOpenaiParser() {
        EppConfig config = load(GIE + "plugins: [{type: queue-scorer}]");

        assertThat(config.parser()).isInstanceOf(OpenAiParser.class);
        assertThat(config.effective().parser()).isEqualTo(new EndpointPickerConfig.PluginRef("openai-parser"));
    }

    @Test
    void aConfiguredParserIsUsedByItsName() {
        EppConfig named = load(GIE + """
                plugins:
                - {name: openaiParser, type: openai-parser}
                parser: {pluginRef: openaiParser}
                """);
        EppConfig passthrough = load(GIE + """
                plugins:
                - type: passthrough-parser
                parser: {pluginRef: passthrough-parser}
                """);
        EppConfig llmd = load(LLMD + """
                plugins:
                - type: passthrough-parser
                requestHandler:
                  parsers: [{pluginRef: passthrough-parser}]
                """);

        assertThat(named.parser().typedName()).isEqualTo(new TypedName("openai-parser", "openaiParser"));
        assertThat(named.plugins()).doesNotContainKey("openai-parser");
        assertThat(passthrough.parser()).isInstanceOf(PassthroughParser.class);
        assertThat(passthrough.plugins()).doesNotContainKey("openai-parser");
        assertThat(llmd.parser()).isInstanceOf(PassthroughParser.class);
    }

    @Test
    void aParserReferenceMustNameAParser() {
        assertThatThrownBy(() -> load(GIE + "parser: {pluginRef: mine}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("parser references undefined plugin 'mine'");
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: queue-scorer}]\nparser: {pluginRef: queue-scorer}"))
                .hasMessage("parser references plugin 'queue-scorer' of type queue-scorer, which is not a Parser");
    }

    @Test
    void prefixCacheScorerGetsAProducerWithItsParameters() {
        EppConfig config = load(GIE + """
                plugins:
                - type: prefix-cache-scorer
                  parameters: {blockSizeTokens: 32, maxPrefixBlocksToMatch: 128, lruCapacityPerServer: 1000, autoTune: false}
                """);

        assertThat(config.plugins().get("approx-prefix-cache-producer")).isInstanceOfSatisfying(
                ApproxPrefixCacheProducer.class, producer -> {
                    assertThat(producer.typedName().type()).isEqualTo("approx-prefix-cache-producer");
                    assertThat(producer.params().blockSizeTokens()).isEqualTo(32);
                    assertThat(producer.params().maxPrefixBlocksToMatch()).isEqualTo(128);
                    assertThat(producer.params().lruCapacityPerServer()).isEqualTo(1000);
                    assertThat(producer.params().autoTune()).isFalse();
                });
        assertThat(config.prepareData()).containsExactly(
                (ApproxPrefixCacheProducer) config.plugins().get("approx-prefix-cache-producer"));
        assertThat(config.preRequest()).contains(
                (ApproxPrefixCacheProducer) config.plugins().get("approx-prefix-cache-producer"));
    }

    @Test
    void noPrefixProducerWithoutAPrefixScorerOrWhenOneIsConfigured() {
        EppConfig withoutScorer = load(GIE + "plugins: [{type: queue-scorer}]");
        EppConfig withProducer = load(GIE + """
                plugins:
                - type: approx-prefix-cache-producer
                  parameters: {blockSizeTokens: 8}
                - type: prefix-cache-scorer
                """);

        assertThat(withoutScorer.plugins().values()).noneMatch(ApproxPrefixCacheProducer.class::isInstance);
        assertThat(withProducer.plugins().values()).filteredOn(ApproxPrefixCacheProducer.class::isInstance)
                .singleElement()
                .satisfies(p -> assertThat(((ApproxPrefixCacheProducer) p).params().blockSizeTokens()).isEqualTo(8));
        assertThat(withProducer.plugins().get("prefix-cache-scorer")).isInstanceOf(PrefixCacheScorer.class);
    }

    @Test
    void aConsumedKeyNeedsAProducer() {
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: token-load-scorer}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugin 'token-load-scorer' consumes")
                .hasMessageContaining("no configured plugin produces it");
        EppConfig config = load(GIE + "plugins: [{type: token-load-scorer}, {type: inflight-load-producer}]");

        assertThat(config.prepareData()).singleElement().isInstanceOf(InFlightLoadProducer.class);
    }

    @Test
    void scorerWeightsDefaultToOne() {
        EppConfig config = load(GIE + """
                plugins:
                - type: queue-scorer
                - type: kv-cache-utilization-scorer
                - {name: canary, type: label-selector-filter}
                schedulingProfiles:
                - name: default
                  plugins:
                  - {pluginRef: canary}
                  - {pluginRef: queue-scorer}
                  - {pluginRef: kv-cache-utilization-scorer, weight: 0.5}
                """);

        assertThat(weights(profile(config, "default"))).containsExactly(Map.entry("queue-scorer", 1.0),
                Map.entry("kv-cache-utilization-scorer", 0.5));
        assertThat(config.effective().schedulingProfiles().get(0).plugins()).containsExactly(
                new ProfilePlugin("canary", null), new ProfilePlugin("queue-scorer", 1.0),
                new ProfilePlugin("kv-cache-utilization-scorer", 0.5), new ProfilePlugin("max-score-picker", null));
    }

    @Test
    void aZeroWeightIsAllowedAndAWeightOnANonScorerIsIgnored() {
        EppConfig config = load(GIE + """
                plugins: [{type: queue-scorer}, {type: random-picker}]
                schedulingProfiles:
                - name: default
                  plugins:
                  - {pluginRef: queue-scorer, weight: 0}
                  - {pluginRef: random-picker, weight: 7}
                """);

        assertThat(weights(profile(config, "default"))).containsExactly(Map.entry("queue-scorer", 0.0));
        assertThat(profile(config, "default").picker()).isInstanceOf(RandomPicker.class);
    }

    @Test
    void aNegativeOrInfiniteWeightIsAnErrorNamingTheProfileAndScorer() {
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: queue-scorer}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: queue-scorer, weight: -1}]
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessage("schedulingProfiles[default] gives scorer 'queue-scorer' weight -1.0; a weight must be a"
                        + " finite number >= 0");
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: queue-scorer}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: queue-scorer, weight: 1e999}]
                """)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("weight Infinity");
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: queue-scorer}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: queue-scorer, weight: heavy}]
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("schedulingProfiles[0].plugins[0].weight");
    }

    // --- data layer ---

    @Test
    void anExplicitDataLayerIsKept() {
        EppConfig config = load(GIE + """
                plugins:
                - {name: https-metrics, type: metrics-data-source, parameters: {scheme: https, path: /m}}
                - {name: extractor, type: core-metrics-extractor}
                dataLayer:
                  sources:
                  - pluginRef: https-metrics
                    extractors: [{pluginRef: extractor}]
                """);

        assertThat(config.dataSources()).singleElement().satisfies(source -> {
            assertThat(source.source()).isInstanceOfSatisfying(MetricsDataSource.class,
                    s -> assertThat(s.scheme()).isEqualTo("https"));
            assertThat(source.extractors()).extracting(p -> p.typedName().name()).containsExactly("extractor");
        });
        assertThat(config.plugins()).doesNotContainKeys("metrics-data-source", "core-metrics-extractor");
    }

    @Test
    void aDefaultNamedSourceInThePluginsIsReusedByTheDefaultDataLayer() {
        EppConfig config = load(GIE + """
                plugins:
                - {type: metrics-data-source, parameters: {path: /custom}}
                """);

        assertThat(config.dataSources()).singleElement().satisfies(source -> assertThat(source.source())
                .isInstanceOfSatisfying(MetricsDataSource.class, s -> assertThat(s.path()).isEqualTo("/custom")));
        assertThat(names(config.effective().plugins())).containsOnlyOnce("metrics-data-source");
    }

    @Test
    void emptySourcesOrInjectDefaultsFalseMeanNoMetricsCollection() {
        EppConfig emptySources = load(GIE + "dataLayer: {sources: []}");
        EppConfig noInjection = load(LLMD + "dataLayer: {injectDefaults: false}");

        for (EppConfig config : List.of(emptySources, noInjection)) {
            assertThat(config.dataSources()).isEmpty();
            assertThat(config.plugins()).doesNotContainKeys("metrics-data-source", "core-metrics-extractor");
            assertThat(config.effective().dataLayer().sources()).isEmpty();
        }
    }

    @Test
    void aDataLayerWithDiscoveryOnlyGetsTheDefaultSource(@TempDir Path dir) throws IOException {
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), "endpoints: []\n");
        EppConfig config = load(LLMD + """
                plugins:
                - name: endpoints
                  type: file-discovery
                  parameters: {path: %s}
                dataLayer:
                  discovery: {pluginRef: endpoints}
                """.formatted(endpoints));

        assertThat(config.discovery()).get().isInstanceOf(FileDiscovery.class);
        assertThat(config.dataSources()).singleElement()
                .satisfies(source -> assertThat(source.source()).isInstanceOf(MetricsDataSource.class));
        assertThat(config.effective().dataLayer().discoveryRef()).isPresent();
    }

    @Test
    void dataLayerReferencesMustNameSourcesAndExtractors() {
        assertThatThrownBy(() -> load(GIE + "dataLayer: {sources: [{pluginRef: nowhere}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("dataLayer.sources references undefined plugin 'nowhere'");
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: queue-scorer}]\n"
                + "dataLayer: {sources: [{pluginRef: queue-scorer}]}"))
                .hasMessage("dataLayer.sources references plugin 'queue-scorer' of type queue-scorer, which is not a"
                        + " MetricsDataSource");
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: metrics-data-source}, {type: queue-scorer}]
                dataLayer:
                  sources: [{pluginRef: metrics-data-source, extractors: [{pluginRef: queue-scorer}]}]
                """)).hasMessage("dataLayer.sources[metrics-data-source].extractors references plugin 'queue-scorer'"
                + " of type queue-scorer, which is not a CoreMetricsExtractor");
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: queue-scorer}]\n"
                + "dataLayer: {discovery: {pluginRef: queue-scorer}}"))
                .hasMessageContaining("dataLayer.discovery references plugin 'queue-scorer'");
    }

    // --- saturation detector ---

    @Test
    void aConfiguredSaturationDetectorReplacesTheDefault() {
        EppConfig config = load(GIE + """
                plugins: [{name: concurrency, type: concurrency-detector, parameters: {maxConcurrency: 10}}]
                saturationDetector: {pluginRef: concurrency}
                """);
        EppConfig emptyRef = load(GIE + "saturationDetector: {pluginRef: ''}");

        assertThat(config.saturationDetector()).isInstanceOf(ConcurrencyDetector.class);
        assertThat(config.plugins()).doesNotContainKey("utilization-detector");
        assertThat(emptyRef.saturationDetector()).isInstanceOf(UtilizationDetector.class);
        assertThatThrownBy(() -> load(GIE + "saturationDetector: {pluginRef: missing}"))
                .hasMessage("saturationDetector references undefined plugin 'missing'");
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: queue-scorer}]\nsaturationDetector: {pluginRef: queue-scorer}"))
                .hasMessageContaining("which is not a SaturationDetector");
    }

    // --- apiVersion, kind, strict decoding ---

    @Test
    void bothApiVersionsAreAccepted() {
        EppConfig gie = load(GIE + "plugins: [{type: queue-scorer}]");
        EppConfig llmd = load(LLMD + "plugins: [{type: queue-scorer}]");

        assertThat(gie.effective().apiVersion()).isEqualTo("inference.networking.x-k8s.io/v1alpha1");
        assertThat(llmd.effective().apiVersion()).isEqualTo("llm-d.ai/v1alpha1");
        assertThat(weights(profile(llmd, "default"))).containsOnlyKeys("queue-scorer");
    }

    @Test
    void unknownApiVersionOrKindIsRejected() {
        assertThatThrownBy(() -> load("apiVersion: inference.networking.k8s.io/v1\nkind: EndpointPickerConfig\n"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("apiVersion 'inference.networking.k8s.io/v1' is not supported; use one of"
                        + " [inference.networking.x-k8s.io/v1alpha1, llm-d.ai/v1alpha1]");
        assertThatThrownBy(() -> load("apiVersion: llm-d.ai/v1alpha1\nkind: InferencePool\n"))
                .hasMessage("kind must be EndpointPickerConfig, got 'InferencePool'");
    }

    @Test
    void unknownFieldsAreErrorsNamingTheField() {
        assertThatThrownBy(() -> load(GIE + "schedulingProfile: []"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("unknown field 'schedulingProfile' at the top level (known: apiVersion, ");
        assertThatThrownBy(() -> load(GIE + "schedulingProfiles: [{name: a, plugins: [{pluginRef: x, wieght: 2}]}]"))
                .hasMessage("unknown field 'wieght' at schedulingProfiles[0].plugins[0] (known: pluginRef, weight)");
    }

    @Test
    void unknownPluginParametersAreErrorsNamingThePluginAndField() {
        assertThatThrownBy(() -> load(GIE + """
                plugins:
                - {name: picker, type: max-score-picker, parameters: {maxNumOfEndpoint: 2}}
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugin 'picker': unknown parameter 'maxNumOfEndpoint' (known: maxNumOfEndpoints)");
        assertThatThrownBy(() -> load(GIE + """
                plugins:
                - {type: prefix-cache-scorer, parameters: {blockSize: 64, blockSizeTokens: 0}}
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugin 'prefix-cache-scorer'")
                .hasMessageContaining("use blockSizeTokens");
    }

    @Test
    void anUnknownPluginTypeIsAnErrorListingTheKnownTypes() {
        assertThatThrownBy(() -> load(GIE + "plugins: [{name: q, type: queue-scorrer}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("plugin 'q' has unknown type 'queue-scorrer'; known types: [")
                .hasMessageContaining("max-score-picker, ")
                .hasMessageContaining("queue-scorer, ")
                .hasMessageContaining(TWO_PROFILE_HANDLER);
    }

    @Test
    void aPluginWithoutATypeIsAnError() {
        assertThatThrownBy(() -> load(GIE + "plugins: [{name: nameless}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'nameless' is missing a type");
    }

    @Test
    void duplicatePluginNamesAreErrors() {
        assertThatThrownBy(() -> load(GIE + "plugins: [{type: queue-scorer}, {type: queue-scorer}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("duplicate plugin name 'queue-scorer'");
        assertThatThrownBy(() -> load(GIE + "plugins: [{name: x, type: queue-scorer}, {name: x, type: random-picker}]"))
                .hasMessage("duplicate plugin name 'x'");
        EppConfig twoNamed = load(GIE + """
                plugins: [{name: q1, type: queue-scorer}, {name: q2, type: queue-scorer}]
                """);
        assertThat(weights(profile(twoNamed, "default"))).containsOnlyKeys("q1", "q2");
    }

    @Test
    void aPluginReferencedByAnEarlierOneIsCreatedOnDemandAndKeptInFileOrder() {
        EppConfig config = load(LLMD + """
                plugins:
                - type: disagg-profile-handler
                  parameters: {deciders: {prefill: later-decider}}
                - type: decode-filter
                - {name: later-decider, type: always-disagg-pd-decider}
                - type: prefill-filter
                schedulingProfiles:
                - {name: decode, plugins: [{pluginRef: decode-filter}]}
                - {name: prefill, plugins: [{pluginRef: prefill-filter}]}
                """);
        DisaggProfileHandler handler = (DisaggProfileHandler) config.scheduler().profileHandler();
        assertThat(handler.prefillDecider().map(decider -> (Plugin) decider))
                .containsSame(config.plugins().get("later-decider"));
        assertThat(List.copyOf(config.plugins().keySet()).subList(0, 4))
                .containsExactly("disagg-profile-handler", "decode-filter", "later-decider", "prefill-filter");
    }

    @Test
    void pluginsReferencingThemselvesOrEachOtherAreAnError() {
        assertThatThrownBy(() -> load(LLMD + """
                plugins:
                - {name: h, type: disagg-profile-handler, parameters: {deciders: {prefill: h}}}
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugins reference each other in a cycle: [h] -> h");
    }

    @Test
    void aDeciderReadingPrefixMatchesGetsTheDefaultApproximateProducer() {
        EppConfig config = load(LLMD + """
                plugins:
                - type: disagg-profile-handler
                  parameters: {deciders: {prefill: prefix-based-pd-decider}}
                - {type: prefix-based-pd-decider, parameters: {nonCachedTokens: 8}}
                - type: decode-filter
                schedulingProfiles:
                - {name: decode, plugins: [{pluginRef: decode-filter}]}
                """);
        assertThat(config.plugins().get("approx-prefix-cache-producer")).isInstanceOf(ApproxPrefixCacheProducer.class);
        assertThat(config.prepareData())
                .contains((PrepareDataPlugin) config.plugins().get("approx-prefix-cache-producer"));
    }

    @Test
    void profileReferencesMustNameDefinedPlugins() {
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: queue-scorer}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: queue-scorer}, {pluginRef: kv-cache-scorer}]
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessage("schedulingProfiles[default] references undefined plugin 'kv-cache-scorer'");
        assertThatThrownBy(() -> load(GIE + "schedulingProfiles: [{name: default, plugins: [{weight: 2}]}]"))
                .hasMessage("schedulingProfiles[default].plugins[0] is missing a 'pluginRef'");
    }

    @Test
    void profilesNeedUniqueNames() {
        assertThatThrownBy(() -> load(GIE + "schedulingProfiles: [{plugins: []}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("a scheduling profile is missing a name");
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: test-two-profile-handler}]
                schedulingProfiles: [{name: a, plugins: []}, {name: a, plugins: []}]
                """)).hasMessage("duplicate scheduling profile name 'a'");
        assertThatThrownBy(() -> load(GIE + "schedulingProfiles: [{name: a, plugins: []}, {name: a, plugins: []}]"))
                .hasMessage("duplicate scheduling profile name 'a'");
    }

    @Test
    void aProfileWithTwoPickersIsAnError() {
        assertThatThrownBy(() -> load(GIE + """
                plugins: [{type: max-score-picker}, {type: random-picker}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: max-score-picker}, {pluginRef: random-picker}]
                """)).isInstanceOf(InvalidConfigException.class)
                .hasMessage("scheduling profile 'default' has more than one picker: max-score-picker, random-picker");
    }

    @Test
    void aProfileEntryThatIsNotAFilterScorerOrPickerIsIgnoredAsInGie() {
        EppConfig config = load(GIE + """
                plugins: [{type: inflight-load-producer}, {type: queue-scorer}]
                schedulingProfiles:
                - name: default
                  plugins: [{pluginRef: inflight-load-producer}, {pluginRef: queue-scorer, weight: 2}]
                """);

        SchedulerProfile profile = profile(config, "default");
        assertThat(profile.filters()).isEmpty();
        assertThat(profile.scorers()).singleElement()
                .satisfies(scorer -> assertThat(scorer.scorer()).isInstanceOf(QueueScorer.class));
    }

    @Test
    void llmdsDeprecatedTypeNameStillWorks() {
        EppConfig config = load(LLMD + """
                plugins:
                - {name: gpu, type: by-label-selector, parameters: {matchLabels: {gpu: h100}}}
                """);

        assertThat(profile(config, "default").filters()).singleElement().isInstanceOfSatisfying(
                LabelSelectorFilter.class,
                filter -> assertThat(filter.typedName()).isEqualTo(new TypedName("by-label-selector", "gpu")));
    }

    // --- feature gates ---

    @Test
    void knownFeatureGatesAreEnabled() {
        EppConfig config = load(GIE + "featureGates: [dataLayer, enableLegacyMetrics]");

        assertThat(config.featureGates()).containsExactlyInAnyOrder("dataLayer", "enableLegacyMetrics");
        assertThat(config.effective().featureGates()).containsExactly("dataLayer", "enableLegacyMetrics");
    }

    @Test
    void unknownFeatureGatesAreRejectedAndFlowControlIsNotSupportedYet() {
        assertThatThrownBy(() -> load(GIE + "featureGates: [fastPath]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("feature gate 'fastPath' is unknown; known gates: [dataLayer, enableLegacyMetrics,"
                        + " flowControl]");
        assertThatThrownBy(() -> load(GIE + "featureGates: [flowControl]"))
                .hasMessageStartingWith("feature gate 'flowControl' is not supported by Lodestar yet");
    }

    // --- the result ---

    @Test
    void pluginsAreListedInCreationOrder() {
        EppConfig config = load(GIE + """
                plugins:
                - {name: z, type: queue-scorer}
                - {name: y, type: kv-cache-utilization-scorer}
                - {name: x, type: random-picker}
                - {name: w, type: inflight-load-producer}
                """);

        assertThat(config.plugins().keySet()).containsExactly("z", "y", "x", "w", "single-profile-handler",
                "openai-parser", "utilization-detector", "metrics-data-source", "core-metrics-extractor");
    }

    // --- --config-file and --config-text ---

    @Test
    void configTextComesFromTheTextOrTheFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("epp.yaml"), GIE + "plugins: [{type: random-picker}]\n");
        Path empty = Files.writeString(dir.resolve("empty.yaml"), "");

        assertThat(ConfigLoader.configText(Optional.empty(), Optional.empty())).isEmpty();
        assertThat(ConfigLoader.configText(Optional.empty(), Optional.of("plugins: []"))).contains("plugins: []");
        Optional<String> fromFile = ConfigLoader.configText(Optional.of(file), Optional.empty());
        assertThat(fromFile).contains(GIE + "plugins: [{type: random-picker}]\n");
        assertThat(profile(remember(loader().load(fromFile)), "default").picker()).isInstanceOf(RandomPicker.class);
        EppConfig fromEmptyFile = remember(loader().load(ConfigLoader.configText(Optional.of(empty), Optional.empty())));
        assertThat(weights(profile(fromEmptyFile, "default"))).containsEntry("prefix-cache-scorer", 3.0);
    }

    @Test
    void configFileAndTextTogetherOrAnUnreadableFileAreErrors(@TempDir Path dir) {
        Path missing = dir.resolve("missing.yaml");

        assertThatThrownBy(() -> ConfigLoader.configText(Optional.of(missing), Optional.of("plugins: []")))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("--config-file and --config-text are mutually exclusive");
        assertThatThrownBy(() -> ConfigLoader.configText(Optional.of(missing), Optional.empty()))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("cannot read --config-file " + missing + ": ");
    }

    /** Runs every profile once and makes the first the primary. */
    private record RunEveryProfile(String name) implements ProfileHandler {
        @Override
        public TypedName typedName() {
            return new TypedName(TWO_PROFILE_HANDLER, name);
        }

        @Override
        public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request,
                                                  Map<String, SchedulerProfile> profiles,
                                                  Map<String, ProfileRunResult> results) {
            return results.isEmpty() ? profiles : Map.of();
        }

        @Override
        public SchedulingResult processResults(CycleState state, LlmRequest request,
                                               Map<String, ProfileRunResult> results) {
            return new SchedulingResult(results, results.keySet().iterator().next());
        }
    }
}
