package dev.lodestar.epp.plugins.activerequest;

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
 * {@code active-request-scorer} (llm-d): from each endpoint's in-flight request count {@code n}
 * ({@link InFlightLoad}), an endpoint with {@code n <= idleThreshold} scores 1.0 and a busier one
 * {@code (max - n) / max x maxBusyScore}, where {@code max} is the largest count among the candidates.
 */
public final class ActiveRequestScorer implements Scorer, ConsumerPlugin {
    public static final String TYPE = "active-request-scorer";
    public static final PluginFactory FACTORY = ActiveRequestScorer::fromConfig;

    private static final System.Logger LOG = System.getLogger(ActiveRequestScorer.class.getName());

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<InFlightLoad> key;

    private ActiveRequestScorer(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.key = InFlightLoad.key(params.inFlightLoadProducerName());
    }

    private static ActiveRequestScorer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        Params params = PluginParameters.decode(name, parameters, Params.class);
        if (!params.requestTimeout().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "plugin ''{0}'': requestTimeout is deprecated and ignored; "
                    + "in-flight requests are tracked by inflight-load-producer", name);
        }
        return create(name, params);
    }

    public static ActiveRequestScorer create(String name, Params params) {
        return new ActiveRequestScorer(name, params);
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
        long[] counts = new long[endpoints.size()];
        long max = 0;
        for (int i = 0; i < counts.length; i++) {
            counts[i] = endpoints.get(i).attribute(key).map(InFlightLoad::requests).orElse(0L);
            max = Math.max(max, counts[i]);
        }
        double[] scores = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            scores[i] = counts[i] <= params.idleThreshold()
                    ? 1.0
                    : (double) (max - counts[i]) / max * params.maxBusyScore();
        }
        return scores;
    }

    /**
     * @param idleThreshold            request count at or below which an endpoint is idle, >= 0 (0)
     * @param maxBusyScore             the best score of a busy endpoint, 0..1 (1.0)
     * @param requestTimeout           deprecated and ignored (requests are tracked by inflight-load-producer)
     * @param inFlightLoadProducerName the producer to read; empty = {@code inflight-load-producer}
     */
    public record Params(Integer idleThreshold, Double maxBusyScore, String requestTimeout,
                         String inFlightLoadProducerName) {
        public static final Params DEFAULTS = new Params(null, null, null, null);

        public Params {
            idleThreshold = idleThreshold == null ? 0 : idleThreshold;
            maxBusyScore = maxBusyScore == null ? 1.0 : maxBusyScore;
            requestTimeout = requestTimeout == null ? "" : requestTimeout;
            inFlightLoadProducerName = inFlightLoadProducerName == null ? "" : inFlightLoadProducerName;
            if (idleThreshold < 0) {
                throw new IllegalArgumentException("idleThreshold must be >= 0, got " + idleThreshold);
            }
            if (!(maxBusyScore >= 0 && maxBusyScore <= 1)) {
                throw new IllegalArgumentException("maxBusyScore must be between 0.0 and 1.0, got " + maxBusyScore);
            }
        }
    }
}
