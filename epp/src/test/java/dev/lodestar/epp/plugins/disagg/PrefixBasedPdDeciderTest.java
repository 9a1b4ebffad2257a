package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.PluginTestFixtures;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefixBasedPdDeciderTest {
    /** A completion whose prompt is {@code chars} bytes: ceil(chars / 4) tokens. */
    private static LlmRequest prompt(int chars) {
        return PluginTestFixtures.completion("r", "model", "x".repeat(chars));
    }

    private static Endpoint decodeWithMatch(int matchBlocks, int blockSizeTokens) {
        Endpoint endpoint = Fixtures.endpoint("10.0.0.1", 8000);
        endpoint.putAttribute(PrefixCacheMatchInfo.key(PrefixCacheMatchInfo.DEFAULT_PRODUCER),
                new PrefixCacheMatchInfo(matchBlocks, 100, blockSizeTokens));
        return endpoint;
    }

    private static PrefixBasedPdDecider decider(String json) {
        return (PrefixBasedPdDecider) Fixtures.create(PrefixBasedPdDecider.FACTORY, "decider", json);
    }

    @Test
    void disaggregatesWhenTheUncachedTokensReachTheThreshold() {
        PrefixBasedPdDecider decider = decider("{\"nonCachedTokens\": 16}");
        LlmRequest request = prompt(400); // 100 tokens

        // 21 blocks x 4 = 84 cached: 16 uncached, exactly the threshold.
        assertThat(decider.disaggregate(request, Optional.of(decodeWithMatch(21, 4)))).isTrue();
        // 22 x 4 = 88 cached: 12 uncached.
        assertThat(decider.disaggregate(request, Optional.of(decodeWithMatch(22, 4)))).isFalse();
        // 5 x 16 = 80 cached: 20 uncached; 6 x 16 = 96: 4 uncached.
        assertThat(decider.disaggregate(request, Optional.of(decodeWithMatch(5, 16)))).isTrue();
        assertThat(decider.disaggregate(request, Optional.of(decodeWithMatch(6, 16)))).isFalse();
        assertThat(decider.disaggregate(request, Optional.of(decodeWithMatch(0, 16)))).isTrue();
    }

    @Test
    void promptTokensAreTheHashedBytesOverFourRoundedUp() {
        assertThat(PrefixBasedPdDecider.promptTokens(prompt(400))).isEqualTo(100);
        assertThat(PrefixBasedPdDecider.promptTokens(prompt(401))).isEqualTo(101);
        assertThat(PrefixBasedPdDecider.promptTokens(prompt(0))).isZero();

        // 401 bytes = 101 tokens, 84 cached: 17 uncached >= 17.
        assertThat(decider("{\"nonCachedTokens\": 17}").disaggregate(prompt(401), Optional.of(decodeWithMatch(21, 4))))
                .isTrue();
        assertThat(decider("{\"nonCachedTokens\": 17}").disaggregate(prompt(400), Optional.of(decodeWithMatch(21, 4))))
                .isFalse();
    }

    @Test
    void zeroNonCachedTokensNeverDisaggregates() {
        assertThat(decider("{}").disaggregate(prompt(40_000), Optional.of(decodeWithMatch(0, 16)))).isFalse();
    }

    @Test
    void promptsShorterThanPromptTokensOrNonCachedTokensStayOnDecode() {
        Optional<Endpoint> cold = Optional.of(decodeWithMatch(0, 16));
        assertThat(decider("{\"nonCachedTokens\": 8, \"promptTokens\": 101}").disaggregate(prompt(400), cold)).isFalse();
        assertThat(decider("{\"nonCachedTokens\": 8, \"promptTokens\": 100}").disaggregate(prompt(400), cold)).isTrue();
        assertThat(decider("{\"nonCachedTokens\": 101}").disaggregate(prompt(400), cold)).isFalse();
        assertThat(decider("{\"nonCachedTokens\": 100}").disaggregate(prompt(400), cold)).isTrue();
    }

    @Test
    void withoutMatchInfoOrADecodeEndpointItDoesNotDisaggregate() {
        PrefixBasedPdDecider decider = decider("{\"nonCachedTokens\": 1}");
        assertThat(decider.disaggregate(prompt(400), Optional.of(Fixtures.endpoint("10.0.0.1", 8000)))).isFalse();
        assertThat(decider.disaggregate(prompt(400), Optional.empty())).isFalse();
    }

    @Test
    void itReadsTheDefaultApproximateProducersMatchInfo() {
        assertThat(decider("{}").consumes()).containsExactly("PrefixCacheMatchInfoDataKey/approx-prefix-cache-producer");
    }

    @Test
    void parameterErrors() {
        assertThatThrownBy(() -> decider("{\"nonCachedTokens\": -1}")).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("nonCachedTokens parameter of prefix disaggregation decider cannot be negative");
        assertThatThrownBy(() -> decider("{\"promptTokens\": -1}"))
                .hasMessageContaining("promptTokens parameter of prefix disaggregation decider cannot be negative");
        assertThatThrownBy(() -> decider("{\"threshold\": 1}")).hasMessageContaining("unknown parameter 'threshold'");
        assertThatThrownBy(() -> decider("{\"nonCachedTokens\": 1.5}")).isInstanceOf(InvalidConfigException.class);
    }
}
