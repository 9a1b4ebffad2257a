package dev.lodestar.epp.requestcontrol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RequestControlHeadersTest {
    @ParameterizedTest
    @ValueSource(strings = {
            // GIE v1.5.0 input control headers, read then stripped
            "x-gateway-inference-objective", "x-gateway-inference-fairness-id", "x-gateway-model-name-rewrite",
            "x-gateway-destination-endpoint-subset",
            // llm-d Router's names for the same controls
            "x-llm-d-inference-objective", "x-llm-d-inference-fairness-id", "x-llm-d-model-name-rewrite",
            // what the EPP injects: a client must not be able to set it
            "x-gateway-destination-endpoint", "x-gateway-destination-endpoint-served",
            // llm-d disaggregation targets for the decode pod's sidecar: set by the EPP only
            "x-prefiller-host-port", "x-encoder-hosts-ports", "x-kv-cache-source-host-port",
            "x-data-parallel-host-port",
            // reset to the re-serialized body's length
            "content-length"})
    void controlHeadersAreSystemOwned(String name) {
        assertThat(RequestControlHeaders.systemOwned(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Gateway-Destination-Endpoint", "Content-Length", "X-LLM-D-Inference-Objective"})
    void ownershipIgnoresCaseAsGieDoes(String name) {
        assertThat(RequestControlHeaders.systemOwned(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-request-id", ":path", ":authority", "authorization", "content-type",
            "x-gateway-model-name", "x-gateway-base-model-name", "test-epp-endpoint-selection", "traceparent",
            "x-gateway-destination-endpoint-fallback"})
    void otherHeadersAreForwarded(String name) {
        assertThat(RequestControlHeaders.systemOwned(name)).isFalse();
    }

    @Test
    void eachControlIsReadUnderTheGatewayNameOrTheLlmdName() {
        assertThat(RequestControlHeaders.OBJECTIVE)
                .containsExactly("x-gateway-inference-objective", "x-llm-d-inference-objective");
        assertThat(RequestControlHeaders.MODEL_NAME_REWRITE)
                .containsExactly("x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite");
        assertThat(RequestControlHeaders.FAIRNESS_ID)
                .containsExactly("x-gateway-inference-fairness-id", "x-llm-d-inference-fairness-id");
        assertThat(RequestControlHeaders.SYSTEM_OWNED).containsAll(RequestControlHeaders.OBJECTIVE)
                .containsAll(RequestControlHeaders.MODEL_NAME_REWRITE).containsAll(RequestControlHeaders.FAIRNESS_ID);
    }

    @Test
    void theFirstAliasWithAValueWins() {
        Map<String, String> both = new LinkedHashMap<>();
        both.put("x-llm-d-inference-objective", "from-llm-d");
        both.put("x-gateway-inference-objective", "from-gateway");

        assertThat(RequestControlHeaders.firstValue(both, RequestControlHeaders.OBJECTIVE)).isEqualTo("from-gateway");
        assertThat(RequestControlHeaders.firstValue(Map.of("x-llm-d-inference-objective", "from-llm-d"),
                RequestControlHeaders.OBJECTIVE)).isEqualTo("from-llm-d");
    }

    @Test
    void anEmptyValueCountsAsAbsent() {
        Map<String, String> headers = Map.of("x-gateway-model-name-rewrite", "", "x-llm-d-model-name-rewrite", "m2");

        assertThat(RequestControlHeaders.firstValue(headers, RequestControlHeaders.MODEL_NAME_REWRITE)).isEqualTo("m2");
        assertThat(RequestControlHeaders.firstValue(Map.of("x-gateway-inference-fairness-id", ""),
                RequestControlHeaders.FAIRNESS_ID)).isEmpty();
        assertThat(RequestControlHeaders.firstValue(Map.of(), RequestControlHeaders.OBJECTIVE)).isEmpty();
    }

    @Test
    void protocolNamesAreTheEndpointPickerProtocols() {
        assertThat(RequestControlHeaders.DESTINATION_METADATA_NAMESPACE).isEqualTo("envoy.lb");
        assertThat(RequestControlHeaders.SUBSET_METADATA_NAMESPACE).isEqualTo("envoy.lb.subset_hint");
        assertThat(RequestControlHeaders.DESTINATION_ENDPOINT).isEqualTo("x-gateway-destination-endpoint");
        assertThat(RequestControlHeaders.DESTINATION_ENDPOINT_SUBSET).isEqualTo("x-gateway-destination-endpoint-subset");
        assertThat(RequestControlHeaders.DESTINATION_ENDPOINT_SERVED).isEqualTo("x-gateway-destination-endpoint-served");
        assertThat(RequestControlHeaders.REQUEST_ID).isEqualTo("x-request-id");
    }
}
