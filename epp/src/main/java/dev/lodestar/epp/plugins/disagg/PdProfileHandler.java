package dev.lodestar.epp.plugins.disagg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import dev.lodestar.epp.prefix.BlockHashChain;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code pd-profile-handler}, deprecated since llm-d v0.7 in favour of {@code disagg-profile-handler}:
 * decode first, then prefill when the decider approves; decode is primary and a failed prefill leaves
 * decode only. Unlike the new handler it sets no header (configure {@code prefill-header-handler}) and
 * counts each decision in the deprecated {@code pd_decision_total} when the decider answers.
 *
 * <p>The decider: {@code deciderPluginName} when given (v0.10); else, with the v0.3 {@code threshold},
 * a built-in one: 0 always disaggregates, above 0 disaggregates when the prompt's characters not covered
 * by the decode endpoint's prefix match ({@code matchBlocks x blockSizeTokens x 4}) are at least the
 * threshold; else the plugin named {@code prefix-based-pd-decider} when configured, else always (v0.3's
 * default threshold 0).
 */
public final class PdProfileHandler implements ProfileHandler, DecisionRecorder.Source {
    public static final String TYPE = "pd-profile-handler";
    public static final PluginFactory FACTORY = PdProfileHandler::fromConfig;

    static final String DEFAULT_DECIDER = PrefixBasedPdDecider.TYPE;

    private static final System.Logger LOG = System.getLogger(PdProfileHandler.class.getName());
    private static final AttributeKey<Boolean> DECIDED = AttributeKey.of("pd-profile-handler/decided", Boolean.class);

    private final TypedName typedName;
    private final String decodeProfile;
    private final String prefillProfile;
    private final Decider decider;
    private volatile DecisionRecorder recorder = DecisionRecorder.NONE;

    public PdProfileHandler(String name, String decodeProfile, String prefillProfile, Decider decider) {
        this.typedName = new TypedName(TYPE, name);
        this.decodeProfile = Objects.requireNonNull(decodeProfile, "decodeProfile");
        this.prefillProfile = Objects.requireNonNull(prefillProfile, "prefillProfile");
        this.decider = Objects.requireNonNull(decider, "decider");
    }

