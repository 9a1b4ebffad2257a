package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.Map;

/** Sees the model server's response headers; may add response headers for the client. */
public interface ResponseHeaderPlugin extends Plugin {
    void responseHeader(LlmRequest request, Response response, EndpointMetadata target,
                        Map<String, String> headersToSet);
}
