package dev.lodestar.epp.config;

import dev.lodestar.epp.datalayer.CoreMetricsExtractor;
import dev.lodestar.epp.datalayer.MetricsDataSource;
import dev.lodestar.epp.discovery.FileDiscovery;
import dev.lodestar.epp.plugins.activerequest.ActiveRequestScorer;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.concurrencydetector.ConcurrencyDetector;
import dev.lodestar.epp.plugins.disagg.AlwaysDisaggMultimodalDecider;
import dev.lodestar.epp.plugins.disagg.AlwaysDisaggPdDecider;
import dev.lodestar.epp.plugins.disagg.DisaggProfileHandler;
import dev.lodestar.epp.plugins.disagg.PdProfileHandler;
import dev.lodestar.epp.plugins.disagg.PrefillHeaderHandler;
import dev.lodestar.epp.plugins.disagg.PrefixBasedPdDecider;
import dev.lodestar.epp.plugins.destinationendpointservedverifier.DestinationEndpointServedVerifier;
import dev.lodestar.epp.plugins.headerbasedtestingfilter.HeaderBasedTestingFilter;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import dev.lodestar.epp.plugins.kvcacheutilizationscorer.KvCacheUtilizationScorer;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelectorFilter;
import dev.lodestar.epp.plugins.loadawarescorer.LoadAwareScorer;
import dev.lodestar.epp.plugins.loraaffinityscorer.LoraAffinityScorer;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.nohitlru.NoHitLruScorer;
import dev.lodestar.epp.plugins.openaiparser.OpenAiParser;
import dev.lodestar.epp.plugins.passthroughparser.PassthroughParser;
import dev.lodestar.epp.plugins.prefixscorer.PrefixCacheScorer;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import dev.lodestar.epp.plugins.randompicker.RandomPicker;
import dev.lodestar.epp.plugins.requestattributereporter.RequestAttributeReporter;
import dev.lodestar.epp.plugins.rolefilter.RoleFilter;
import dev.lodestar.epp.plugins.runningrequestssizescorer.RunningRequestsSizeScorer;
import dev.lodestar.epp.plugins.sessionaffinity.SessionAffinityScorer;
import dev.lodestar.epp.plugins.singleprofilehandler.SingleProfileHandler;
import dev.lodestar.epp.plugins.tokenload.TokenLoadScorer;
import dev.lodestar.epp.plugins.utilizationdetector.UtilizationDetector;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmGrpcParser;
import dev.lodestar.epp.plugins.weightedrandompicker.WeightedRandomPicker;

/**
 * Every plugin type Lodestar ships, registered under its upstream type name. Each plugin lives in its own
 * package under {@code dev.lodestar.epp.plugins} and exposes {@code TYPE} and {@code FACTORY}.
 */
final class BuiltInPlugins {
    private BuiltInPlugins() {
    }

    static void registerAll(PluginRegistry registry) {
        // Plugins register here, one line each, in alphabetical order of type.
        registry.register(CoreMetricsExtractor.TYPE, CoreMetricsExtractor.FACTORY);
        registry.register(FileDiscovery.TYPE, FileDiscovery.FACTORY);
        registry.register(MetricsDataSource.TYPE, MetricsDataSource.FACTORY);
        registry.register(ActiveRequestScorer.TYPE, ActiveRequestScorer.FACTORY);
        registry.register(AlwaysDisaggMultimodalDecider.TYPE, AlwaysDisaggMultimodalDecider.FACTORY);
        registry.register(AlwaysDisaggPdDecider.TYPE, AlwaysDisaggPdDecider.FACTORY);
        registry.register(ApproxPrefixCacheProducer.TYPE, ApproxPrefixCacheProducer.FACTORY);
        registry.register(LabelSelectorFilter.DEPRECATED_TYPE, LabelSelectorFilter.DEPRECATED_FACTORY);
        registry.register(ConcurrencyDetector.TYPE, ConcurrencyDetector.FACTORY);
        registry.register(RoleFilter.DECODE_TYPE, RoleFilter.DECODE_FACTORY);
        registry.register(DestinationEndpointServedVerifier.TYPE, DestinationEndpointServedVerifier.FACTORY);
        registry.register(PrefillHeaderHandler.DISAGG_HEADERS_TYPE, PrefillHeaderHandler.DISAGG_HEADERS_FACTORY);
        registry.register(DisaggProfileHandler.TYPE, DisaggProfileHandler.FACTORY);
        registry.register(RoleFilter.ENCODE_TYPE, RoleFilter.ENCODE_FACTORY);
        registry.register(HeaderBasedTestingFilter.TYPE, HeaderBasedTestingFilter.FACTORY);
        registry.register(InFlightLoadProducer.TYPE, InFlightLoadProducer.FACTORY);
        registry.register(KvCacheUtilizationScorer.TYPE, KvCacheUtilizationScorer.FACTORY);
        registry.register(LabelSelectorFilter.TYPE, LabelSelectorFilter.FACTORY);
        registry.register(LoadAwareScorer.TYPE, LoadAwareScorer.FACTORY);
        registry.register(LoraAffinityScorer.TYPE, LoraAffinityScorer.FACTORY);
        registry.register(MaxScorePicker.TYPE, MaxScorePicker.FACTORY);
        registry.register(NoHitLruScorer.TYPE, NoHitLruScorer.FACTORY);
        registry.register(OpenAiParser.TYPE, OpenAiParser.FACTORY);
        registry.register(PassthroughParser.TYPE, PassthroughParser.FACTORY);
        registry.register(PdProfileHandler.TYPE, PdProfileHandler.FACTORY);
        registry.register(RoleFilter.PREFILL_TYPE, RoleFilter.PREFILL_FACTORY);
        registry.register(PrefillHeaderHandler.TYPE, PrefillHeaderHandler.FACTORY);
        registry.register(PrefixBasedPdDecider.TYPE, PrefixBasedPdDecider.FACTORY);
        registry.register(PrefixCacheScorer.TYPE, PrefixCacheScorer.FACTORY);
        registry.register(QueueScorer.TYPE, QueueScorer.FACTORY);
        registry.register(RandomPicker.TYPE, RandomPicker.FACTORY);
        registry.register(RequestAttributeReporter.TYPE, RequestAttributeReporter.FACTORY);
        registry.register(RunningRequestsSizeScorer.TYPE, RunningRequestsSizeScorer.FACTORY);
        registry.register(SessionAffinityScorer.TYPE, SessionAffinityScorer.FACTORY);
        registry.register(SingleProfileHandler.TYPE, SingleProfileHandler.FACTORY);
        registry.register(TokenLoadScorer.TYPE, TokenLoadScorer.FACTORY);
        registry.register(UtilizationDetector.TYPE, UtilizationDetector.FACTORY);
        registry.register(VllmGrpcParser.TYPE, VllmGrpcParser.FACTORY);
        registry.register(WeightedRandomPicker.TYPE, WeightedRandomPicker.FACTORY);
    }
}
