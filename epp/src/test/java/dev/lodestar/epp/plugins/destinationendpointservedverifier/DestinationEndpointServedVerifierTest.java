package dev.lodestar.epp.plugins.destinationendpointservedverifier;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DestinationEndpointServedVerifierTest {
    private final DestinationEndpointServedVerifier verifier = new DestinationEndpointServedVerifier("verifier");

    private Map<String, String> verify(Map<String, String> responseHeaders) {
        Map<String, String> headersToSet = new HashMap<>();
        verifier.responseHeader(Fixtures.request("r"), new Response("r", responseHeaders, false, null),
                Fixtures.endpoint("10.0.0.1", 8000).metadata(), headersToSet);
        return headersToSet;
    }

    @Test
    void echoesTheServedEndpoint() {
        assertThat(verify(Map.of("x-gateway-destination-endpoint-served", "10.0.0.2:8000",
                "x-gateway-envoy-lb-metadata-present", "true")))
                .containsExactly(Map.entry("x-conformance-test-served-endpoint", "10.0.0.2:8000"));
    }

    @Test
    void reportsMissingServedMetadata() {
        assertThat(verify(Map.of("x-gateway-envoy-lb-metadata-present", "true")))
                .containsExactly(Map.entry("x-conformance-test-served-endpoint",
                        "fail: missing destination endpoint served metadata"));
    }

    @Test
    void reportsMissingLbMetadata() {
        assertThat(verify(Map.of("x-gateway-envoy-lb-metadata-present", "false")))
                .containsExactly(Map.entry("x-conformance-test-served-endpoint", "fail: missing envoy lb metadata"));
        assertThat(verify(Map.of())).containsEntry("x-conformance-test-served-endpoint",
                "fail: missing envoy lb metadata");
    }

    @Test
    void factory() {
        assertThat(DestinationEndpointServedVerifier.FACTORY.create("v", Fixtures.noParams(), Fixtures.HANDLE)
                .typedName()).isEqualTo(new TypedName("destination-endpoint-served-verifier", "v"));
        assertThatThrownBy(() -> Fixtures.create(DestinationEndpointServedVerifier.FACTORY, "v", "{\"expect\":1}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
