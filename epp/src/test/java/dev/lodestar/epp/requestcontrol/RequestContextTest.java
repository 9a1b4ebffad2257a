package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestContextTest {
    @Test
    void aFreshContextHoldsNoDecision() {
        RequestContext context = new RequestContext();

        assertThat(context.requestHeaders()).isEmpty();
        assertThat(context.subsetHint()).isEmpty();
        assertThat(context.requestId()).isEmpty();
        assertThat(context.requestIdGenerated()).isFalse();
        assertThat(context.objectiveKey()).isEmpty();
        assertThat(context.modelRewriteHeader()).isEmpty();
        assertThat(context.fairnessId()).isEmpty();
        assertThat(context.requestBody()).isEmpty();
        assertThat(context.incomingModel()).isEmpty();
        assertThat(context.targetModel()).isEmpty();
        assertThat(context.priority()).isZero();
        assertThat(context.llmRequest()).isEmpty();
        assertThat(context.destination()).isEmpty();
        assertThat(context.targetEndpoint()).isEmpty();
        assertThat(context.headersToSet()).isEmpty();
        assertThat(context.responseHeaders()).isEmpty();
        assertThat(context.streamingResponse()).isFalse();
        assertThat(context.usage()).isEmpty();
        assertThat(context.responseBytes()).isZero();
        assertThat(context.responseComplete()).isFalse();
    }

    @Test
    void theSubsetHintIsACopyAndAnEmptyHintIsNotNoHint() {
        List<String> entries = new ArrayList<>(List.of("10.0.0.1:8000"));
        RequestContext context = new RequestContext();

        context.subsetHint(entries);
        entries.add("10.0.0.2:8000");

        assertThat(context.subsetHint()).contains(List.of("10.0.0.1:8000"));
        assertThatThrownBy(() -> context.subsetHint().orElseThrow().add("x")).isInstanceOf(UnsupportedOperationException.class);
        RequestContext empty = new RequestContext();
        empty.subsetHint(List.of());
        assertThat(empty.subsetHint()).contains(List.of());
    }

    @Test
    void theRequestIdRemembersWhetherTheEppMadeItUp() {
        RequestContext context = new RequestContext();

        context.requestId("generated-uuid", true);
        assertThat(context.requestId()).isEqualTo("generated-uuid");
        assertThat(context.requestIdGenerated()).isTrue();

        context.requestId("from-client", false);
        assertThat(context.requestIdGenerated()).isFalse();
    }

    @Test
    void routeSetsTheDestinationAndTheTargetTogether() {
        EndpointMetadata target = new EndpointMetadata(EndpointKey.ofRank("ns", "pod", 1), "pod", "10.0.0.1", 8001,
                "10.0.0.1:8001", Map.of());
        RequestContext context = new RequestContext();

        context.route("10.0.0.1:8001,10.0.0.2:8000", target);

        assertThat(context.destination()).isEqualTo("10.0.0.1:8001,10.0.0.2:8000");
        assertThat(context.targetEndpoint()).contains(target);
    }

    @Test
    void responseBytesAccumulateOverChunks() {
        RequestContext context = new RequestContext();

        context.addResponseBytes(100);
        context.addResponseBytes(23);
        context.addResponseBytes(0);

        assertThat(context.responseBytes()).isEqualTo(123);
    }

    @Test
    void theLatestUsageReplacesTheEarlierOne() {
        RequestContext context = new RequestContext();
        Usage first = new Usage(10, 1, 11, 0);
        Usage last = new Usage(10, 25, 35, 4);

        context.usage(first);
        context.usage(last);

        assertThat(context.usage()).contains(last);
    }

    @Test
    void headerMapsAreTheContextsOwnAndMutable() {
        RequestContext context = new RequestContext();

        context.requestHeaders().put(":path", "/v1/completions");
        context.headersToSet().put("x-prefill", "10.0.0.9:8000");
        context.responseHeaders().put(":status", "200");

        assertThat(context.requestHeaders()).containsExactly(Map.entry(":path", "/v1/completions"));
        assertThat(context.headersToSet()).containsExactly(Map.entry("x-prefill", "10.0.0.9:8000"));
        assertThat(context.responseHeaders()).containsExactly(Map.entry(":status", "200"));
    }
}
