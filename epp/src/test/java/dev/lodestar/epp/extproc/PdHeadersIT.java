package dev.lodestar.epp.extproc;

import com.google.protobuf.ByteString;
import dev.lodestar.epp.testing.HermeticEpp;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.lodestar.epp.testing.FakeVllmPod.pod;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The P/D header over ext_proc: set for the decode pod when the decider sends the request to prefill too,
 * and removed when a client sent it but the EPP chose decode only; the decision counters on /metrics.
 */
class PdHeadersIT {
    private static final String CONFIG = """
            apiVersion: llm-d.ai/v1alpha1
            kind: EndpointPickerConfig
            plugins:
              - type: decode-filter
              - type: queue-scorer
              - type: disagg-profile-handler
                parameters:
                  deciders:
                    prefill: prefix-based-pd-decider
              - type: prefix-based-pd-decider
                parameters:
                  nonCachedTokens: 100
            schedulingProfiles:
              - name: decode
                plugins:
                  - pluginRef: decode-filter
                  - pluginRef: queue-scorer
              - name: prefill
                plugins:
                  - pluginRef: queue-scorer
            """;

    private static HermeticEpp epp;

    @BeforeAll
    static void start() throws IOException {
        epp = HermeticEpp.builder().configText(CONFIG).pods(List.of(pod(40, 0, 0.1), pod(41, 5, 0.1)))
                .refreshMetricsInterval(Duration.ofMillis(50)).start();
    }

    @AfterAll
    static void stop() {
        if (epp != null) {
            epp.close();
        }
    }

    private static HeaderMutation route(String prompt) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(":path", "/v1/completions");
        headers.put("x-prefiller-host-port", "6.6.6.6:80");
        headers.put("x-encoder-hosts-ports", "6.6.6.6:80");
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((name, value) -> map.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value)));
        List<ProcessingRequest> requests = List.of(
                ProcessingRequest.newBuilder().setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map)).build(),
                ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder().setEndOfStream(true)
                        .setBody(ByteString.copyFromUtf8("{\"model\":\"m\",\"prompt\":\"" + prompt + "\"}"))).build());
        List<ProcessingResponse> responses = epp.exchange(requests, 2);
        return responses.getFirst().getRequestHeaders().getResponse().getHeaderMutation();
    }

    private static Map<String, String> set(HeaderMutation mutation) {
        Map<String, String> set = new LinkedHashMap<>();
        for (HeaderValueOption option : mutation.getSetHeadersList()) {
            set.put(option.getHeader().getKey(), option.getHeader().getRawValue().toString(StandardCharsets.UTF_8));
        }
        return set;
    }

    @Test
    void theEppSetsThePrefillHeaderOrRemovesTheOneTheClientSent() throws Exception {
        HeaderMutation disaggregated = route("y".repeat(800)); // about 200 tokens, none cached
        Map<String, String> set = set(disaggregated);
        assertThat(set.get("x-prefiller-host-port")).isEqualTo(set.get("x-gateway-destination-endpoint"))
                .startsWith("127.0.9.41:");
        assertThat(disaggregated.getRemoveHeadersList()).doesNotContain("x-prefiller-host-port")
                .contains("x-encoder-hosts-ports");

        HeaderMutation decodeOnly = route("short");
        assertThat(set(decodeOnly)).doesNotContainKeys("x-prefiller-host-port", "x-encoder-hosts-ports");
        assertThat(decodeOnly.getRemoveHeadersList()).contains("x-prefiller-host-port", "x-encoder-hosts-ports");

        Map<String, Double> samples = epp.scrapeMetrics();
        String labels = "{decision_type=\"%s\",model_name=\"m\",plugin_name=\"disagg-profile-handler\","
                + "plugin_type=\"disagg-profile-handler\"}";
        assertThat(samples).containsEntry("llm_d_epp_disagg_decision_total" + labels.formatted("prefill-decode"), 1.0)
                .containsEntry("llm_d_epp_disagg_decision_total" + labels.formatted("decode-only"), 1.0)
                .containsEntry("llm_d_inference_scheduler_disagg_decision_total{decision_type=\"decode-only\","
                        + "model_name=\"m\"}", 1.0);
    }
}
