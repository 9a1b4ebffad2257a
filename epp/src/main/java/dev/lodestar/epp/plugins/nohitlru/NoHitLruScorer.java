package dev.lodestar.epp.plugins.nohitlru;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.plugin.ConsumerPlugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code no-hit-lru-scorer} (llm-d): spreads cold requests (no candidate has a prefix-cache hit) over the
 * endpoints that least recently took a cold request. With {@code n} candidates, the i-th candidate never
 * used for a cold request scores {@code 1 - i/(n-1)}, and a used one {@code max(0, 1 - (neverUsed + p)/(n-1))}
 * where {@code p} is its position in the LRU, oldest first. A warm request scores 0.5 everywhere. After a
 * cold request is scheduled its primary target, and the {@code prefill} target, become the most recently
 * used. The LRU tracks at most {@code lruSize} endpoints.
 */
public final class NoHitLruScorer implements Scorer, PreRequestPlugin, ConsumerPlugin {
    public static final String TYPE = "no-hit-lru-scorer";
    public static final PluginFactory FACTORY = NoHitLruScorer::fromConfig;

    static final String PREFILL_PROFILE = "prefill";
    private static final double NEUTRAL = 0.5;
    private static final int STALE_CHECK_SIZE = 1024;
    private static final long STALE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<PrefixCacheMatchInfo> key;
    private final AtomicReference<Lru> lru = new AtomicReference<>(Lru.EMPTY);
    /** Cold requests scored and not yet through PreRequest, with when they were scored. */
    private final ConcurrentHashMap<String, Long> coldRequests = new ConcurrentHashMap<>();

    private NoHitLruScorer(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.key = PrefixCacheMatchInfo.key(params.prefixMatchInfoProducerName());
    }

    private static NoHitLruScorer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class));
    }

    public static NoHitLruScorer create(String name, Params params) {
        return new NoHitLruScorer(name, params);
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

    /** Endpoints in the LRU, least recently used first. */
    public List<EndpointKey> leastRecentlyUsedFirst() {
        return List.of(lru.get().oldestFirst);
    }

    @Override
    public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        double[] scores = new double[endpoints.size()];
        if (!isCold(endpoints)) {
            Arrays.fill(scores, NEUTRAL);
            return scores;
        }
        rememberCold(request.requestId());
        int n = endpoints.size();
        if (n == 1) {
            scores[0] = 1.0;
            return scores;
        }
        Lru snapshot = lru.get();
        int neverUsed = 0;
        for (Endpoint endpoint : endpoints) {
            if (!snapshot.position.containsKey(endpoint.metadata().key())) {
                neverUsed++;
            }
        }
        int nextNeverUsed = 0;
        for (int i = 0; i < n; i++) {
            Integer position = snapshot.position.get(endpoints.get(i).metadata().key());
            int rank = position == null ? nextNeverUsed++ : neverUsed + position;
            scores[i] = Math.max(0, 1.0 - (double) rank / (n - 1));
        }
        return scores;
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        if (coldRequests.remove(request.requestId()) == null) {
            return;
        }
        markUsed(result.primary());
        ProfileRunResult prefill = result.profileResults().get(PREFILL_PROFILE);
        if (prefill != null) {
            markUsed(prefill);
        }
    }

    private boolean isCold(List<Endpoint> endpoints) {
        for (Endpoint endpoint : endpoints) {
            var info = endpoint.attribute(key);
            if (info.isPresent() && info.get().matchBlocks() > 0) {
                return false;
            }
        }
        return true;
    }

    private void rememberCold(String requestId) {
        long now = System.nanoTime();
        coldRequests.put(requestId, now);
        // Requests that fail after scoring never reach PreRequest; drop what they left behind.
        if (coldRequests.size() > STALE_CHECK_SIZE) {
            coldRequests.entrySet().removeIf(entry -> now - entry.getValue() > STALE_NANOS);
        }
    }

    private void markUsed(ProfileRunResult run) {
        if (run.failed()) {
            return;
        }
        EndpointKey endpoint = run.targetEndpoints().getFirst().metadata().key();
        lru.updateAndGet(current -> current.withMostRecent(endpoint, params.lruSize()));
    }

    /** An immutable LRU order; replaced as a whole, so scoring reads it without a lock. */
    private static final class Lru {
        static final Lru EMPTY = new Lru(new EndpointKey[0]);

        final EndpointKey[] oldestFirst;
        final Map<EndpointKey, Integer> position;

        Lru(EndpointKey[] oldestFirst) {
            this.oldestFirst = oldestFirst;
            this.position = HashMap.newHashMap(oldestFirst.length);
            for (int i = 0; i < oldestFirst.length; i++) {
                position.put(oldestFirst[i], i);
            }
        }

        Lru withMostRecent(EndpointKey endpoint, int capacity) {
            Integer at = position.get(endpoint);
            if (at != null && at == oldestFirst.length - 1) {
                return this;
            }
            EndpointKey[] order = new EndpointKey[Math.min(oldestFirst.length + (at == null ? 1 : 0), capacity)];
            int skip = oldestFirst.length + (at == null ? 1 : 0) - order.length;
            int out = 0;
            for (EndpointKey existing : oldestFirst) {
                if (existing.equals(endpoint)) {
                    continue;
                }
                if (skip > 0) {
                    skip--;
                    continue;
                }
                order[out++] = existing;
            }
            order[out] = endpoint;
            return new Lru(order);
        }
    }

    /**
     * @param prefixPluginType            deprecated upstream and unused (llm-d never read it)
     * @param prefixPluginName            deprecated upstream and unused
     * @param lruSize                     endpoints the LRU tracks (1024); 0 means the default
     * @param prefixMatchInfoProducerName the prefix producer to read; empty = {@code approx-prefix-cache-producer}
     */
    public record Params(String prefixPluginType, String prefixPluginName, Integer lruSize,
                         String prefixMatchInfoProducerName) {
        public static final int DEFAULT_LRU_SIZE = 1024;
        public static final Params DEFAULTS = new Params(null, null, null, null);

        public Params {
            prefixPluginType = prefixPluginType == null ? "prefix-cache-scorer" : prefixPluginType;
            prefixPluginName = prefixPluginName == null ? "prefix-cache-scorer" : prefixPluginName;
            lruSize = lruSize == null || lruSize == 0 ? DEFAULT_LRU_SIZE : lruSize;
            prefixMatchInfoProducerName = prefixMatchInfoProducerName == null ? "" : prefixMatchInfoProducerName;
            if (lruSize < 0) {
                throw new IllegalArgumentException("lruSize must be > 0, got " + lruSize);
            }
        }
    }
}
