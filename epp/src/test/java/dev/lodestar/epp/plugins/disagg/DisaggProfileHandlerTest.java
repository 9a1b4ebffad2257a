package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.disagg.DisaggFixtures.Decisions;
import dev.lodestar.epp.plugins.disagg.DisaggFixtures.FixedDecider;
import dev.lodestar.epp.plugins.disagg.DisaggProfileHandler.StageOrder;
import dev.lodestar.epp.plugins.rolefilter.RoleFilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.lodestar.epp.plugins.disagg.DisaggFixtures.handle;
import static dev.lodestar.epp.plugins.disagg.DisaggFixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DisaggProfileHandlerTest {
    private final Endpoint decodePod = pod("10.0.0.1", "decode");
    private final Endpoint prefillPod = pod("10.0.0.2", "prefill");
    private final List<String> runs = new ArrayList<>();
    private final Decisions decisions = new Decisions();
    private final LlmRequest request = Fixtures.request("r");

    private DisaggProfileHandler handler(StageOrder order, Optional<Decider> prefill, Optional<Decider> encode) {
        DisaggProfileHandler handler = new DisaggProfileHandler("pd", order, "decode", "prefill", "encode", prefill,
                encode);
        handler.recordDecisionsWith(decisions);
        return handler;
    }

    private SchedulingResult schedule(ProfileHandler handler, Map<String, SchedulerProfile> profiles,
                                      List<Endpoint> fleet) {
        return new Scheduler(handler, profiles, (point, plugin, nanos) -> {
        }).schedule(request, fleet);
    }

    private static Map<String, String> headers(PreRequestRun run) {
        return run.headers;
    }

    private record PreRequestRun(SchedulingResult result, Map<String, String> headers) {
    }

    private PreRequestRun run(DisaggProfileHandler handler, Map<String, SchedulerProfile> profiles,
                              List<Endpoint> fleet, Map<String, String> headersBefore) {
        SchedulingResult result = schedule(handler, profiles, fleet);
        Map<String, String> headers = new HashMap<>(headersBefore);
        handler.preRequest(request, result, headers);
        return new PreRequestRun(result, headers);
    }

    @Test
    void decodeFirstRunsPrefillWhenTheDeciderApprovesTheChosenDecodeEndpoint() {
        FixedDecider decider = new FixedDecider("decider", true);
        PreRequestRun run = run(handler(StageOrder.DECODE_FIRST, Optional.of(decider), Optional.empty()),
                DisaggFixtures.pdProfiles(runs), List.of(decodePod, prefillPod), Map.of());

        assertThat(runs).containsExactly("decode", "prefill");
        assertThat(decider.seen).containsExactly(Optional.of(decodePod));
        assertThat(run.result().primaryProfileName()).isEqualTo("decode");
        assertThat(run.result().primary().targetEndpoints()).containsExactly(decodePod);
        assertThat(run.result().profileResults().get("prefill").targetEndpoints()).containsExactly(prefillPod);
        assertThat(headers(run)).containsExactly(Map.entry("x-prefiller-host-port", "10.0.0.2:8000"));
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model prefill-decode");
    }

    @Test
    void aDecliningDeciderLeavesDecodeOnlyAndNoPrefillHeader() {
        PreRequestRun run = run(handler(StageOrder.DECODE_FIRST, Optional.of(new FixedDecider("d", false)),
                Optional.empty()), DisaggFixtures.pdProfiles(runs), List.of(decodePod, prefillPod),
                Map.of("x-prefiller-host-port", "10.9.9.9:8000"));

        assertThat(runs).containsExactly("decode");
        assertThat(run.result().profileResults()).containsOnlyKeys("decode");
        assertThat(headers(run)).doesNotContainKey("x-prefiller-host-port");
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model decode-only");
    }

    @Test
    void withoutAPrefillDeciderPrefillNeverRunsEvenWithAPrefillProfile() {
        run(handler(StageOrder.DECODE_FIRST, Optional.empty(), Optional.empty()), DisaggFixtures.pdProfiles(runs),
                List.of(decodePod, prefillPod), Map.of());

        assertThat(runs).containsExactly("decode");
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model decode-only");
    }

    @Test
    void noDecodeEndpointFailsTheRequestWithoutAskingTheDeciderOrCounting() {
        FixedDecider decider = new FixedDecider("decider", true);
        DisaggProfileHandler handler = handler(StageOrder.DECODE_FIRST, Optional.of(decider), Optional.empty());

        // Unlabeled pods count as decode; a fleet of prefill pods only has no decode endpoint.
        assertThatThrownBy(() -> schedule(handler, DisaggFixtures.pdProfiles(runs), List.of(prefillPod)))
                .isInstanceOfSatisfying(InferenceException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                    assertThat(e.getMessage())
                            .isEqualTo("failed to find target endpoint: failed to find available decode workers");
                });
        assertThat(runs).containsExactly("decode");
        assertThat(decider.seen).isEmpty();
        assertThat(decisions.recorded).isEmpty();
    }

    @Test
    void aPrefillProfileThatFindsNoEndpointLeavesDecodeOnly() {
        Endpoint unlabeled = pod("10.0.0.3", "");
        PreRequestRun run = run(handler(StageOrder.DECODE_FIRST, Optional.of(new FixedDecider("d", true)),
                Optional.empty()), DisaggFixtures.pdProfiles(runs), List.of(unlabeled), Map.of());

        assertThat(runs).containsExactly("decode", "prefill");
        assertThat(run.result().profileResults()).containsOnlyKeys("decode");
        assertThat(run.result().primary().targetEndpoints()).containsExactly(unlabeled);
        assertThat(headers(run)).isEmpty();
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model decode-only");
    }

    @Test
    void prefillFirstRunsPrefillThenDecodeWithThePrefillPickPublished() {
        DisaggProfileHandler handler = handler(StageOrder.PREFILL_FIRST, Optional.empty(), Optional.empty());
        Map<String, SchedulerProfile> profiles = DisaggFixtures.pdProfiles(runs);
        CycleState state = new CycleState();
        Map<String, ProfileRunResult> results = new LinkedHashMap<>();

        assertThat(handler.pick(state, request, profiles, results)).containsOnlyKeys("prefill");
        results.put("prefill", new ProfileRunResult(List.of(prefillPod)));
        assertThat(handler.pick(state, request, profiles, results)).containsOnlyKeys("decode");
        assertThat(state.read(DisaggProfileHandler.PEER_ENDPOINT)).contains(prefillPod);
        results.put("decode", new ProfileRunResult(List.of(decodePod)));
        assertThat(handler.pick(state, request, profiles, results)).isEmpty();
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model prefill-decode");

        runs.clear();
        PreRequestRun run = run(handler, profiles, List.of(decodePod, prefillPod), Map.of());
        assertThat(runs).containsExactly("prefill", "decode");
        assertThat(headers(run)).containsExactly(Map.entry("x-prefiller-host-port", "10.0.0.2:8000"));
    }

    @Test
    void prefillFirstWithAFailedPrefillIsDecodeOnlyAndAFailedDecodeFails() {
        DisaggProfileHandler handler = handler(StageOrder.PREFILL_FIRST, Optional.empty(), Optional.empty());
        PreRequestRun run = run(handler, DisaggFixtures.pdProfiles(runs), List.of(decodePod), Map.of());
        assertThat(runs).containsExactly("prefill", "decode");
        assertThat(run.result().profileResults()).containsOnlyKeys("decode");
        assertThat(headers(run)).isEmpty();
        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler model decode-only");

        assertThatThrownBy(() -> schedule(handler, DisaggFixtures.pdProfiles(runs), List.of(prefillPod)))
                .hasMessage("failed to find target endpoint: failed to find available decode workers");
        assertThat(decisions.recorded).hasSize(1);
    }

    @Test
    void aPrefillDeciderIsRejectedInPrefillFirstOrder() {
        assertThatThrownBy(() -> handler(StageOrder.PREFILL_FIRST, Optional.of(new FixedDecider("d", true)),
                Optional.empty()))
                .hasMessage("prefill decider is not supported in prefill-first stage order");
    }

    @Test
    void anApprovedEncodeStageRunsBeforePrefillAndListsEveryEncodeTarget() {
        Endpoint encodePod = pod("10.0.0.4", "encode");
        Map<String, SchedulerProfile> profiles = DisaggFixtures.pdProfiles(runs);
        profiles.put("encode", DisaggFixtures.profile("encode", RoleFilter.encode("encode-filter"), runs));
        FixedDecider encode = new FixedDecider("encode-decider", true);
        PreRequestRun run = run(handler(StageOrder.DECODE_FIRST, Optional.of(new FixedDecider("d", true)),
                Optional.of(encode)), profiles, List.of(decodePod, prefillPod, encodePod), Map.of());

        assertThat(runs).containsExactly("decode", "encode", "prefill");
        assertThat(encode.seen).containsExactly(Optional.of(decodePod));
        assertThat(headers(run)).containsEntry("x-prefiller-host-port", "10.0.0.2:8000")
                .containsEntry("x-encoder-hosts-ports", "10.0.0.4:8000");
        assertThat(decisions.recorded)
                .containsExactly("disagg pd disagg-profile-handler model encode-prefill-decode");
    }

    @Test
    void anEmptyTargetModelIsCountedAsUnknown() {
        DisaggProfileHandler handler = handler(StageOrder.DECODE_FIRST, Optional.empty(), Optional.empty());
        new Scheduler(handler, DisaggFixtures.pdProfiles(runs), (point, plugin, nanos) -> {
        }).schedule(Fixtures.request("r", "", Map.of(), 0, 0), List.of(decodePod));

        assertThat(decisions.recorded).containsExactly("disagg pd disagg-profile-handler unknown decode-only");
    }

    // ---------------------------------------------------------------- configuration

    private static DisaggProfileHandler create(String json, Plugin... plugins) {
        PluginHandle handle = handle(plugins);
        return (DisaggProfileHandler) DisaggProfileHandler.FACTORY.create("handler", Fixtures.params(json), handle);
    }

    @Test
    void defaultsAreDecodeFirstWithoutDeciders() {
        DisaggProfileHandler handler = (DisaggProfileHandler) DisaggProfileHandler.FACTORY.create("handler",
                Fixtures.noParams(), handle());

        assertThat(handler.stageOrder()).isEqualTo(StageOrder.DECODE_FIRST);
        assertThat(handler.prefillDecider()).isEmpty();
        assertThat(handler.encodeDecider()).isEmpty();
        assertThat(handler.typedName().type()).isEqualTo("disagg-profile-handler");
    }

    @Test
    void decidersAreResolvedByNameAndCustomProfileNamesAreUsed() {
        FixedDecider decider = new FixedDecider("my-decider", true);
        DisaggProfileHandler handler = create("""
                {"stageOrder": "Decode_First", "profiles": {"decode": "d", "prefill": "p"},
                 "deciders": {"prefill": "my-decider"}}""", decider);
        assertThat(handler.prefillDecider()).containsSame(decider);

        Map<String, SchedulerProfile> profiles = Map.of(
                "d", DisaggFixtures.profile("d", RoleFilter.decode("df"), runs),
                "p", DisaggFixtures.profile("p", RoleFilter.prefill("pf"), runs));
        SchedulingResult result = schedule(handler, profiles, List.of(decodePod, prefillPod));
        assertThat(runs).containsExactly("d", "p");
        assertThat(result.primaryProfileName()).isEqualTo("d");
    }

    @Test
    void theDeprecatedFlatParametersMapOntoTheNestedOnes() {
        FixedDecider decider = new FixedDecider("legacy", true);
        DisaggProfileHandler handler = create("{\"decodeProfile\": \"decode\", \"deciderPluginName\": \"legacy\"}",
                decider);

        assertThat(handler.prefillDecider()).containsSame(decider);
    }

    @Test
    void parameterErrors() {
        FixedDecider decider = new FixedDecider("d", true);
        assertThatThrownBy(() -> create("{\"stageOrder\": \"sideways\"}"))
                .hasMessageContaining("invalid stage order \"sideways\", must be \"decode-first\" or \"prefill-first\"");
        assertThatThrownBy(() -> create("{\"stageOrder\": \"prefill-first\", \"deciders\": {\"prefill\": \"d\"}}",
                decider)).hasMessageContaining("prefill decider is not supported in prefill-first stage order");
        assertThatThrownBy(() -> create("{\"deciders\": {\"prefill\": \"missing\"}}"))
                .hasMessageContaining("deciders.prefill plugin not found: missing");
        assertThatThrownBy(() -> create("{\"deciders\": {\"encode\": \"picker\"}}",
                new dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker("picker", 1, java.util.SplittableRandom::new)))
                .hasMessageContaining("plugin picker (type max-score-picker) is not a decider, as deciders.encode needs");
        assertThatThrownBy(() -> create("{\"profiles\": {\"decode\": \"d\"}, \"decodeProfile\": \"d\"}"))
                .hasMessageContaining("use one format exclusively");
        assertThatThrownBy(() -> create("{\"threshold\": 5}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'threshold'");
        assertThatThrownBy(() -> create("{\"deciders\": {\"decode\": \"d\"}}", decider))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'decode'");
    }
}