    private static PdProfileHandler fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        LOG.log(System.Logger.Level.WARNING, "plugin ''{0}'': type " + TYPE + " is deprecated, use "
                + DisaggProfileHandler.TYPE + " instead", name);
        Params params = PluginParameters.decode(name, parameters, Params.class);
        if (params.primaryPort() != 0) {
            throw new IllegalArgumentException("primaryPort (data-parallel routing) is not supported; upstream"
                    + " deprecated it (not needed with Istio >= 1.28.1)");
        }
        if (params.hashBlockSize() != null) {
            LOG.log(System.Logger.Level.WARNING, "plugin ''{0}'': hashBlockSize is ignored; the block size is the"
                    + " prefix producer''s", name);
        }
        return new PdProfileHandler(name, params.decodeProfile(), params.prefillProfile(), decider(name, params, handle));
    }

    private static Decider decider(String name, Params params, PluginHandle handle) {
        if (!params.deciderPluginName().isEmpty()) {
            Plugin plugin = handle.plugin(params.deciderPluginName(), Plugin.class).orElseThrow(() ->
                    new IllegalArgumentException("invalid decider plugin type: " + params.deciderPluginName()));
            if (!(plugin instanceof Decider decider)) {
                throw new IllegalArgumentException("decider plugin of type: " + params.deciderPluginName()
                        + " does not implement pdDeciderPlugin");
            }
            return decider;
        }
        if (params.threshold() != null) {
            return new ThresholdDecider(name, params.threshold());
        }
        return handle.plugin(DEFAULT_DECIDER, Decider.class)
                .orElseGet(() -> new ThresholdDecider(name, 0));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public Decider decider() {
        return decider;
    }

    @Override
    public void recordDecisionsWith(DecisionRecorder value) {
        recorder = Objects.requireNonNull(value, "recorder");
    }

    @Override
    public Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request, Map<String, SchedulerProfile> profiles,
                                              Map<String, ProfileRunResult> results) {
        ProfileRunResult decode = results.get(decodeProfile);
        if (decode == null) {
            SchedulerProfile profile = profiles.get(decodeProfile);
            return profile == null ? Map.of() : Map.of(decodeProfile, profile);
        }
        if (profiles.size() == results.size() || decode.failed() || state.read(DECIDED).isPresent()) {
            return Map.of();
        }
        state.write(DECIDED, true);
        String model = DecisionRecorder.modelLabel(request.targetModel());
        SchedulerProfile prefill = profiles.get(prefillProfile);
        if (prefill != null && decider.disaggregate(request, Optional.of(decode.targetEndpoints().getFirst()))) {
            recorder.pdDecision(typedName, model, DecisionType.PREFILL_DECODE);
            return Map.of(prefillProfile, prefill);
        }
        recorder.pdDecision(typedName, model, DecisionType.DECODE_ONLY);
        return Map.of();
    }

    @Override
    public SchedulingResult processResults(CycleState state, LlmRequest request, Map<String, ProfileRunResult> results) {
        return DisaggProfileHandler.assemble(results, decodeProfile, prefillProfile);
    }

    /**
     * v0.3's prefill decision: disaggregate when the prompt characters the decode endpoint has not cached
     * are at least {@code threshold}; 0 always disaggregates.
     */
    static final class ThresholdDecider implements Decider {
        private final TypedName typedName;
        private final int threshold;
        private final AttributeKey<PrefixCacheMatchInfo> key = PrefixCacheMatchInfo.key(PrefixCacheMatchInfo.DEFAULT_PRODUCER);

        ThresholdDecider(String handlerName, int threshold) {
            this.typedName = new TypedName("pd-threshold-decider", handlerName);
            this.threshold = threshold;
        }

        int threshold() {
            return threshold;
        }

        @Override
        public TypedName typedName() {
            return typedName;
        }

        @Override
        public boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint) {
            if (threshold == 0) {
                return true;
            }
            long promptChars = request.body().prefixHashInput().length;
            long cachedChars = decodeEndpoint.flatMap(endpoint -> endpoint.attribute(key))
                    .map(info -> (long) info.matchBlocks() * info.blockSizeTokens() * BlockHashChain.CHARS_PER_TOKEN)
                    .orElse(0L);
            return promptChars - cachedChars >= threshold;
        }
    }

    /**
     * Parameters of v0.10 ({@code decodeProfile}, {@code prefillProfile}, {@code deciderPluginName},
     * {@code primaryPort}, {@code prefixMatchInfoProducerName}, and the never-used {@code prefixPluginType} /
     * {@code prefixPluginName}) and of v0.3 ({@code threshold}, {@code hashBlockSize}).
     */
    public record Params(String decodeProfile, String prefillProfile, String prefixPluginType, String prefixPluginName,
                         Integer primaryPort, String deciderPluginName, String prefixMatchInfoProducerName,
                         Integer threshold, Integer hashBlockSize) {
        public Params {
            decodeProfile = decodeProfile == null || decodeProfile.isEmpty()
                    ? DisaggProfileHandler.DEFAULT_DECODE_PROFILE : decodeProfile;
            prefillProfile = prefillProfile == null || prefillProfile.isEmpty()
                    ? DisaggProfileHandler.DEFAULT_PREFILL_PROFILE : prefillProfile;
            primaryPort = primaryPort == null ? 0 : primaryPort;
            deciderPluginName = deciderPluginName == null ? "" : deciderPluginName;
            if (primaryPort < 0 || primaryPort > 65535) {
                throw new IllegalArgumentException("invalid primaryPort: must be between 1 and 65535, got " + primaryPort);
            }
            if (threshold != null && threshold < 0) {
                throw new IllegalArgumentException("threshold must be >= 0, got " + threshold);
            }
            if (hashBlockSize != null && hashBlockSize <= 0) {
                throw new IllegalArgumentException("hashBlockSize must be > 0, got " + hashBlockSize);
            }
            if (threshold != null && !deciderPluginName.isEmpty()) {
                throw new IllegalArgumentException("threshold (v0.3) and deciderPluginName cannot be used together;"
                        + " set nonCachedTokens on the decider instead");
            }
        }
    }
}
