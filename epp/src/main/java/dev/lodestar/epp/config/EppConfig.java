package dev.lodestar.epp.config;

import dev.lodestar.api.config.EndpointPickerConfig;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.requestcontrol.AdmissionPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.spi.PoolSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The EPP's configuration after loading, defaulting and validation: every plugin instance, wired.
 *
 * @param effective          the configuration as applied, defaults included (logged at start)
 * @param plugins            every instance by name, in creation order
 * @param scheduler          profiles and profile handler
 * @param parser             the request parser
 * @param saturationDetector the detector legacy admission uses
 * @param prepareData        data producers, in dependency order
 * @param admission          admission plugins
 * @param preRequest         pre-request plugins
 * @param responseHeader     response-header plugins
 * @param responseBody       response-body plugins
 * @param dataSources        metrics sources with their extractors; empty = no metrics collection
 * @param discovery          the endpoint discovery plugin, when {@code dataLayer.discovery} names one
 * @param featureGates       enabled feature gates
 */
public record EppConfig(EndpointPickerConfig effective,
                        Map<String, Plugin> plugins,
                        Scheduler scheduler,
                        Parser parser,
                        SaturationDetector saturationDetector,
                        List<PrepareDataPlugin> prepareData,
                        List<AdmissionPlugin> admission,
                        List<PreRequestPlugin> preRequest,
                        List<ResponseHeaderPlugin> responseHeader,
                        List<ResponseBodyPlugin> responseBody,
                        List<DataSource> dataSources,
                        Optional<PoolSource> discovery,
                        Set<String> featureGates) {

    /** A metrics source plugin and the extractor plugins it feeds. */
    public record DataSource(Plugin source, List<Plugin> extractors) {
    }
}
