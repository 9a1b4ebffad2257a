package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LatencyModelTest {
    private static SimulatorConfig.Builder base() {
        return SimulatorConfig.builder().maxNumSeqs(11).timeFactorUnderLoad(3.0)
                .interTokenLatency(Duration.ofMillis(10))
                .prefillOverhead(Duration.ofMillis(20)).prefillTimePerToken(Duration.ofMillis(1));
    }

    @Test
    void loadFactorGrowsLinearlyFromOneToTheConfiguredFactor() {
        LatencyModel model = new LatencyModel(base().build());
        assertThat(model.loadFactor(1)).isEqualTo(1.0);
        assertThat(model.loadFactor(6)).isEqualTo(2.0);
        assertThat(model.loadFactor(11)).isEqualTo(3.0);
        assertThat(new LatencyModel(base().maxNumSeqs(1).build()).loadFactor(1)).isEqualTo(1.0);
    }

    @Test
    void perTokenPrefillChargesOnlyUncachedTokensScaledByLoad() {
        LatencyModel model = new LatencyModel(base().build());
        assertThat(model.meanPrefillNanos(100, 0, 1)).isEqualTo(Duration.ofMillis(120).toNanos());
        assertThat(model.meanPrefillNanos(100, 96, 1)).isEqualTo(Duration.ofMillis(24).toNanos());
        assertThat(model.meanPrefillNanos(100, 96, 6)).isEqualTo(Duration.ofMillis(48).toNanos());
        assertThat(model.meanInterTokenNanos(11)).isEqualTo(Duration.ofMillis(30).toNanos());
    }

    @Test
    void timeToFirstTokenSelectsTheConstantCalculatorWhenUnset() {
        LatencyModel model = new LatencyModel(base().timeToFirstToken(Duration.ofMillis(50)).build());
        assertThat(model.meanPrefillNanos(1000, 0, 1)).isEqualTo(Duration.ofMillis(50).toNanos());
        LatencyModel perToken = new LatencyModel(base().timeToFirstToken(Duration.ofMillis(50))
                .latencyCalculator(LatencyModel.LatencyCalculator.PER_TOKEN).build());
        assertThat(perToken.meanPrefillNanos(1000, 0, 1)).isEqualTo(Duration.ofMillis(1020).toNanos());
        LatencyModel constant = new LatencyModel(base()
                .latencyCalculator(LatencyModel.LatencyCalculator.CONSTANT).build());
        assertThat(constant.meanPrefillNanos(1000, 0, 1)).isZero();
    }

    @Test
    void aDecodeOfARemotePrefillPaysThePrefillOverheadOnlyOrNothingUnderTheConstantCalculator() {
        SplittableRandom random = new SplittableRandom(1);
        assertThat(new LatencyModel(base().build()).remotePrefillNanos(1, random))
                .isEqualTo(Duration.ofMillis(20).toNanos());
        assertThat(new LatencyModel(base().build()).remotePrefillNanos(6, random))
                .isEqualTo(Duration.ofMillis(40).toNanos());
        assertThat(new LatencyModel(base().timeToFirstToken(Duration.ofMillis(50)).build())
                .remotePrefillNanos(1, random)).isZero();
    }

    @Test
    void jitterStaysWithinSeventyPercentAndKeepsTheMean() {
        SplittableRandom random = new SplittableRandom(7);
        long mean = 1_000_000;
        double sum = 0;
        int samples = 20_000;
        for (int i = 0; i < samples; i++) {
            long value = LatencyModel.jitter(mean, 300_000, random);
            assertThat(value).isBetween(300_000L, 1_700_000L);
            sum += value;
        }
        assertThat(sum / samples).isCloseTo(mean, within(mean * 0.01));
        assertThat(LatencyModel.jitter(mean, 0, random)).isEqualTo(mean);
    }

    @Test
    void calculatorNamesParseAsUpstreamSpellsThem() {
        assertThat(LatencyModel.LatencyCalculator.parse("per-token")).isEqualTo(LatencyModel.LatencyCalculator.PER_TOKEN);
        assertThat(LatencyModel.LatencyCalculator.parse("")).isEqualTo(LatencyModel.LatencyCalculator.DEFAULT);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LatencyModel.LatencyCalculator.parse("linear"))
                .hasMessageContaining("constant, per-token");
    }
}
