package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.plugin.TypedName;

/**
 * Receives how long each plugin call took, per extension point (e.g. {@code Filter}, {@code Scorer},
 * {@code Picker}, {@code PrepareData}); the metrics layer turns it into
 * {@code inference_extension_plugin_duration_seconds}.
 */
@FunctionalInterface
public interface PluginTimer {
    PluginTimer NONE = (extensionPoint, plugin, nanos) -> {
    };

    void record(String extensionPoint, TypedName plugin, long nanos);
}
