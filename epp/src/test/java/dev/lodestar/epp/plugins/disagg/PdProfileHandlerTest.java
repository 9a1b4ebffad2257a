package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.PluginTestFixtures;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import dev.lodestar.epp.plugins.disagg.DisaggFixtures.Decisions;
import dev.lodestar.epp.plugins.disagg.DisaggFixtures.FixedDecider;
import dev.lodestar.epp.plugins.rolefilter.RoleFilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.lodestar.epp.plugins.disagg.DisaggFixtures.handle;
import static dev.lodestar.epp.plugins.disagg.DisaggFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PdProfileHandlerTest {
    private final Endpoint decodePod = pod("10.0.0.1", "decode");
    private final Endpoint prefillPod = pod("10.0.0.2", "prefill");
    private final List<String> runs = new ArrayList<>();
    private final Decisions decisions = new Decisions();

    private static PdProfileHandler create(String json, Plugin... plugins) {
        return (PdProfileHandler) PdProfileHandler.FACTORY.create("pd", Fixtures.params(json), handle(plugins));
    }

    private SchedulingResult schedule(PdProfileHandler handler, LlmRequest request, List<Endpoint> fleet) {
        handler.recordDecisionsWith(decisions);
        return new Scheduler(handler, DisaggFixtures.pdProfiles(runs), (point, plugin, nanos) -> {
        }).schedule(request, fleet);
    }

    @Test
    void theNamedDeciderDecidesAndTheDecisionIsCountedAsPdDecision() {
        FixedDecider decider = new FixedDecider("my-decider", true);
        PdProfileHandler handler = create("{\"deciderPluginName\": \"my-decider\"}", decider);
        SchedulingResult result = schedule(handler, Fixtures.request("r"), List.of(decodePod, prefillPod));

        assertThat(runs).containsExactly("decode", "prefill");
        assertThat(decider.seen).containsExactly(Optional.of(decodePod));
        assertThat(result.primaryProfileName()).isEqualTo("decode");
        assertThat(result.profileResults().get("prefill").targetEndpoints()).containsExactly(prefillPod);
        assertThat(decisions.recorded).containsExactly("pd pd pd-profile-handler model prefill-decode");
    }

    @Test
    void aFailedPrefillIsDecodeOnlyButWasCountedWhenTheDeciderSaidYes() {
        PdProfileHandler handler = create("{\"threshold\": 0}");
        SchedulingResult result = schedule(handler, Fixtures.request("r"), List.of(decodePod));

        assertThat(runs).containsExactly("decode", "prefill");
        assertThat(result.profileResults()).containsOnlyKeys("decode");
        assertThat(decisions.recorded).containsExactly("pd pd pd-profile-handler model prefill-decode");
    }

    @Test
    void aFailedDecodeFailsTheRequest() {
        assertThatThrownBy(() -> schedule(create("{}"), Fixtures.request("r"), List.of(prefillPod)))
                .hasMessage("failed to find target endpoint: failed to find available decode workers");
        assertThat(decisions.recorded).isEmpty();
    }

    @Test
    void theV03ThresholdCountsUncachedPromptCharacters() {
        PdProfileHandler handler = create("{\"threshold\": 100, \"hashBlockSize\": 64}");
        LlmRequest request = PluginTestFixtures.completion("r", "model", "x".repeat(400));
        Decider decider = handler.decider();

        // 400 characters, 4 blocks x 16 tokens x 4 characters = 256 cached: 144 uncached >= 100.
        assertThat(decider.disaggregate(request, Optional.of(withMatch(4, 16)))).isTrue();
        // 5 blocks = 320 cached: 80 uncached.
        assertThat(decider.disaggregate(request, Optional.of(withMatch(5, 16)))).isFalse();
        // no match info: the whole prompt is uncached
        assertThat(decider.disaggregate(request, Optional.of(Fixtures.endpoint("10.0.0.1", 8000)))).isTrue();
        assertThat(create("{\"threshold\": 401}").decider().disaggregate(request, Optional.empty())).isFalse();
    }

    private static Endpoint withMatch(int blocks, int blockSizeTokens) {
        Endpoint endpoint = Fixtures.endpoint("10.0.0.1", 8000);
        endpoint.putAttribute(PrefixCacheMatchInfo.key(PrefixCacheMatchInfo.DEFAULT_PRODUCER),
                new PrefixCacheMatchInfo(blocks, 100, blockSizeTokens));
        return endpoint;
    }

    @Test
    void withoutDeciderOrThresholdItUsesAPrefixBasedPdDeciderElseAlwaysDisaggregates() {
        PrefixBasedPdDecider configured = new PrefixBasedPdDecider("prefix-based-pd-decider",
                new PrefixBasedPdDecider.Params(16, null));
        assertThat(create("{}", configured).decider()).isSameAs(configured);

        PdProfileHandler fallback = create("{}");
        assertThat(fallback.decider().disaggregate(Fixtures.request("r"), Optional.empty())).isTrue();
        schedule(fallback, Fixtures.request("r"), List.of(decodePod, prefillPod));
        assertThat(decisions.recorded).containsExactly("pd pd pd-profile-handler model prefill-decode");
    }

    @Test
    void aDecliningDeciderIsCountedAsDecodeOnly() {
        PdProfileHandler handler = create("{\"deciderPluginName\": \"no\"}", new FixedDecider("no", false));
        SchedulingResult result = schedule(handler, Fixtures.request("r"), List.of(decodePod, prefillPod));

        assertThat(runs).containsExactly("decode");
        assertThat(result.profileResults()).containsOnlyKeys("decode");
        assertThat(decisions.recorded).containsExactly("pd pd pd-profile-handler model decode-only");
    }

    @Test
    void customProfileNames() {
        PdProfileHandler handler = create("{\"decodeProfile\": \"d\", \"prefillProfile\": \"p\", \"threshold\": 0}");
        Map<String, SchedulerProfile> profiles = Map.of(
                "d", DisaggFixtures.profile("d", RoleFilter.decode("df"), runs),
                "p", DisaggFixtures.profile("p", RoleFilter.prefill("pf"), runs));
        SchedulingResult result = new Scheduler(handler, profiles, (point, plugin, nanos) -> {
        }).schedule(Fixtures.request("r"), List.of(decodePod, prefillPod));

        assertThat(runs).containsExactly("d", "p");
        assertThat(result.primaryProfileName()).isEqualTo("d");
        assertThat(result.profileResults()).containsOnlyKeys("d", "p");
    }

    @Test
    void parameterErrors() {
        assertThatThrownBy(() -> create("{\"deciderPluginName\": \"missing\"}"))
                .hasMessageContaining("invalid decider plugin type: missing");
        assertThatThrownBy(() -> create("{\"deciderPluginName\": \"picker\"}",
                new dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker("picker", 1, java.util.SplittableRandom::new)))
                .hasMessageContaining("decider plugin of type: picker does not implement pdDeciderPlugin");
        assertThatThrownBy(() -> create("{\"primaryPort\": 8000}"))
                .hasMessageContaining("primaryPort (data-parallel routing) is not supported");
        assertThatThrownBy(() -> create("{\"primaryPort\": 70000}"))
                .hasMessageContaining("invalid primaryPort: must be between 1 and 65535, got 70000");
        assertThatThrownBy(() -> create("{\"threshold\": -1}")).hasMessageContaining("threshold must be >= 0");
        assertThatThrownBy(() -> create("{\"hashBlockSize\": 0}")).hasMessageContaining("hashBlockSize must be > 0");
        assertThatThrownBy(() -> create("{\"threshold\": 5, \"deciderPluginName\": \"d\"}", new FixedDecider("d", true)))
                .hasMessageContaining("threshold (v0.3) and deciderPluginName cannot be used together");
        assertThatThrownBy(() -> create("{\"stageOrder\": \"prefill-first\"}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'stageOrder'");
    }

    @Test
    void theNeverUsedPrefixPluginParametersAreAccepted() {
        assertThat(create("{\"prefixPluginName\": \"prefix-cache-scorer\", \"prefixPluginType\": \"prefix-cache-scorer\","
                + " \"prefixMatchInfoProducerName\": \"approx-prefix-cache-producer\"}").typedName().type())
                .isEqualTo("pd-profile-handler");
    }
}
