package dev.lodestar.epp.plugins.destinationendpointservedverifier;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.Map;

/**
 * Test only (conformance): tells the client which endpoint actually served the request, by writing the
 * response header {@value #RESULT_HEADER}.
 *
 * <p>The proxy reports the served endpoint in the ext_proc request's metadata
 * ({@code filter_metadata["envoy.lb"]["x-gateway-destination-endpoint-served"]}), not in a header. The
 * ext_proc adapter hands it to response-header plugins as two pseudo headers in {@link Response#headers()}:
 * <ul>
 *   <li>{@value #SERVED_ENDPOINT_KEY}: the served {@code ip:port}, when the metadata carries it as a string;</li>
 *   <li>{@value #LB_METADATA_PRESENT_KEY}: {@code true} or {@code false}, whether the {@code envoy.lb}
 *       namespace was present at all.</li>
 * </ul>
 * The adapter must first drop any header of these names the model server sent, so a backend cannot forge
 * them. The header written is the served endpoint, or {@value #MISSING_LB_METADATA} when there is no
 * {@code envoy.lb} metadata, or {@value #MISSING_SERVED_METADATA} when there is but without the endpoint.
 */
public final class DestinationEndpointServedVerifier implements ResponseHeaderPlugin {
    public static final String TYPE = "destination-endpoint-served-verifier";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new DestinationEndpointServedVerifier(name);
    };

    /** Response header the conformance client reads. */
    public static final String RESULT_HEADER = "x-conformance-test-served-endpoint";
    /** Pseudo header the ext_proc adapter sets to the served endpoint from {@code envoy.lb} metadata. */
    public static final String SERVED_ENDPOINT_KEY = "x-gateway-destination-endpoint-served";
    /** Pseudo header the ext_proc adapter sets to {@code true} or {@code false}: was {@code envoy.lb} metadata present. */
    public static final String LB_METADATA_PRESENT_KEY = "x-gateway-envoy-lb-metadata-present";
    public static final String MISSING_LB_METADATA = "fail: missing envoy lb metadata";
    public static final String MISSING_SERVED_METADATA = "fail: missing destination endpoint served metadata";

    /** The plugin takes no parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public DestinationEndpointServedVerifier(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public void responseHeader(LlmRequest request, Response response, EndpointMetadata target,
                               Map<String, String> headersToSet) {
        String served = response.headers().get(SERVED_ENDPOINT_KEY);
        if (served != null) {
            headersToSet.put(RESULT_HEADER, served);
        } else if ("true".equals(response.headers().get(LB_METADATA_PRESENT_KEY))) {
            headersToSet.put(RESULT_HEADER, MISSING_SERVED_METADATA);
        } else {
            headersToSet.put(RESULT_HEADER, MISSING_LB_METADATA);
        }
    }
}
