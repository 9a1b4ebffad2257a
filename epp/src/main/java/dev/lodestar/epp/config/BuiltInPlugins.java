package dev.lodestar.epp.config;

import dev.lodestar.epp.plugins.openaiparser.OpenAiParser;
import dev.lodestar.epp.plugins.passthroughparser.PassthroughParser;

/**
 * Every plugin type Lodestar ships, registered under its upstream type name. Each plugin lives in its own
 * package under {@code dev.lodestar.epp.plugins} and exposes {@code TYPE} and {@code FACTORY}.
 */
final class BuiltInPlugins {
    private BuiltInPlugins() {
    }

    static void registerAll(PluginRegistry registry) {
        // Plugins register here, one line each, in alphabetical order of type.
        registry.register(OpenAiParser.TYPE, OpenAiParser.FACTORY);
        registry.register(PassthroughParser.TYPE, PassthroughParser.FACTORY);
    }
}
