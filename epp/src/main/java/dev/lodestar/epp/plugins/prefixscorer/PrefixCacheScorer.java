package dev.lodestar.epp.plugins.prefixscorer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.ProducerPlugin;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code prefix-cache-scorer}: scores each endpoint from its {@link PrefixCacheMatchInfo},
 * {@code w * min(1, matchBlocks * blockSize / matchLengthScaleTokens)^2 + (1 - w) * matchBlocks / totalBlocks}
 * with {@code w = matchLengthWeight} (llm-d); with the default {@code w = 0} this is GIE v1.5.0's
 * {@code matchBlocks / totalBlocks}. An endpoint without the attribute, or a request with no block, scores 0.
 *
 * <p>As in GIE, the scorer's parameters also carry the approximate producer's ({@code autoTune},
 * {@code blockSizeTokens}, ...): the configuration loader creates the producer from them when none is
 * configured, see {@link #missingDefaultProducer}.
 */
public final class PrefixCacheScorer implements Scorer, ConsumerPlugin {
    public static final String TYPE = "prefix-cache-scorer";
    public static final PluginFactory FACTORY = PrefixCacheScorer::fromConfig;

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<PrefixCacheMatchInfo> key;

    private PrefixCacheScorer(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.key = PrefixCacheMatchInfo.key(params.prefixMatchInfoProducerName());
    }

    private static PrefixCacheScorer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class));
    }

    public static PrefixCacheScorer create(String name, Params params) {
        return new PrefixCacheScorer(name, params);
    }

    /**
     * GIE's defaulting of a {@code prefix-cache-scorer} without a producer, for the configuration loader:
     * when a scorer reads the default producer's match info ({@code approx-prefix-cache-producer}, i.e.
     * no {@code prefixMatchInfoProducerName}) and no plugin in {@code plugins} produces it, returns an
     * {@code approx-prefix-cache-producer} named after its type, built from the producer parameters of the
     * last such scorer. The loader adds it to the plugins (it runs in PrepareData and PreRequest).
     *
     * @param plugins every configured plugin instance, in configuration order
     */
    public static Optional<ApproxPrefixCacheProducer> missingDefaultProducer(List<? extends Plugin> plugins,
                                                                            PluginHandle handle) {
        Set<String> produced = new HashSet<>();
        for (Plugin plugin : plugins) {
            if (plugin instanceof ProducerPlugin producer) {
                produced.addAll(producer.produces());
            }
        }
        PrefixCacheScorer last = null;
        for (Plugin plugin : plugins) {
            if (plugin instanceof PrefixCacheScorer scorer
                    && scorer.producerName().equals(PrefixCacheMatchInfo.DEFAULT_PRODUCER)
                    && !produced.contains(scorer.key.name())) {
                last = scorer;
            }
        }
        if (last == null) {
            return Optional.empty();
        }
        return Optional.of(ApproxPrefixCacheProducer.create(ApproxPrefixCacheProducer.TYPE,
                last.params.producerParams(), handle));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public ScorerCategory category() {
        return ScorerCategory.AFFINITY;
    }

    @Override
    public Set<String> consumes() {
        return Set.of(key.name());
    }

    public Params params() {
        return params;
    }

    /** The producer whose match info this scorer reads. */
    public String producerName() {
        String name = params.prefixMatchInfoProducerName();
        return name.isEmpty() ? PrefixCacheMatchInfo.DEFAULT_PRODUCER : name;
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        double weight = params.matchLengthWeight();
        double[] scores = new double[endpoints.size()];
        for (int i = 0; i < scores.length; i++) {
            Optional<PrefixCacheMatchInfo> attribute = endpoints.get(i).attribute(key);
            if (attribute.isEmpty() || attribute.get().totalBlocks() == 0) {
                continue;
            }
            PrefixCacheMatchInfo info = attribute.get();
            double lengthScore = 0;
            if (weight > 0 && info.blockSizeTokens() > 0) {
                double normalized = Math.min(1.0,
                        (double) info.matchBlocks() * info.blockSizeTokens() / params.matchLengthScaleTokens());
                lengthScore = normalized * normalized;
            }
            scores[i] = weight * lengthScore + (1 - weight) * info.matchRatio();
        }
        return scores;
    }

    /**
     * Parameters: llm-d's scoring ones, and GIE v1.5.0's producer ones that only configure the producer
     * {@link #missingDefaultProducer} creates.
     *
     * @param matchLengthWeight           weight of the absolute match length, 0..1 (0.0)
     * @param matchLengthScaleTokens      tokens at which the match length counts fully; must be above 0
     *                                    when {@code matchLengthWeight} is (8192)
     * @param prefixMatchInfoProducerName the producer to read; empty = {@code approx-prefix-cache-producer}
     */
    public record Params(Double matchLengthWeight, Integer matchLengthScaleTokens, String prefixMatchInfoProducerName,
                         Boolean autoTune, Integer blockSizeTokens, Integer blockSize, Integer maxPrefixBlocksToMatch,
                         Integer maxPrefixTokensToMatch, Integer lruCapacityPerServer) {
        public static final int DEFAULT_MATCH_LENGTH_SCALE_TOKENS = 8192;
        public static final Params DEFAULTS = new Params(null, null, null, null, null, null, null, null, null);

        public Params {
            matchLengthWeight = matchLengthWeight == null ? 0.0 : matchLengthWeight;
            matchLengthScaleTokens = matchLengthScaleTokens == null
                    ? DEFAULT_MATCH_LENGTH_SCALE_TOKENS : matchLengthScaleTokens;
            prefixMatchInfoProducerName = prefixMatchInfoProducerName == null ? "" : prefixMatchInfoProducerName;
            if (!(matchLengthWeight >= 0.0 && matchLengthWeight <= 1.0)) {
                throw new IllegalArgumentException("matchLengthWeight must be between 0.0 and 1.0, got "
                        + matchLengthWeight);
            }
            if (matchLengthWeight > 0 && matchLengthScaleTokens <= 0) {
                throw new IllegalArgumentException("matchLengthScaleTokens must be > 0 when matchLengthWeight is > 0, got "
                        + matchLengthScaleTokens);
            }
            ApproxPrefixCacheProducer.Params producer = new ApproxPrefixCacheProducer.Params(autoTune,
                    blockSizeTokens, blockSize, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, lruCapacityPerServer);
            autoTune = producer.autoTune();
            blockSizeTokens = producer.blockSizeTokens();
            blockSize = producer.blockSize();
            maxPrefixBlocksToMatch = producer.maxPrefixBlocksToMatch();
            maxPrefixTokensToMatch = producer.maxPrefixTokensToMatch();
            lruCapacityPerServer = producer.lruCapacityPerServer();
        }

        /** The producer parameters GIE forwards to the auto-created producer. */
        public ApproxPrefixCacheProducer.Params producerParams() {
            return new ApproxPrefixCacheProducer.Params(autoTune, blockSizeTokens, blockSize, maxPrefixBlocksToMatch,
                    maxPrefixTokensToMatch, lruCapacityPerServer);
        }
    }
}
