package dev.lodestar.epp.config;

import dev.lodestar.epp.datalayer.CoreMetricsExtractor;
import dev.lodestar.epp.datalayer.MetricsDataSource;
import dev.lodestar.epp.discovery.FileDiscovery;

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
    }
}
