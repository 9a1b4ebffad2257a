package dev.lodestar.epp.config;

/**
 * Every plugin type Lodestar ships, registered under its upstream type name. Each plugin lives in its own
 * package under {@code dev.lodestar.epp.plugins} and exposes {@code TYPE} and {@code FACTORY}.
 */
final class BuiltInPlugins {
    private BuiltInPlugins() {
    }

    static void registerAll(PluginRegistry registry) {
        // Plugins register here, one line each, in alphabetical order of type.
    }
}
