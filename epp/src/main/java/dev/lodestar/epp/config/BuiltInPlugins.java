package dev.lodestar.epp.config;

import dev.lodestar.epp.plugins.activerequest.ActiveRequestScorer;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import dev.lodestar.epp.plugins.nohitlru.NoHitLruScorer;
import dev.lodestar.epp.plugins.prefixscorer.PrefixCacheScorer;
import dev.lodestar.epp.plugins.sessionaffinity.SessionAffinityScorer;
import dev.lodestar.epp.plugins.tokenload.TokenLoadScorer;

/**
 * Every plugin type Lodestar ships, registered under its upstream type name. Each plugin lives in its own
 * package under {@code dev.lodestar.epp.plugins} and exposes {@code TYPE} and {@code FACTORY}.
 */
final class BuiltInPlugins {
    private BuiltInPlugins() {
    }

    static void registerAll(PluginRegistry registry) {
        // Plugins register here, one line each, in alphabetical order of type.
        registry.register(ActiveRequestScorer.TYPE, ActiveRequestScorer.FACTORY);
        registry.register(ApproxPrefixCacheProducer.TYPE, ApproxPrefixCacheProducer.FACTORY);
        registry.register(InFlightLoadProducer.TYPE, InFlightLoadProducer.FACTORY);
        registry.register(NoHitLruScorer.TYPE, NoHitLruScorer.FACTORY);
        registry.register(PrefixCacheScorer.TYPE, PrefixCacheScorer.FACTORY);
        registry.register(SessionAffinityScorer.TYPE, SessionAffinityScorer.FACTORY);
        registry.register(TokenLoadScorer.TYPE, TokenLoadScorer.FACTORY);
    }
}
