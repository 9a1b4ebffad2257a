package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefillHeaderHandlerTest {
    private final Endpoint decode = Fixtures.endpoint("10.0.0.1", 8000);
    private final Endpoint prefill = Fixtures.endpoint("10.0.0.2", 8001);
    private final Endpoint prefillV6 = Fixtures.endpoint("fd00::2", 8001);

    private static SchedulingResult result(Map<String, List<Endpoint>> targets) {
        Map<String, ProfileRunResult> runs = new LinkedHashMap<>();
        targets.forEach((profile, endpoints) -> runs.put(profile, new ProfileRunResult(endpoints)));
        return new SchedulingResult(runs, "decode");
    }

    private static Map<String, String> headers(PrefillHeaderHandler handler, SchedulingResult result,
                                               Map<String, String> before) {
        Map<String, String> headers = new HashMap<>(before);
        handler.preRequest(Fixtures.request("r"), result, headers);
        return headers;
    }

    private static PrefillHeaderHandler create(String json) {
        return (PrefillHeaderHandler) Fixtures.create(PrefillHeaderHandler.FACTORY, "headers", json);
    }

    @Test
    void thePrefillTargetBecomesTheHeaderWithIpv6InBrackets() {
        PrefillHeaderHandler handler = create("{}");

        assertThat(headers(handler, result(Map.of("decode", List.of(decode), "prefill", List.of(prefill))), Map.of()))
                .containsExactly(Map.entry("x-prefiller-host-port", "10.0.0.2:8001"));
        assertThat(headers(handler, result(Map.of("decode", List.of(decode), "prefill", List.of(prefillV6))),
                Map.of())).containsExactly(Map.entry("x-prefiller-host-port", "[fd00::2]:8001"));
    }

    @Test
    void withoutAPrefillResultTheHeaderIsAbsentEvenIfSetBefore() {
        assertThat(headers(create("{}"), result(Map.of("decode", List.of(decode))),
                Map.of("x-prefiller-host-port", "1.2.3.4:5", "x-encoder-hosts-ports", "1.2.3.4:5"))).isEmpty();
    }

    @Test
    void customProfileNamesAndEveryEncodeTarget() {
        PrefillHeaderHandler handler = create("{\"prefillProfile\": \"p\", \"encodeProfile\": \"e\"}");
        Endpoint encodeA = Fixtures.endpoint("10.0.0.5", 8000);
        Endpoint encodeB = Fixtures.endpoint("10.0.0.6", 8000);

        assertThat(headers(handler, result(Map.of("decode", List.of(decode), "p", List.of(prefill),
                "e", List.of(encodeA, encodeB))), Map.of()))
                .containsEntry("x-prefiller-host-port", "10.0.0.2:8001")
                .containsEntry("x-encoder-hosts-ports", "10.0.0.5:8000,10.0.0.6:8000");
        // a profile named "prefill" is not the configured one
        assertThat(headers(handler, result(Map.of("decode", List.of(decode), "prefill", List.of(prefill))), Map.of()))
                .isEmpty();
    }

    @Test
    void disaggHeadersHandlerIsTheSamePluginUnderItsOtherDeprecatedName() {
        PrefillHeaderHandler handler = (PrefillHeaderHandler) Fixtures.create(PrefillHeaderHandler.DISAGG_HEADERS_FACTORY,
                "h", "{}");
        assertThat(handler.typedName().type()).isEqualTo("disagg-headers-handler");
        assertThat(create("{}").typedName().type()).isEqualTo("prefill-header-handler");
    }

    @Test
    void unknownParametersAreErrors() {
        assertThatThrownBy(() -> create("{\"decodeProfile\": \"d\"}")).hasMessageContaining("unknown parameter 'decodeProfile'");
    }
}
