package dev.lodestar.epp.framework.plugin;

import java.util.Set;

/**
 * A plugin that produces per-request data (endpoint attributes) for others. The configuration loader
 * checks that every consumed key has a producer and that producers form no cycle, at start-up.
 */
public interface ProducerPlugin extends Plugin {
    /** Attribute keys this plugin writes. */
    Set<String> produces();
}
