package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.FirstPicker;
import dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.KeepFilter;
import dev.lodestar.epp.plugins.kvcacheutilizationscorer.KvCacheUtilizationScorer;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import dev.lodestar.epp.plugins.singleprofilehandler.SingleProfileHandler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.endpoint;
import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.pods;
import static dev.lodestar.epp.framework.scheduling.SchedulingTestPlugins.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SchedulerTest {
    // queue scores: a 1, b 0, c 0.5; KV scores (1 - use): a 0.1, b 1.0, c 0.5
    private final List<Endpoint> candidates = List.of(endpoint("a", 0, 0.9), endpoint("b", 10, 0.0),
            endpoint("c", 5, 0.5));
    private final List<String> timings = new ArrayList<>();
    private final PluginTimer timer = (point, plugin, nanos) -> timings.add(point + ":" + plugin.name());

    private static SchedulerProfile profile(String name, List<Filter> filters, double queueWeight, double kvWeight,
                                            Picker picker) {
        return new SchedulerProfile(name, filters, List.of(
                new WeightedScorer(new QueueScorer("queue-scorer"), queueWeight),
                new WeightedScorer(new KvCacheUtilizationScorer("kv-cache-utilization-scorer"), kvWeight)), picker);
    }

    private static MaxScorePicker maxScore() {
        return new MaxScorePicker("max-score-picker", 1, () -> new SplittableRandom(1));
    }

    private Scheduler single(SchedulerProfile profile) {
        return new Scheduler(new SingleProfileHandler("single-profile-handler"), Map.of(profile.name(), profile), timer);
    }

    /** A handler whose next profiles are computed from the results so far; the last profile run is primary. */
    private static final class StagedHandler implements ProfileHandler {
        final BiFunction<Map<String, SchedulerProfile>, Map<String, ProfileRunResult>, Map<String, SchedulerProfile>> next;
        final List<List<String>> resultsSeen = new ArrayList<>();
        final List<Map<String, ProfileRunResult>> processed = new ArrayList<>();
        String primary;

        StagedHandler(BiFunction<Map<String, SchedulerProfile>, Map<String, ProfileRunResult>,
                Map<String, SchedulerProfile>> next) {
            this.next = next;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("staged-handler", "staged");
        }

        @Override
        public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request,
                                                  Map<String, SchedulerProfile> profiles,
                                                  Map<String, ProfileRunResult> results) {
            resultsSeen.add(List.copyOf(results.keySet()));
            return next.apply(profiles, results);
        }

        @Override
        public SchedulingResult processResults(CycleState state, LlmRequest request,
                                               Map<String, ProfileRunResult> results) {
            processed.add(Map.copyOf(results));
            return new SchedulingResult(results, primary);
        }
    }

    private static Filter filter(String name, BiFunction<CycleState, List<Endpoint>, List<Endpoint>> body) {
        return new Filter() {
            @Override
            public TypedName typedName() {
                return new TypedName("test-filter", name);
            }

            @Override
            public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
                return body.apply(state, endpoints);
            }
        };
    }

    private static Map<String, SchedulerProfile> only(Map<String, SchedulerProfile> profiles, String name) {
        return Map.of(name, profiles.get(name));
    }

    @Test
    void weightsDecideWhichScorerWins() {
        FirstPicker kvHeavy = new FirstPicker("p");
        SchedulingResult byKv = single(profile("default", List.of(), 1, 2, kvHeavy)).schedule(request("r"), candidates);
        // a: 1 + 2*0.1 = 1.2; b: 0 + 2*1 = 2.0; c: 0.5 + 2*0.5 = 1.5
        assertThat(kvHeavy.seen.getFirst()).extracting(ScoredEndpoint::score)
                .satisfiesExactly(a -> assertThat(a).isCloseTo(1.2, within(1e-9)),
                        b -> assertThat(b).isCloseTo(2.0, within(1e-9)),
                        c -> assertThat(c).isCloseTo(1.5, within(1e-9)));
        assertThat(pods(single(profile("default", List.of(), 1, 2, maxScore())).schedule(request("r"), candidates)
                .primary().targetEndpoints())).containsExactly("b");
        assertThat(byKv.primaryProfileName()).isEqualTo("default");

        // a: 3*1 + 0.1 = 3.1; b: 0 + 1 = 1; c: 1.5 + 0.5 = 2
        assertThat(pods(single(profile("default", List.of(), 3, 1, maxScore())).schedule(request("r"), candidates)
                .primary().targetEndpoints())).containsExactly("a");
    }

    @Test
    void filtersNarrowWhatTheScorersAndThePickerSee() {
        KeepFilter notA = new KeepFilter("not-a", e -> !e.metadata().podName().equals("a"));

        SchedulingResult result = single(profile("default", List.of(notA), 3, 1, maxScore()))
                .schedule(request("r"), candidates);

        // Without a: queue scores b 0, c 1 -> b: 0 + 1 = 1; c: 3 + 0.5 = 3.5.
        assertThat(pods(result.primary().targetEndpoints())).containsExactly("c");
    }

    @Test
    void whenFiltersLeaveNothingTheSingleProfileHandlerFailsAsUpstream() {
        Scheduler scheduler = single(profile("default", List.of(new KeepFilter("none", e -> false)), 1, 1, maxScore()));

        assertThatThrownBy(() -> scheduler.schedule(request("r"), candidates))
                .isInstanceOfSatisfying(InferenceException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                    assertThat(e.clientMessage()).isEqualTo("inference error: ResourceExhausted - failed to find"
                            + " target endpoint: failed to run scheduler profile 'default'");
                });
    }

    @Test
    void noCandidatesIsServiceUnavailable() {
        Scheduler scheduler = single(profile("default", List.of(), 1, 1, maxScore()));

        assertThatThrownBy(() -> scheduler.schedule(request("r"), List.of()))
                .isInstanceOfSatisfying(InferenceException.class, e -> assertThat(e.clientMessage()).isEqualTo(
                        "inference error: ServiceUnavailable - failed to find endpoint candidates for serving the request"));
        assertThat(timings).isEmpty();
    }

    @Test
    void theProfileHandlerIsAskedAgainUntilItPicksNothingNew() {
        AttributeKey<String> prefillPod = AttributeKey.of("prefill-pod", String.class);
        Filter remember = filter("remember", (state, endpoints) -> {
            state.write(prefillPod, endpoints.getFirst().metadata().podName());
            return endpoints;
        });
        List<String> seenByDecode = new ArrayList<>();
        Filter recall = filter("recall", (state, endpoints) -> {
            seenByDecode.add(state.read(prefillPod).orElse("none"));
            return endpoints;
        });
        Map<String, SchedulerProfile> profiles = new LinkedHashMap<>();
        profiles.put("prefill", new SchedulerProfile("prefill", List.of(remember), List.of(), new FirstPicker("p1")));
        profiles.put("decode", new SchedulerProfile("decode", List.of(recall), List.of(), new FirstPicker("p2")));
        StagedHandler handler = new StagedHandler((all, results) -> {
            if (results.isEmpty()) {
                return only(all, "prefill");
            }
            if (!results.containsKey("decode")) {
                return only(all, "decode");
            }
            return Map.of();
        });
        handler.primary = "decode";

        SchedulingResult result = new Scheduler(handler, profiles, timer).schedule(request("r"), candidates);

        assertThat(handler.resultsSeen).containsExactly(List.of(), List.of("prefill"), List.of("prefill", "decode"));
        assertThat(seenByDecode).containsExactly("a");
        assertThat(result.profileResults()).containsOnlyKeys("prefill", "decode");
        assertThat(result.primaryProfileName()).isEqualTo("decode");
        assertThat(timings).containsExactly("ProfilePicker:staged", "Filter:remember", "Picker:p1",
                "ProfilePicker:staged", "Filter:recall", "Picker:p2", "ProfilePicker:staged",
                "ProcessProfilesResults:staged");
    }

    @Test
    void aProfileThatAlreadyRanIsNotRunAgainSoTheLoopEnds() {
        KeepFilter counting = new KeepFilter("counting", e -> true);
        StagedHandler alwaysAll = new StagedHandler((all, results) -> all);
        alwaysAll.primary = "default";

        new Scheduler(alwaysAll, Map.of("default", new SchedulerProfile("default", List.of(counting), List.of(),
                new FirstPicker("p"))), timer).schedule(request("r"), candidates);

        assertThat(counting.seen).hasSize(1);
        assertThat(alwaysAll.resultsSeen).containsExactly(List.of(), List.of("default"));
    }

    @Test
    void aFailedProfileIsReportedToTheHandlerAsFailed() {
        StagedHandler handler = new StagedHandler((all, results) -> results.isEmpty() ? all : Map.of());
        handler.primary = "default";

        new Scheduler(handler, Map.of("default", new SchedulerProfile("default",
                List.of(new KeepFilter("none", e -> false)), List.of(), new FirstPicker("p"))), timer)
                .schedule(request("r"), candidates);

        assertThat(handler.processed).containsExactly(Map.of("default", ProfileRunResult.FAILED));
    }

    @Test
    void aHandlerThatRunsNoProfileFailsAsUpstream() {
        StagedHandler idle = new StagedHandler((all, results) -> Map.of());
        idle.primary = "default";
        Scheduler scheduler = new Scheduler(idle, Map.of("default", new SchedulerProfile("default", List.of(), List.of(),
                new FirstPicker("p"))), timer);

        assertThatThrownBy(() -> scheduler.schedule(request("req-9"), candidates))
                .isInstanceOf(InferenceException.class)
                .hasMessage("failed to run any scheduler profile for request req-9");
        assertThat(timings).containsExactly("ProfilePicker:staged");
    }

    @Test
    void aSchedulerNeedsAProfileAndKeepsItsOwnCopy() {
        SingleProfileHandler handler = new SingleProfileHandler("h");
        assertThatThrownBy(() -> new Scheduler(handler, Map.of(), timer)).isInstanceOf(IllegalArgumentException.class);

        Map<String, SchedulerProfile> profiles = new LinkedHashMap<>();
        profiles.put("default", profile("default", List.of(), 1, 1, maxScore()));
        Scheduler scheduler = new Scheduler(handler, profiles, timer);
        profiles.clear();

        assertThat(scheduler.profiles()).containsOnlyKeys("default");
        assertThat(scheduler.profileHandler()).isSameAs(handler);
    }
}
