package dev.lodestar.epp.plugins.rolefilter;

import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoleFilterTest {
    private static final List<String> ROLES = List.of("decode", "prefill", "encode", "prefill-decode", "both",
            "encode-prefill", "encode-prefill-decode", "Decode", "other", "");

    /** One pod per role value (10.0.0.<i+1>), plus an unlabeled pod (10.0.0.100). */
    private static List<Endpoint> fleet() {
        List<Endpoint> fleet = new ArrayList<>();
        for (int i = 0; i < ROLES.size(); i++) {
            fleet.add(Fixtures.labelled("10.0.0." + (i + 1), Map.of("llm-d.ai/role", ROLES.get(i))));
        }
        fleet.add(Fixtures.labelled("10.0.0.100", Map.of("app", "vllm")));
        return fleet;
    }

    private static List<String> kept(Filter filter) {
        List<String> roles = new ArrayList<>();
        for (Endpoint endpoint : filter.filter(new CycleState(), Fixtures.request("r"), fleet())) {
            roles.add(endpoint.metadata().labels().getOrDefault("llm-d.ai/role", "<unlabeled>"));
        }
        return roles;
    }

    private static Filter create(String type, String json) {
        return (Filter) Fixtures.create(switch (type) {
            case "decode-filter" -> RoleFilter.DECODE_FACTORY;
            case "prefill-filter" -> RoleFilter.PREFILL_FACTORY;
            default -> RoleFilter.ENCODE_FACTORY;
        }, type, json);
    }

    @Test
    void decodeKeepsDecodeCapableRolesAndUnlabeledPods() {
        assertThat(kept(create("decode-filter", "{}")))
                .containsExactly("decode", "prefill-decode", "both", "encode-prefill-decode", "<unlabeled>");
    }

    @Test
    void prefillKeepsPrefillCapableRolesButNotUnlabeledPods() {
        assertThat(kept(create("prefill-filter", "{}")))
                .containsExactly("prefill", "prefill-decode", "both", "encode-prefill", "encode-prefill-decode");
    }

    @Test
    void encodeKeepsEncodeCapableRoles() {
        assertThat(kept(create("encode-filter", "{}")))
                .containsExactly("encode", "encode-prefill", "encode-prefill-decode");
    }

    @Test
    void typesAndStrictParameters() {
        assertThat(create("decode-filter", "{}").typedName().type()).isEqualTo("decode-filter");
        assertThat(create("prefill-filter", "{}").typedName().type()).isEqualTo("prefill-filter");
        assertThatThrownBy(() -> create("decode-filter", "{\"label\": \"role\"}"))
                .hasMessageContaining("unknown parameter 'label'");
    }
}
