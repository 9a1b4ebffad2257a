package dev.lodestar.epp.requestcontrol;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.api.inference.ObjectMeta;
import dev.lodestar.api.inference.PoolRef;
import dev.lodestar.epp.admission.LegacyAdmission;
import dev.lodestar.epp.config.ConfigLoader;
import dev.lodestar.epp.config.EppConfig;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.AdmissionPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.ResponseHeaderPlugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import dev.lodestar.epp.plugins.concurrencydetector.ConcurrencyDetector;
import dev.lodestar.epp.plugins.destinationendpointservedverifier.DestinationEndpointServedVerifier;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelector;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelectorFilter;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.openaiparser.OpenAiParser;
import dev.lodestar.epp.plugins.passthroughparser.PassthroughParser;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import dev.lodestar.epp.plugins.singleprofilehandler.SingleProfileHandler;
import dev.lodestar.epp.plugins.utilizationdetector.UtilizationDetector;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The Director over a real datastore and real plugins (openai-parser, queue-scorer, max-score-picker,
 * single-profile-handler, utilization-detector with legacy admission, concurrency-detector,
 * destination-endpoint-served-verifier). Error texts are GIE v1.5.0's {@code inference error: <Code> - <Msg>}.
 */
class DirectorTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final String CHAT = "{\"stream\": false, \"model\": \"llama\", "
            + "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";

    private final Datastore datastore = new Datastore();
    private final SplittableRandom random = new SplittableRandom(42);
    private final Set<String> timings = ConcurrentHashMap.newKeySet();
    private final PluginTimer timer = (point, plugin, nanos) -> timings.add(point + ":" + plugin);
    private final RecordingRecorder recorder = new RecordingRecorder();

    DirectorTest() {
        // a: queue 5, b: queue 0, c: queue 3 -> the queue scorer prefers b, then c.
        datastore.replaceEndpoints(List.of(metadata("pod-a", "10.0.0.1"), metadata("pod-b", "10.0.0.2"),
                metadata("pod-c", "10.0.0.3")));
        metrics("pod-a", 5);
        metrics("pod-b", 0);
        metrics("pod-c", 3);
    }

    // ---------------------------------------------------------------- fixtures

    private static EndpointMetadata metadata(String pod, String address) {
        return new EndpointMetadata(EndpointKey.ofRank("default", pod, 0), pod, address, 8000, address + ":8000",
                Map.of("app", "vllm"));
    }

    private static EndpointKey key(String pod) {
        return EndpointKey.ofRank("default", pod, 0);
    }

    private void metrics(String pod, int queue) {
        datastore.endpoint(key(pod)).orElseThrow().updateMetrics(EndpointMetrics.builder().waitingQueueSize(queue)
                .kvCacheUsagePercent(0.1).updateTime(NOW).build());
    }

    private Scheduler scheduler(int maxEndpoints, List<Filter> filters, List<WeightedScorer> scorers) {
        SchedulerProfile profile = new SchedulerProfile("default", filters, scorers,
                new MaxScorePicker("max-score-picker", maxEndpoints, () -> new SplittableRandom(7)));
        return new Scheduler(new SingleProfileHandler("single-profile-handler"), Map.of("default", profile), timer);
    }

    private Scheduler scheduler() {
        return scheduler(1, List.of(), List.of(new WeightedScorer(new QueueScorer("queue-scorer"), 1.0)));
    }

    private Director.Builder builder() {
        return Director.builder()
                .datastore(datastore)
                .parser(new OpenAiParser("openai-parser"))
                .scheduler(scheduler())
                .recorder(recorder)
                .timer(timer)
                .random(() -> random);
    }

    private Director director() {
        return builder().build();
    }

    /** A request as the ext_proc adapter hands it over: headers, control headers read through their aliases, body. */
    private static RequestContext context(String body, Map<String, String> headers) {
        RequestContext context = new RequestContext();
        context.requestHeaders().put(":path", "/v1/chat/completions");
        context.requestHeaders().put("x-request-id", "req-1");
        context.requestHeaders().putAll(headers);
        context.requestId("req-1", false);
        context.objectiveKey(RequestControlHeaders.firstValue(context.requestHeaders(), RequestControlHeaders.OBJECTIVE));
        context.modelRewriteHeader(RequestControlHeaders.firstValue(context.requestHeaders(),
                RequestControlHeaders.MODEL_NAME_REWRITE));
        context.fairnessId(RequestControlHeaders.firstValue(context.requestHeaders(), RequestControlHeaders.FAIRNESS_ID));
        context.requestBody(body.getBytes(StandardCharsets.UTF_8));
        return context;
    }

    private static RequestContext context(Map<String, String> headers) {
        return context(CHAT, headers);
    }

    private static RequestContext context() {
        return context(Map.of());
    }

    private static InferenceObjective objective(String name, Integer priority) {
        return new InferenceObjective("inference.networking.x-k8s.io/v1alpha2", InferenceObjective.KIND,
                ObjectMeta.of("default", name, NOW), new InferenceObjective.Spec(priority, new PoolRef(null, null, "pool")));
    }

    private static InferenceModelRewrite rewrite(String name, Instant created, InferenceModelRewrite.Rule... rules) {
        return new InferenceModelRewrite("inference.networking.x-k8s.io/v1alpha2", InferenceModelRewrite.KIND,
                ObjectMeta.of("default", name, created),
                new InferenceModelRewrite.Spec(new PoolRef(null, null, "pool"), List.of(rules)));
    }

    private static InferenceModelRewrite.Rule exact(String model, InferenceModelRewrite.Target... targets) {
        return new InferenceModelRewrite.Rule(
                List.of(new InferenceModelRewrite.Match(new InferenceModelRewrite.ModelMatch("Exact", model))),
                List.of(targets));
    }

    private static InferenceModelRewrite.Rule generic(InferenceModelRewrite.Target... targets) {
        return new InferenceModelRewrite.Rule(List.of(), List.of(targets));
    }

    private static InferenceModelRewrite.Target target(String model, Integer weight) {
        return new InferenceModelRewrite.Target(weight, model);
    }

    private static String body(RequestContext context) {
        return new String(context.requestBody(), StandardCharsets.UTF_8);
    }

    private static InferenceException refusal(Director director, RequestContext context) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> director.handleRequest(context));
        assertThat(thrown).isInstanceOf(InferenceException.class);
        return (InferenceException) thrown;
    }

    /** Collects what the Director reports for metrics. */
    private static final class RecordingRecorder implements RequestRecorder {
        final List<String> attempts = new ArrayList<>();
        final List<String> rewrites = new ArrayList<>();

        @Override
        public void schedulingAttempt(String targetModel, long nanos, boolean success, String podName, String namespace,
                                      int port) {
            attempts.add(targetModel + " " + success + " " + podName + " " + namespace + " " + port);
        }

        @Override
        public void modelRewrite(String rewriteName, String model, String targetModel) {
            rewrites.add(rewriteName + ": " + model + " -> " + targetModel);
        }
    }

    /** A plugin of each request-control kind that remembers how it was called. */
    private static final class Hooks implements PrepareDataPlugin, AdmissionPlugin, PreRequestPlugin,
            ResponseHeaderPlugin, ResponseBodyPlugin {
        final String name;
        final List<String> calls;
        Optional<String> refusal = Optional.empty();
        RuntimeException failure;

        Hooks(String name, List<String> calls) {
            this.name = name;
            this.calls = calls;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("hooks", name);
        }

        private void call(String what) {
            calls.add(name + "." + what);
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public Set<String> produces() {
            return Set.of();
        }

        @Override
        public void prepareRequestData(LlmRequest request, List<Endpoint> endpoints) {
            call("prepareData " + endpoints.size());
        }

        @Override
        public Optional<String> admitRequest(LlmRequest request, List<Endpoint> endpoints) {
            call("admit " + request.requestId());
            return refusal;
        }

        @Override
        public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
            headersToSet.put("x-" + name, result.primary().targetEndpoints().getFirst().metadata().podName());
            call("preRequest " + result.primaryProfileName() + " -> "
                    + result.primary().targetEndpoints().getFirst().metadata().hostPort());
        }

        @Override
        public void responseHeader(LlmRequest request, Response response, EndpointMetadata target,
                                   Map<String, String> headersToSet) {
            headersToSet.put("x-" + name, "seen");
            call("responseHeader " + target.podName() + " " + response.headers().get(":status"));
        }

        @Override
        public void responseBody(LlmRequest request, Response response, EndpointMetadata target) {
            response.putMetadata("envoy.lb", name, response.endOfStream());
            call("responseBody " + target.podName() + " eos=" + response.endOfStream());
        }
    }

    // ---------------------------------------------------------------- routing

    @Test
    void routesToTheBestScoredEndpointAndRecordsTheAttempt() {
        RequestContext context = context();

        director().handleRequest(context);

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
        assertThat(context.targetEndpoint()).map(EndpointMetadata::podName).contains("pod-b");
        LlmRequest request = context.llmRequest().orElseThrow();
        assertThat(request.requestId()).isEqualTo("req-1");
        assertThat(request.incomingModel()).isEqualTo("llama");
        assertThat(request.targetModel()).isEqualTo("llama");
        assertThat(request.requestSizeBytes()).isEqualTo(CHAT.length());
        assertThat(recorder.attempts).containsExactly("llama true pod-b default 8000");
        assertThat(timings).contains("Scorer:queue-scorer", "Picker:max-score-picker");
    }

    @Test
    void everyTargetOfThePrimaryProfileIsListedInOrderWithIpv6InBrackets() {
        datastore.upsertEndpoint(metadata("pod-d", "fd00::4"));
        metrics("pod-d", 1);
        Director director = builder().scheduler(scheduler(3, List.of(),
                List.of(new WeightedScorer(new QueueScorer("queue-scorer"), 1.0)))).build();
        RequestContext context = context();

        director.handleRequest(context);

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000,[fd00::4]:8000,10.0.0.3:8000");
        assertThat(context.targetEndpoint()).map(EndpointMetadata::podName).contains("pod-b");
    }

    @Test
    void theBodyIsReSerializedAsGoDoesWithSortedKeysAndNoWhitespace() {
        RequestContext context = context();

        director().handleRequest(context);

        assertThat(body(context))
                .isEqualTo("{\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],\"model\":\"llama\",\"stream\":false}");
    }

    // ---------------------------------------------------------------- objectives and headers

    @Test
    void theObjectiveHeaderGivesThePriorityAndUnsetOrUnknownObjectivesGiveZero() {
        datastore.replaceObjectives(List.of(objective("critical", 10), objective("batch", -2),
                objective("no-priority", null)));
        Director director = director();

        Map<String, Integer> priorities = new LinkedHashMap<>();
        for (String objective : List.of("critical", "batch", "no-priority", "unknown", "")) {
            RequestContext context = context(objective.isEmpty() ? Map.of()
                    : Map.of("x-gateway-inference-objective", objective));
            director.handleRequest(context);
            assertThat(context.llmRequest().orElseThrow().priority()).isEqualTo(context.priority());
            priorities.put(objective, context.priority());
        }

        assertThat(priorities).containsExactly(Map.entry("critical", 10), Map.entry("batch", -2),
                Map.entry("no-priority", 0), Map.entry("unknown", 0), Map.entry("", 0));
    }

    @Test
    void anInferenceModelsCriticalityGivesThePriorityWhenNoKnownObjectiveIsNamed() {
        datastore.replaceObjectives(List.of(objective("critical", 10)));
        datastore.replaceModelPriorities(Map.of("llama", -1));
        Director director = director();

        Map<String, Integer> priorities = new LinkedHashMap<>();
        for (String objective : List.of("critical", "unknown", "")) {
            RequestContext context = context(objective.isEmpty() ? Map.of()
                    : Map.of("x-gateway-inference-objective", objective));
            director.handleRequest(context);
            priorities.put(objective, context.priority());
        }

        assertThat(priorities).containsExactly(Map.entry("critical", 10), Map.entry("unknown", -1), Map.entry("", -1));
    }

    @Test
    void llmdAliasHeadersWorkLikeTheGatewayHeaders() {
        datastore.replaceObjectives(List.of(objective("critical", 7)));
        RequestContext context = context(Map.of("x-llm-d-inference-objective", "critical",
                "x-llm-d-model-name-rewrite", "llama-lora", "x-llm-d-inference-fairness-id", "tenant-a"));

        director().handleRequest(context);

        LlmRequest request = context.llmRequest().orElseThrow();
        assertThat(request.priority()).isEqualTo(7);
        assertThat(request.targetModel()).isEqualTo("llama-lora");
        assertThat(request.incomingModel()).isEqualTo("llama");
        assertThat(request.fairnessId()).isEqualTo("tenant-a");
        assertThat(body(context)).contains("\"model\":\"llama-lora\"");
        assertThat(request.headers()).doesNotContainKeys("x-llm-d-inference-objective", "x-llm-d-model-name-rewrite",
                "x-llm-d-inference-fairness-id");
    }

    @Test
    void withoutAFairnessHeaderTheRequestIsInTheDefaultFlow() {
        RequestContext context = context();

        director().handleRequest(context);

        assertThat(context.llmRequest().orElseThrow().fairnessId()).isEqualTo("default-flow");
    }

    @Test
    void controlHeadersAreNotShownToPluginsAndCannotSpoofTheDestination() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-gateway-destination-endpoint", "6.6.6.6:80");
        headers.put("x-gateway-destination-endpoint-served", "6.6.6.6:80");
        headers.put("x-gateway-destination-endpoint-subset", "10.0.0.1:8000");
        headers.put("x-gateway-inference-objective", "whatever");
        headers.put("x-gateway-model-name-rewrite", "llama");
        headers.put("x-gateway-inference-fairness-id", "t");
        headers.put("content-length", "999");
        headers.put("authorization", "Bearer token");
        headers.put("x-custom", "kept");
        RequestContext context = context(headers);

        director().handleRequest(context);

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
        assertThat(context.llmRequest().orElseThrow().headers()).containsOnlyKeys(":path", "x-request-id",
                "authorization", "x-custom");
    }

    // ---------------------------------------------------------------- model rewrite

    @Test
    void theRewriteHeaderSetsTheTargetModelAndAnInferenceModelRewriteOverridesIt() {
        RequestContext byHeader = context(Map.of("x-gateway-model-name-rewrite", "llama-8b"));
        director().handleRequest(byHeader);
        assertThat(byHeader.incomingModel()).isEqualTo("llama");
        assertThat(byHeader.targetModel()).isEqualTo("llama-8b");
        assertThat(recorder.attempts).containsExactly("llama-8b true pod-b default 8000");

        // The rule is looked up by the incoming model, not by the header's.
        datastore.replaceRewrites(List.of(rewrite("r", NOW, exact("llama", target("llama-70b", null)))));
        RequestContext byRule = context(Map.of("x-gateway-model-name-rewrite", "llama-8b"));
        director().handleRequest(byRule);
        assertThat(byRule.targetModel()).isEqualTo("llama-70b");
        assertThat(body(byRule)).contains("\"model\":\"llama-70b\"");
        assertThat(recorder.rewrites).containsExactly("r: llama -> llama-70b");
    }

    @Test
    void rewritePrecedenceExactBeatsGenericOldestWinsFirstRuleWins() {
        datastore.replaceRewrites(List.of(
                rewrite("old-generic", Instant.parse("2025-01-01T00:00:00Z"), generic(target("fallback", null))),
                rewrite("newer-exact", Instant.parse("2026-02-01T00:00:00Z"), exact("llama", target("from-newer", null))),
                rewrite("older-exact", Instant.parse("2026-01-01T00:00:00Z"),
                        exact("other", target("other-2", null)),
                        exact("llama", target("first-rule", null)),
                        exact("llama", target("second-rule", null)))));
        Director director = director();

        RequestContext llama = context();
        director.handleRequest(llama);
        RequestContext mistral = context(CHAT.replace("llama", "mistral"), Map.of());
        director.handleRequest(mistral);

        assertThat(llama.targetModel()).isEqualTo("first-rule");
        assertThat(mistral.targetModel()).isEqualTo("fallback");
        assertThat(recorder.rewrites).containsExactly("older-exact: llama -> first-rule",
                "old-generic: mistral -> fallback");
    }

    @Test
    void weightedTargetsAreDrawnInProportionToTheirWeights() {
        datastore.replaceRewrites(List.of(rewrite("split", NOW,
                exact("llama", target("llama-a", 70), target("llama-b", 20), target("llama-c", 10)))));
        Director director = director();
        Map<String, Integer> counts = new HashMap<>();
        int draws = 10_000;

        int bodiesWithOtherModels = 0;
        for (int i = 0; i < draws; i++) {
            RequestContext context = context();
            director.handleRequest(context);
            counts.merge(context.targetModel(), 1, Integer::sum);
            bodiesWithOtherModels += body(context).contains("\"model\":\"" + context.targetModel() + "\"") ? 0 : 1;
        }

        assertThat(bodiesWithOtherModels).isZero();
        assertThat(counts).containsOnlyKeys("llama-a", "llama-b", "llama-c");
        assertThat(counts.get("llama-a") / (double) draws).isCloseTo(0.7, within(0.02));
        assertThat(counts.get("llama-b") / (double) draws).isCloseTo(0.2, within(0.02));
        assertThat(counts.get("llama-c") / (double) draws).isCloseTo(0.1, within(0.02));
    }

    @Test
    void targetsWithoutWeightsAreDrawnUniformly() {
        datastore.replaceRewrites(List.of(rewrite("even", NOW, generic(target("x", null), target("y", null)))));
        Director director = director();
        int xs = 0;
        int draws = 4_000;

        for (int i = 0; i < draws; i++) {
            RequestContext context = context();
            director.handleRequest(context);
            xs += context.targetModel().equals("x") ? 1 : 0;
        }

        assertThat(xs / (double) draws).isCloseTo(0.5, within(0.03));
    }

    @Test
    void aPassthroughParserForwardsTheBodyUntouchedAndTakesTheTargetModelFromTheHeader() {
        datastore.replaceRewrites(List.of(rewrite("r", NOW, generic(target("never", null)))));
        String raw = "not json {\"model\": \"llama\"}";
        RequestContext context = context(raw, Map.of("x-gateway-model-name-rewrite", "llama-8b"));

        builder().parser(new PassthroughParser("passthrough-parser")).build().handleRequest(context);

        assertThat(body(context)).isEqualTo(raw);
        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
        assertThat(context.incomingModel()).isEmpty();
        // GIE sets TargetModelName from the header whatever the parser; rewrites apply only to parsed bodies.
        assertThat(context.targetModel()).isEqualTo("llama-8b");
        assertThat(context.llmRequest().orElseThrow().targetModel()).isEqualTo("llama-8b");
        assertThat(recorder.rewrites).isEmpty();
    }

    // ---------------------------------------------------------------- admission and candidates

    private Director withLegacyAdmission() {
        LegacyAdmission legacy = new LegacyAdmission(new UtilizationDetector("utilization-detector",
                new UtilizationDetector.Params(null, null, null, null), CLOCK));
        return builder().admission((request, endpoints) -> legacy.admit(request, endpoints).ifPresent(refusal -> {
            throw refusal;
        })).build();
    }

    @Test
    void aSheddableRequestIsRefusedWith429WhileThePoolIsSaturated() {
        datastore.replaceObjectives(List.of(objective("batch", -1), objective("standard", 0)));
        metrics("pod-a", 10);
        metrics("pod-b", 5);
        metrics("pod-c", 7);
        Director director = withLegacyAdmission();

        InferenceException shed = refusal(director, context(Map.of("x-gateway-inference-objective", "batch")));

        assertThat(shed.code().httpStatus()).hasValue(429);
        assertThat(shed.clientMessage())
                .isEqualTo("inference error: ResourceExhausted - system saturated, sheddable request dropped");
        RequestContext standard = context(Map.of("x-gateway-inference-objective", "standard"));
        director.handleRequest(standard);
        assertThat(standard.destination()).isEqualTo("10.0.0.2:8000");
    }

    @Test
    void aSheddableRequestIsAdmittedBelowSaturation() {
        datastore.replaceObjectives(List.of(objective("batch", -1)));
        // Queues 5, 0, 3 of threshold 5: saturation (1 + 0 + 0.6) / 3 < 1.
        RequestContext context = context(Map.of("x-gateway-inference-objective", "batch"));

        withLegacyAdmission().handleRequest(context);

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
    }

    @Test
    void admissionRunsBeforeTheCandidateCheckSoASheddableRequestToAnEmptyPoolIsShed() {
        datastore.replaceEndpoints(List.of());
        datastore.replaceObjectives(List.of(objective("batch", -1)));

        InferenceException shed = refusal(withLegacyAdmission(),
                context(Map.of("x-gateway-inference-objective", "batch")));

        assertThat(shed.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    }

    @Test
    void anEmptyPoolIsServiceUnavailable() {
        datastore.replaceEndpoints(List.of());
        Director director = director();

        InferenceException refused = refusal(director, context());

        assertThat(refused.code().httpStatus()).hasValue(503);
        assertThat(refused.clientMessage()).isEqualTo(
                "inference error: ServiceUnavailable - failed to find endpoint candidates for serving the request");
        assertThat(director.randomEndpoint()).isEmpty();
    }

    @Test
    void theSubsetHintRestrictsTheCandidatesAndAnEmptyIntersectionIsServiceUnavailable() {
        Director director = director();

        RequestContext inSubset = context();
        inSubset.subsetHint(List.of("10.0.0.1:8000", "10.0.0.3:8000"));
        director.handleRequest(inSubset);
        assertThat(inSubset.destination()).isEqualTo("10.0.0.3:8000");

        for (List<String> hint : List.of(List.<String>of(), List.of("192.168.9.9:8000"))) {
            RequestContext outside = context();
            outside.subsetHint(hint);
            assertThat(refusal(director, outside).clientMessage()).isEqualTo(
                    "inference error: ServiceUnavailable - failed to find endpoint candidates for serving the request");
        }

        RequestContext ignored = context();
        ignored.subsetHint(List.of("192.168.9.9:8000"));
        builder().disableSubsetFilter(true).build().handleRequest(ignored);
        assertThat(ignored.destination()).isEqualTo("10.0.0.2:8000");
    }

    @Test
    void headerOnlyRequestsGoToAUniformlyRandomEndpoint() {
        Director director = director();
        Map<String, Integer> picks = new HashMap<>();

        for (int i = 0; i < 3_000; i++) {
            picks.merge(director.randomEndpoint().orElseThrow().podName(), 1, Integer::sum);
        }

        assertThat(picks).containsOnlyKeys("pod-a", "pod-b", "pod-c");
        picks.values().forEach(count -> assertThat(count / 3_000.0).isCloseTo(1 / 3.0, within(0.04)));
    }

    // ---------------------------------------------------------------- plugins

    @Test
    void requestControlPluginsRunInOrderAndPreRequestSeesTheChosenEndpoint() {
        List<String> calls = new ArrayList<>();
        Hooks first = new Hooks("first", calls);
        Hooks second = new Hooks("second", calls);
        RequestContext context = context();

        builder().prepareDataPlugins(List.of(first)).admissionPlugins(List.of(first, second))
                .preRequestPlugins(List.of(first, second)).build().handleRequest(context);

        assertThat(calls).containsExactly("first.prepareData 3", "first.admit req-1", "second.admit req-1",
                "first.preRequest default -> 10.0.0.2:8000", "second.preRequest default -> 10.0.0.2:8000");
        assertThat(context.headersToSet()).containsExactly(Map.entry("x-first", "pod-b"), Map.entry("x-second", "pod-b"));
        assertThat(timings).contains("PrepareData:first/hooks", "PreRequest:first/hooks", "PreRequest:second/hooks");
    }

    @Test
    void aConcurrencyDetectorCountsTheRequestOnItsTargetUntilTheEndOfTheResponse() {
        ConcurrencyDetector detector = new ConcurrencyDetector("concurrency-detector",
                new ConcurrencyDetector.Params(null, null, null, null));
        Director director = builder().preRequestPlugins(List.of(detector)).responseBodyPlugins(List.of(detector)).build();
        RequestContext context = context();

        director.handleRequest(context);
        assertThat(detector.inFlight(key("pod-b")).requests()).isEqualTo(1);
        assertThat(detector.inFlight(key("pod-a")).requests()).isZero();

        director.handleResponseBody(context, false);
        assertThat(detector.inFlight(key("pod-b")).requests()).isEqualTo(1);
        director.handleResponseBody(context, true);
        assertThat(detector.inFlight(key("pod-b")).requests()).isZero();
    }

    @Test
    void responseHeaderPluginsSeeTheTargetAndTheServedEndpointMetadata() {
        List<String> calls = new ArrayList<>();
        Director director = builder().responseHeaderPlugins(List.of(
                new DestinationEndpointServedVerifier("verifier"), new Hooks("h", calls))).build();
        RequestContext context = context();
        director.handleRequest(context);
        context.responseHeaders().put(":status", "200");

        Map<String, String> served = director.handleResponseHeaders(context, Map.of(
                "x-gateway-envoy-lb-metadata-present", "true", "x-gateway-destination-endpoint-served", "10.0.0.2:8000"));
        Map<String, String> noMetadata = director.handleResponseHeaders(context,
                Map.of("x-gateway-envoy-lb-metadata-present", "false"));

        assertThat(served).containsExactly(Map.entry("x-conformance-test-served-endpoint", "10.0.0.2:8000"),
                Map.entry("x-h", "seen"));
        assertThat(noMetadata).containsEntry("x-conformance-test-served-endpoint", "fail: missing envoy lb metadata");
        assertThat(calls).containsExactly("h.responseHeader pod-b 200", "h.responseHeader pod-b 200");
        assertThat(timings).contains("ResponseReceived:verifier/destination-endpoint-served-verifier");
    }

    @Test
    void responseBodyPluginsRunPerChunkAndReturnTheirMetadata() {
        List<String> calls = new ArrayList<>();
        Director director = builder().responseBodyPlugins(List.of(new Hooks("h", calls))).build();
        RequestContext context = context();
        director.handleRequest(context);

        Map<String, Map<String, Object>> chunk = director.handleResponseBody(context, false);
        Map<String, Map<String, Object>> last = director.handleResponseBody(context, true);

        assertThat(calls).containsExactly("h.responseBody pod-b eos=false", "h.responseBody pod-b eos=true");
        assertThat(chunk).isEqualTo(Map.of("envoy.lb", Map.of("h", false)));
        assertThat(last).isEqualTo(Map.of("envoy.lb", Map.of("h", true)));
        assertThat(timings).contains("ResponseStreaming:h/hooks");
    }

    @Test
    void responsePluginsDoNotRunForARequestThatWasNeverRouted() {
        List<String> calls = new ArrayList<>();
        Hooks hooks = new Hooks("h", calls);
        Director director = builder().responseHeaderPlugins(List.of(hooks)).responseBodyPlugins(List.of(hooks)).build();
        RequestContext refused = context("{", Map.of());
        assertThatThrownBy(() -> director.handleRequest(refused)).isInstanceOf(InferenceException.class);

        assertThat(director.handleResponseHeaders(refused, Map.of())).isEmpty();
        assertThat(director.handleResponseBody(refused, true)).isEmpty();
        assertThat(calls).isEmpty();
    }

    @Test
    void aDirectorWiredFromAConfigurationAsTheServerDoes() {
        EppConfig config = new ConfigLoader(PluginRegistry.builtIn(),
                () -> datastore.endpoints().stream().map(state -> state.metadata()).toList(), timer).load(Optional.of("""
                apiVersion: inference.networking.x-k8s.io/v1alpha1
                kind: EndpointPickerConfig
                plugins:
                - type: queue-scorer
                - type: concurrency-detector
                  parameters:
                    maxConcurrency: 1
                - type: destination-endpoint-served-verifier
                saturationDetector:
                  pluginRef: concurrency-detector
                schedulingProfiles:
                - name: default
                  plugins:
                  - pluginRef: queue-scorer
                """));
        datastore.replaceObjectives(List.of(objective("batch", -1)));
        LegacyAdmission legacy = new LegacyAdmission(config.saturationDetector());
        Director director = Director.builder().datastore(datastore).parser(config.parser()).scheduler(config.scheduler())
                .admission((request, endpoints) -> legacy.admit(request, endpoints).ifPresent(refusal -> {
                    throw refusal;
                }))
                .prepareDataPlugins(config.prepareData()).admissionPlugins(config.admission())
                .preRequestPlugins(config.preRequest()).responseHeaderPlugins(config.responseHeader())
                .responseBodyPlugins(config.responseBody()).build();
        ConcurrencyDetector detector = (ConcurrencyDetector) config.saturationDetector();

        RequestContext first = context();
        first.requestId("first", false);
        director.handleRequest(first);
        assertThat(first.destination()).isEqualTo("10.0.0.2:8000");
        assertThat(detector.inFlight(key("pod-b")).requests()).isEqualTo(1);
        assertThat(director.handleResponseHeaders(first, Map.of("x-gateway-envoy-lb-metadata-present", "true")))
                .containsEntry("x-conformance-test-served-endpoint", "fail: missing destination endpoint served metadata");

        // One of three slots in use: a sheddable request still passes (saturation 1/3).
        RequestContext second = context(Map.of("x-gateway-inference-objective", "batch"));
        second.requestId("second", false);
        director.handleRequest(second);
        RequestContext third = context();
        third.requestId("third", false);
        director.handleRequest(third);
        // Three of three: the pool is saturated and the next sheddable request is shed.
        RequestContext shed = context(Map.of("x-gateway-inference-objective", "batch"));
        shed.requestId("shed", false);
        assertThat(refusal(director, shed).code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);

        director.handleResponseBody(first, true);
        RequestContext again = context(Map.of("x-gateway-inference-objective", "batch"));
        again.requestId("again", false);
        director.handleRequest(again);
        assertThat(again.destination()).isNotEmpty();
    }

    // ---------------------------------------------------------------- errors

    @Test
    void aBodyTheParserRejectsIsABadRequest() {
        assertThat(refusal(director(), context("{not json", Map.of())).clientMessage())
                .startsWith("inference error: BadRequest - error unmarshaling request bodyMap: ");
        assertThat(refusal(director(), context("{\"model\":\"llama\",\"messages\":[]}", Map.of())).code())
                .isEqualTo(ErrorCode.BAD_REQUEST);
    }

    @Test
    void aBodyWithoutAStringModelIsABadRequest() {
        for (String body : List.of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")) {
            InferenceException refused = refusal(director(), context(body, Map.of()));
            assertThat(refused.code().httpStatus()).hasValue(400);
            assertThat(refused.clientMessage()).isEqualTo("inference error: BadRequest - model not found in request body");
        }
    }

    @Test
    void anAdmissionPluginThatRefusesOrFailsGivesInternal() {
        List<String> calls = new ArrayList<>();
        Hooks refusing = new Hooks("refusing", calls);
        refusing.refusal = Optional.of("quota exceeded");
        Hooks failing = new Hooks("failing", calls);
        failing.failure = new IllegalStateException("boom");
        Hooks never = new Hooks("never", calls);

        for (Hooks plugin : List.of(refusing, failing)) {
            InferenceException refused = refusal(builder().admissionPlugins(List.of(plugin, never))
                    .preRequestPlugins(List.of(never)).build(), context());
            assertThat(refused.code().httpStatus()).hasValue(500);
            assertThat(refused.clientMessage()).isEqualTo("inference error: Internal - request cannot be admitted");
        }
        assertThat(calls).containsExactly("refusing.admit req-1", "failing.admit req-1");
        assertThat(recorder.attempts).isEmpty();
    }

    @Test
    void aFilterThatLeavesNothingFailsSchedulingWith429() {
        Filter nothing = new LabelSelectorFilter("gpu-filter", new LabelSelector(Map.of("gpu", "h100"), List.of()));
        Director director = builder().scheduler(scheduler(1, List.of(nothing),
                List.of(new WeightedScorer(new QueueScorer("queue-scorer"), 1.0)))).build();

        InferenceException refused = refusal(director, context());

        assertThat(refused.code().httpStatus()).hasValue(429);
        assertThat(refused.clientMessage()).isEqualTo(
                "inference error: ResourceExhausted - failed to find target endpoint: failed to run scheduler profile 'default'");
        assertThat(recorder.attempts).containsExactly("llama false   0");
    }

    @Test
    void aSchedulingPluginThatThrowsGivesInternalInsteadOfEscaping() {
        Scorer broken = new Scorer() {
            @Override
            public TypedName typedName() {
                return new TypedName("broken-scorer", "broken-scorer");
            }

            @Override
            public ScorerCategory category() {
                return ScorerCategory.BALANCE;
            }

            @Override
            public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
                throw new NullPointerException("no metrics");
            }
        };
        Director director = builder().scheduler(scheduler(1, List.of(), List.of(new WeightedScorer(broken, 1)))).build();

        InferenceException refused = refusal(director, context());

        assertThat(refused.code().httpStatus()).hasValue(500);
        assertThat(refused.clientMessage()).startsWith("inference error: Internal - ");
        assertThat(recorder.attempts).containsExactly("llama false   0");
    }

    @Test
    void aPrimaryProfileWithoutTargetFailsSchedulingWith429() {
        ProfileHandler primaryFailed = new ProfileHandler() {
            @Override
            public TypedName typedName() {
                return new TypedName("test-handler", "test-handler");
            }

            @Override
            public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request,
                                                      Map<String, SchedulerProfile> profiles,
                                                      Map<String, ProfileRunResult> results) {
                return results.isEmpty() ? profiles : Map.of();
            }

            @Override
            public SchedulingResult processResults(CycleState state, LlmRequest request,
                                                   Map<String, ProfileRunResult> results) {
                return new SchedulingResult(Map.of("decode", ProfileRunResult.FAILED, "prefill",
                        results.get("default")), "decode");
            }
        };
        Scheduler scheduler = new Scheduler(primaryFailed, scheduler().profiles(), timer);

        InferenceException refused = refusal(builder().scheduler(scheduler).build(), context());

        assertThat(refused.clientMessage()).isEqualTo("inference error: ResourceExhausted - failed to find target"
                + " endpoint: primary profile 'decode' has no target endpoint");
        assertThat(recorder.attempts).containsExactly("llama false   0");
    }

    @Test
    void aProfileHandlerThatRunsNoProfileFailsSchedulingWith429AsUpstream() {
        ProfileHandler idle = new ProfileHandler() {
            @Override
            public TypedName typedName() {
                return new TypedName("idle-handler", "idle-handler");
            }

            @Override
            public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request,
                                                      Map<String, SchedulerProfile> profiles,
                                                      Map<String, ProfileRunResult> results) {
                return Map.of();
            }

            @Override
            public SchedulingResult processResults(CycleState state, LlmRequest request,
                                                   Map<String, ProfileRunResult> results) {
                throw new AssertionError("no profile ran, nothing to process");
            }
        };
        Director director = builder().scheduler(new Scheduler(idle, scheduler().profiles(), timer)).build();

        assertThat(refusal(director, context()).clientMessage()).isEqualTo("inference error: ResourceExhausted -"
                + " failed to find target endpoint: failed to run any scheduler profile for request req-1");
    }

    @Test
    void aFailingDataProducerIsIgnored() {
        Hooks failing = new Hooks("failing", new ArrayList<>());
        failing.failure = new IllegalArgumentException("tokenizer down");
        RequestContext context = context();

        builder().prepareDataPlugins(List.of(failing)).build().handleRequest(context);

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
    }

    @Test
    void aFailingPreRequestPluginDoesNotStopTheOthersNorTheRequest() {
        List<String> calls = new ArrayList<>();
        Hooks failing = new Hooks("failing", calls);
        failing.failure = new IllegalStateException("boom");
        Hooks after = new Hooks("after", calls);
        RequestContext context = context();

        assertThatCode(() -> builder().preRequestPlugins(List.of(failing, after)).build().handleRequest(context))
                .doesNotThrowAnyException();

        assertThat(context.destination()).isEqualTo("10.0.0.2:8000");
        assertThat(calls).containsExactly("failing.preRequest default -> 10.0.0.2:8000",
                "after.preRequest default -> 10.0.0.2:8000");
        assertThat(context.headersToSet()).containsEntry("x-after", "pod-b");
    }

    @Test
    void failingResponsePluginsDoNotStopTheOthers() {
        List<String> calls = new ArrayList<>();
        Hooks failing = new Hooks("failing", calls);
        failing.failure = new IllegalStateException("boom");
        Hooks after = new Hooks("after", calls);
        Director director = builder().responseHeaderPlugins(List.of(failing, after))
                .responseBodyPlugins(List.of(failing, after)).build();
        RequestContext context = context();
        director.handleRequest(context);

        Map<String, String> headers = director.handleResponseHeaders(context, Map.of());
        director.handleResponseBody(context, true);

        assertThat(headers).containsEntry("x-after", "seen");
        assertThat(calls).containsExactly("failing.responseHeader pod-b null", "after.responseHeader pod-b null",
                "failing.responseBody pod-b eos=true", "after.responseBody pod-b eos=true");
    }
}
