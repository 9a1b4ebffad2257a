package dev.lodestar.epp.plugins.tokenload;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;

import java.util.List;
import java.util.Set;

/**
 * {@code token-load-scorer} (GIE v1.5.0): {@code 1 - min(inFlightTokens, T) / T} with
 * {@code T = queueThresholdTokens}, from the endpoint's {@link InFlightLoad}; no tokens in flight (or no
 * attribute) scores 1.0.
 */
public final class TokenLoadScorer implements Scorer, ConsumerPlugin {
    public static final String TYPE = "token-load-scorer";
    public static final PluginFactory FACTORY = TokenLoadScorer::fromConfig;

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<InFlightLoad> key;

    private TokenLoadScorer(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.key = InFlightLoad.key(params.inFlightLoadProducerName());
    }

    private static TokenLoadScorer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class));
    }

    public static TokenLoadScorer create(String name, Params params) {
        return new TokenLoadScorer(name, params);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.DISTRIBUTION;
    }

    @Override
    public Set<String> consumes() {
        return Set.of(key.name());
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        double threshold = params.queueThresholdTokens();
        double[] scores = new double[endpoints.size()];
        for (int i = 0; i < scores.length; i++) {
            long tokens = endpoints.get(i).attribute(key).map(InFlightLoad::tokens).orElse(0L);
            scores[i] = tokens <= 0 ? 1.0 : 1.0 - Math.min(tokens, threshold) / threshold;
        }
        return scores;
    }

    /**
     * @param queueThresholdTokens     in-flight tokens at which an endpoint scores 0; 0 means the default
     *                                 (4194304, 128 requests of 32K tokens)
     * @param inFlightLoadProducerName the producer to read (llm-d); empty = {@code inflight-load-producer}
     */
    public record Params(Long queueThresholdTokens, String inFlightLoadProducerName) {
        public static final long DEFAULT_QUEUE_THRESHOLD_TOKENS = 4_194_304;
        public static final Params DEFAULTS = new Params(null, null);

        public Params {
            queueThresholdTokens = queueThresholdTokens == null || queueThresholdTokens == 0
                    ? DEFAULT_QUEUE_THRESHOLD_TOKENS : queueThresholdTokens;
            inFlightLoadProducerName = inFlightLoadProducerName == null ? "" : inFlightLoadProducerName;
            if (queueThresholdTokens < 0) {
                throw new IllegalArgumentException("queueThresholdTokens must be > 0, got " + queueThresholdTokens);
            }
        }
    }
}
