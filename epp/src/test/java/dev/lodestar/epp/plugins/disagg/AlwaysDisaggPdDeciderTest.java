package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlwaysDisaggPdDeciderTest {
    @Test
    void everyRequestDisaggregatesWithOrWithoutADecodeEndpoint() {
        Decider decider = (Decider) Fixtures.create(AlwaysDisaggPdDecider.FACTORY, "always", "{}");

        assertThat(decider.typedName().type()).isEqualTo("always-disagg-pd-decider");
        assertThat(decider.disaggregate(Fixtures.request("r"), Optional.of(Fixtures.endpoint("10.0.0.1", 8000))))
                .isTrue();
        assertThat(decider.disaggregate(Fixtures.request("r"), Optional.empty())).isTrue();
    }

    @Test
    void itTakesNoParameters() {
        assertThatThrownBy(() -> Fixtures.create(AlwaysDisaggPdDecider.FACTORY, "always", "{\"x\": 1}"))
                .hasMessageContaining("unknown parameter 'x'");
    }
}
