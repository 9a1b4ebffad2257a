package dev.lodestar.epp.admission;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class LegacyAdmissionTest {
    private final List<Endpoint> candidates = List.of(Fixtures.endpoint("10.0.0.1", 8000));

    /** A detector that reports a fixed saturation and counts how often it is asked. */
    private static final class FixedDetector implements SaturationDetector {
        private final double saturation;
        final AtomicInteger calls = new AtomicInteger();

        FixedDetector(double saturation) {
            this.saturation = saturation;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("fixed", "fixed");
        }

        @Override
        public double saturation(List<Endpoint> endpoints) {
            calls.incrementAndGet();
            return saturation;
        }
    }

    private Optional<InferenceException> admit(double saturation, int priority) {
        return new LegacyAdmission(new FixedDetector(saturation))
                .admit(Fixtures.request("r", "m", Map.of(), priority, 0), candidates);
    }

    @Test
    void shedsSheddableRequestsWhenSaturated() {
        Optional<InferenceException> refused = admit(1.0, -1);

        assertThat(refused).hasValueSatisfying(e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
            assertThat(e.code().httpStatus()).hasValue(429);
            assertThat(e.clientMessage())
                    .isEqualTo("inference error: ResourceExhausted - system saturated, sheddable request dropped");
        });
        assertThat(admit(3.5, -10)).isPresent();
    }

    @Test
    void admitsSheddableRequestsBelowSaturation() {
        assertThat(admit(0.999, -1)).isEmpty();
    }

    @Test
    void neverShedsOtherRequestsNorAsksTheDetectorAboutThem() {
        FixedDetector detector = new FixedDetector(10);
        LegacyAdmission admission = new LegacyAdmission(detector);

        assertThat(admission.admit(Fixtures.request("r", "m", Map.of(), 0, 0), candidates)).isEmpty();
        assertThat(admission.admit(Fixtures.request("r", "m", Map.of(), 2, 0), candidates)).isEmpty();
        assertThat(detector.calls).hasValue(0);
    }
}
