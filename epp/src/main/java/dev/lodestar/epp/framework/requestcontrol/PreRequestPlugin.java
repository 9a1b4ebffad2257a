package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.Map;

/**
 * Runs after scheduling, before the request goes to the model server (e.g. records the pick in the
 * prefix index, counts in-flight load). It may add request headers for the model server.
 */
public interface PreRequestPlugin extends Plugin {
    void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet);
}
