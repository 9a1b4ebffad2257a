package dev.lodestar.epp.plugins.disagg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code disagg-profile-handler} (llm-d Router v0.10): runs decode, and per request the encode and
 * prefill stages its deciders approve; decode is the primary profile. As a PreRequest plugin it writes
 * {@code x-prefiller-host-port} (prefill target) and {@code x-encoder-hosts-ports} (encode targets).
 *
 * <p>{@code decode-first} (default): decode; no decode endpoint ends the cycle and the request fails
 * ({@code failed to find available decode workers}); then encode if its decider approves, then prefill if
 * its decider approves, both deciders seeing the chosen decode endpoint. {@code prefill-first}: prefill
 * runs whenever its profile exists (a prefill decider is a configuration error), then encode (decider
 * without a decode endpoint), then decode, with the prefill pick published as {@link #PEER_ENDPOINT}.
 * A stage whose profile finds no endpoint is dropped from the result: a failed prefill means decode only.
 * Each scheduled request counts once in {@code disagg_decision_total} by the stages that found an endpoint.
 */
public final class DisaggProfileHandler implements ProfileHandler, PreRequestPlugin, DecisionRecorder.Source {
    public static final String TYPE = "disagg-profile-handler";
    public static final PluginFactory FACTORY = DisaggProfileHandler::fromConfig;

    /** The endpoint chosen by the stage that ran first (decode, or prefill in prefill-first order). */
    public static final AttributeKey<Endpoint> PEER_ENDPOINT = AttributeKey.of("peer-endpoint", Endpoint.class);

    static final String DEFAULT_DECODE_PROFILE = "decode";
    static final String DEFAULT_PREFILL_PROFILE = "prefill";
    static final String DEFAULT_ENCODE_PROFILE = "encode";

    private static final System.Logger LOG = System.getLogger(DisaggProfileHandler.class.getName());
    private static final AttributeKey<Stages> STAGES = AttributeKey.of("disagg-profile-handler/stages", Stages.class);

    /** Execution order of the stages. */
    public enum StageOrder {
        DECODE_FIRST("decode-first"),
        PREFILL_FIRST("prefill-first");

        private final String value;

        StageOrder(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }

        /** Upstream's lenient spelling: case, '-' and '_' ignored; "" and "decode" mean decode-first. */
        public static StageOrder parse(String text) {
            String compact = text.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
            return switch (compact) {
                case "", "decodefirst", "decode" -> DECODE_FIRST;
                case "prefillfirst", "prefill" -> PREFILL_FIRST;
                default -> throw new IllegalArgumentException("invalid stage order \"" + text + "\", must be \""
                        + DECODE_FIRST.value + "\" or \"" + PREFILL_FIRST.value + "\"");
            };
        }
    }

    private final TypedName typedName;
    private final StageOrder stageOrder;
    private final String decodeProfile;
    private final String prefillProfile;
    private final String encodeProfile;
    private final Optional<Decider> prefillDecider;
    private final Optional<Decider> encodeDecider;
    private volatile DecisionRecorder recorder = DecisionRecorder.NONE;

    public DisaggProfileHandler(String name, StageOrder stageOrder, String decodeProfile, String prefillProfile,
                                String encodeProfile, Optional<Decider> prefillDecider,
                                Optional<Decider> encodeDecider) {
        this.typedName = new TypedName(TYPE, name);
        this.stageOrder = Objects.requireNonNull(stageOrder, "stageOrder");
        this.decodeProfile = Objects.requireNonNull(decodeProfile, "decodeProfile");
        this.prefillProfile = Objects.requireNonNull(prefillProfile, "prefillProfile");
        this.encodeProfile = Objects.requireNonNull(encodeProfile, "encodeProfile");
        this.prefillDecider = Objects.requireNonNull(prefillDecider, "prefillDecider");
        this.encodeDecider = Objects.requireNonNull(encodeDecider, "encodeDecider");
        if (stageOrder == StageOrder.PREFILL_FIRST && prefillDecider.isPresent()) {
            throw new IllegalArgumentException("prefill decider is not supported in " + StageOrder.PREFILL_FIRST.value
                    + " stage order");
        }
    }

    private static DisaggProfileHandler fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        Params params = PluginParameters.decode(name, parameters, Params.class).effective(name);
        StageOrder order = StageOrder.parse(params.stageOrder());
        Optional<Decider> prefill = decider(handle, "deciders.prefill", params.deciders().prefill());
        Optional<Decider> encode = decider(handle, "deciders.encode", params.deciders().encode());
        if (prefill.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "plugin ''{0}'': no deciders.prefill configured, P/D disaggregation"
                    + " disabled", name);
        }
        return new DisaggProfileHandler(name, order, params.profiles().decode(), params.profiles().prefill(),
                params.profiles().encode(), prefill, encode);
    }

    private static Optional<Decider> decider(PluginHandle handle, String field, String pluginName) {
        if (pluginName.isEmpty()) {
            return Optional.empty();
        }
        Plugin plugin = handle.plugin(pluginName, Plugin.class)
                .orElseThrow(() -> new IllegalArgumentException(field + " plugin not found: " + pluginName));
        if (!(plugin instanceof Decider decider)) {
            throw new IllegalArgumentException("plugin " + pluginName + " (type " + plugin.typedName().type()
                    + ") is not a decider, as " + field + " needs");
        }
        return Optional.of(decider);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public StageOrder stageOrder() {
        return stageOrder;
    }

    public Optional<Decider> prefillDecider() {
        return prefillDecider;
    }

    public Optional<Decider> encodeDecider() {
        return encodeDecider;
    }

    @Override
    public void recordDecisionsWith(DecisionRecorder value) {
        recorder = Objects.requireNonNull(value, "recorder");
    }

    @Override
    public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request, Map<String, SchedulerProfile> profiles,
                                              Map<String, ProfileRunResult> results) {
        Stages stages = state.read(STAGES).orElseGet(() -> {
            Stages created = new Stages();
            state.write(STAGES, created);
            return created;
        });
        return stageOrder == StageOrder.PREFILL_FIRST
                ? pickPrefillFirst(state, stages, request, profiles, results)
                : pickDecodeFirst(state, stages, request, profiles, results);
    }

    private Map<String, SchedulerProfile> pickDecodeFirst(CycleState state, Stages stages, LlmRequest request,
                                                          Map<String, SchedulerProfile> profiles,
                                                          Map<String, ProfileRunResult> results) {
        ProfileRunResult decode = results.get(decodeProfile);
        if (decode == null) {
            return only(profiles, decodeProfile);
        }
        if (decode.failed()) {
            return Map.of();
        }
        Optional<Endpoint> decodeTarget = Optional.of(decode.targetEndpoints().getFirst());
        if (profiles.containsKey(encodeProfile) && !results.containsKey(encodeProfile) && !stages.encodeDecided) {
            stages.encodeDecided = true;
            if (encodeDecider.isPresent() && encodeDecider.get().disaggregate(request, decodeTarget)) {
                return only(profiles, encodeProfile);
            }
        }
        if (profiles.containsKey(prefillProfile) && !results.containsKey(prefillProfile) && !stages.prefillDecided) {
            stages.prefillDecided = true;
            if (prefillDecider.isPresent() && prefillDecider.get().disaggregate(request, decodeTarget)) {
                state.write(PEER_ENDPOINT, decodeTarget.get());
                return only(profiles, prefillProfile);
            }
        }
        recordOnce(stages, request, results);
        return Map.of();
    }

    private Map<String, SchedulerProfile> pickPrefillFirst(CycleState state, Stages stages, LlmRequest request,
                                                           Map<String, SchedulerProfile> profiles,
                                                           Map<String, ProfileRunResult> results) {
        ProfileRunResult decode = results.get(decodeProfile);
        if (decode != null) {
            if (!decode.failed()) {
                recordOnce(stages, request, results);
            }
            return Map.of();
        }
        if (profiles.containsKey(prefillProfile) && !results.containsKey(prefillProfile)) {
            return only(profiles, prefillProfile);
        }
        if (profiles.containsKey(encodeProfile) && !results.containsKey(encodeProfile) && !stages.encodeDecided) {
            stages.encodeDecided = true;
            if (encodeDecider.isPresent() && encodeDecider.get().disaggregate(request, Optional.empty())) {
                return only(profiles, encodeProfile);
            }
        }
        ProfileRunResult prefill = results.get(prefillProfile);
        if (prefill != null && !prefill.failed()) {
            state.write(PEER_ENDPOINT, prefill.targetEndpoints().getFirst());
        }
        return only(profiles, decodeProfile);
    }

    private static Map<String, SchedulerProfile> only(Map<String, SchedulerProfile> profiles, String name) {
        SchedulerProfile profile = profiles.get(name);
        return profile == null ? Map.of() : Map.of(name, profile);
    }

    private void recordOnce(Stages stages, LlmRequest request, Map<String, ProfileRunResult> results) {
        if (stages.recorded) {
            return;
        }
        stages.recorded = true;
        DecisionType decision = DecisionType.of(succeeded(results, encodeProfile), succeeded(results, prefillProfile));
        recorder.disaggDecision(typedName, DecisionRecorder.modelLabel(request.targetModel()), decision);
    }

    private static boolean succeeded(Map<String, ProfileRunResult> results, String profile) {
        ProfileRunResult result = results.get(profile);
        return result != null && !result.failed();
    }

    @Override
    public SchedulingResult processResults(CycleState state, LlmRequest request, Map<String, ProfileRunResult> results) {
        return assemble(results, decodeProfile, prefillProfile, encodeProfile);
    }

    /**
     * Decode (which must have found an endpoint) as primary, plus the prefill and encode results that
     * found one.
     */
    static SchedulingResult assemble(Map<String, ProfileRunResult> results, String decodeProfile,
                                     String... optionalStages) {
        ProfileRunResult decode = results.get(decodeProfile);
        if (decode == null || decode.failed()) {
            // The director passes this through as upstream words it (429).
            throw new InferenceException(ErrorCode.RESOURCE_EXHAUSTED,
                    "failed to find target endpoint: failed to find available decode workers");
        }
        Map<String, ProfileRunResult> kept = new LinkedHashMap<>();
        kept.put(decodeProfile, decode);
        for (String stage : optionalStages) {
            if (succeeded(results, stage)) {
                kept.put(stage, results.get(stage));
            }
        }
        return new SchedulingResult(kept, decodeProfile);
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        DisaggHeaders.write(result, prefillProfile, encodeProfile, headersToSet);
    }

    /** Which optional stages this request's deciders have been asked about (per cycle). */
    private static final class Stages {
        boolean encodeDecided;
        boolean prefillDecided;
        boolean recorded;
    }

    /**
     * Parameters: the nested format ({@code stageOrder}, {@code profiles}, {@code deciders}) or upstream's
     * deprecated flat one ({@code decodeProfile}, {@code prefillProfile}, {@code encodeProfile},
     * {@code prefillDeciderPluginName}, {@code encodeDeciderPluginName}, {@code deciderPluginName}); not both.
     */
    public record Params(String stageOrder, Profiles profiles, Deciders deciders, String decodeProfile,
                         String prefillProfile, String encodeProfile, String prefillDeciderPluginName,
                         String encodeDeciderPluginName, String deciderPluginName) {
        public Params {
            stageOrder = stageOrder == null ? "" : stageOrder;
        }

        Params effective(String pluginName) {
            boolean nested = profiles != null || deciders != null;
            boolean flat = decodeProfile != null || prefillProfile != null || encodeProfile != null
                    || prefillDeciderPluginName != null || encodeDeciderPluginName != null || deciderPluginName != null;
            if (nested && flat) {
                throw new IllegalArgumentException("use one format exclusively: either nested profiles/deciders or"
                        + " the deprecated flat fields (decodeProfile, prefillProfile, encodeProfile,"
                        + " prefillDeciderPluginName, encodeDeciderPluginName, deciderPluginName)");
            }
            if (!flat) {
                return new Params(stageOrder, profiles == null ? new Profiles(null, null, null) : profiles,
                        deciders == null ? new Deciders(null, null) : deciders, null, null, null, null, null, null);
            }
            LOG.log(System.Logger.Level.WARNING, "plugin ''{0}'': the flat parameters of " + TYPE + " are deprecated;"
                    + " use profiles.decode/prefill/encode and deciders.prefill/encode", pluginName);
            String prefill = prefillDeciderPluginName != null && !prefillDeciderPluginName.isEmpty()
                    ? prefillDeciderPluginName : deciderPluginName;
            return new Params(stageOrder, new Profiles(decodeProfile, prefillProfile, encodeProfile),
                    new Deciders(prefill, encodeDeciderPluginName), null, null, null, null, null, null);
        }
    }

    /** Profile names of the stages (defaults {@code decode}, {@code prefill}, {@code encode}). */
    public record Profiles(String decode, String prefill, String encode) {
        public Profiles {
            decode = decode == null || decode.isEmpty() ? DEFAULT_DECODE_PROFILE : decode;
            prefill = prefill == null || prefill.isEmpty() ? DEFAULT_PREFILL_PROFILE : prefill;
            encode = encode == null || encode.isEmpty() ? DEFAULT_ENCODE_PROFILE : encode;
        }
    }

    /** Names of the decider plugins; none means the stage never runs. */
    public record Deciders(String prefill, String encode) {
        public Deciders {
            prefill = prefill == null ? "" : prefill;
            encode = encode == null ? "" : encode;
        }
    }
}
