package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

/**
 * Sees the response body: per chunk for streams, once for buffered bodies. The call with
 * {@link Response#endOfStream()} is guaranteed, also when the client disconnects, so in-flight
 * accounting can rely on it.
 */
public interface ResponseBodyPlugin extends Plugin {
    void responseBody(LlmRequest request, Response response, EndpointMetadata target);
}
