package dev.lodestar.epp.framework.plugin;

import java.util.Set;

/** A plugin that reads per-request data other plugins produce. */
public interface ConsumerPlugin extends Plugin {
    /** Attribute keys this plugin reads. */
    Set<String> consumes();
}
