package dev.lodestar.epp.config;

import dev.lodestar.epp.framework.plugin.PluginFactory;

import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Plugin types the configuration may name, each with the factory that builds an instance. */
public final class PluginRegistry {
    private final TreeMap<String, PluginFactory> factories = new TreeMap<>();

    /** A registry with every built-in plugin type ({@link BuiltInPlugins}). */
    public static PluginRegistry builtIn() {
        PluginRegistry registry = new PluginRegistry();
        BuiltInPlugins.registerAll(registry);
        return registry;
    }

    /**
     * @throws IllegalArgumentException when the type is registered already
     */
    public PluginRegistry register(String type, PluginFactory factory) {
        if (factories.putIfAbsent(type, factory) != null) {
            throw new IllegalArgumentException("plugin type '" + type + "' is registered twice");
        }
        return this;
    }

    /**
     * Swaps the factory of a registered type (e.g. to feed deprecated flags in as parameter defaults).
     *
     * @throws IllegalArgumentException when the type is not registered
     */
    public PluginRegistry replace(String type, PluginFactory factory) {
        if (factories.replace(type, factory) == null) {
            throw new IllegalArgumentException("plugin type '" + type + "' is not registered");
        }
        return this;
    }

    public Optional<PluginFactory> factory(String type) {
        return Optional.ofNullable(factories.get(type));
    }

    /** Registered types, sorted (for error messages and {@code --help}). */
    public Set<String> types() {
        return Collections.unmodifiableSet(factories.keySet());
    }
}
