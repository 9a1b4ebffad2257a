package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.ProducerPlugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.List;
import java.util.Set;

/**
 * Prepares per-request data before scheduling (e.g. the prefix match of each endpoint), writing
 * endpoint attributes. Runs in dependency order of {@link #produces()} / {@link #consumes()}; an
 * exception is logged and does not fail the request.
 */
public interface PrepareDataPlugin extends ProducerPlugin, ConsumerPlugin {
    void prepareRequestData(LlmRequest request, List<Endpoint> endpoints);

    @Override
    default Set<String> consumes() {
        return Set.of();
    }
}
