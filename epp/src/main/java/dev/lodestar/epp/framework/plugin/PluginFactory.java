package dev.lodestar.epp.framework.plugin;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Builds one plugin instance from its configuration. {@code parameters} is the instance's
 * {@code parameters} node (a missing node when the file has none); decode it with
 * {@link PluginParameters#decode} so unknown fields are rejected.
 */
@FunctionalInterface
public interface PluginFactory {
    Plugin create(String name, JsonNode parameters, PluginHandle handle);
}
