package dev.lodestar.epp.framework.plugin;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What a plugin factory may use while building a plugin: the other plugin instances (created before it
 * in the file, or on demand by name) and the pool's current endpoints.
 */
public interface PluginHandle {
    /** The instance named {@code name}, if it exists and has the given type. */
    <T extends Plugin> Optional<T> plugin(String name, Class<T> type);

    /** Every instance created so far. */
    Collection<Plugin> plugins();

    /** The pool's endpoints right now (for plugins that purge state of endpoints that left). */
    List<EndpointMetadata> endpoints();
}
