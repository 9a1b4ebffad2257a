package dev.lodestar.epp.framework.requesthandling;

import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;

import java.util.Map;
import java.util.Optional;

/** Reads request bodies and finds usage in response bodies ({@code openai-parser}, {@code passthrough-parser}). */
public interface Parser extends Plugin {
    /**
     * @param headers request headers, lower-case names, pseudo-headers included ({@code :path})
     * @throws InferenceException {@code BadRequest} when the body is not a valid request
     */
    LlmRequestBody parseRequest(byte[] body, Map<String, String> headers);

    /**
     * Usage found in a response body or, for streams, in one chunk of it.
     *
     * @param streaming whether the response is an SSE stream
     */
    Optional<Usage> parseResponse(byte[] body, boolean streaming);

    /** Whether this parser rewrites the body's model (JSON parsers do; passthrough does not). */
    boolean rewritesModel();
}
