package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.Optional;

/**
 * Decides per request whether a disaggregated stage (prefill, or encode) runs, for
 * {@code disagg-profile-handler} and {@code pd-profile-handler}, which find deciders by plugin name.
 */
public interface Decider extends Plugin {
    /**
     * @param decodeEndpoint the endpoint the decode profile chose; empty when decode has not run yet
     *                       (an encode decider in {@code prefill-first} order)
     */
    boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint);
}
