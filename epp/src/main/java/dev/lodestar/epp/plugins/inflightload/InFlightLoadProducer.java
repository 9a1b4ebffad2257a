package dev.lodestar.epp.plugins.inflightload;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code inflight-load-producer}: counts, per endpoint, the requests the EPP sent there that have not
 * completed and their estimated tokens, and writes them as each candidate's {@link InFlightLoad}.
 *
 * <p>In PreRequest every profile's first target is charged one request and the request's <em>uncached</em>
 * prompt tokens on that endpoint (llm-d): {@code (totalBlocks - matchBlocks) x blockSize} from its
 * {@link PrefixCacheMatchInfo}, plus the estimated input beyond the indexed blocks; the whole input
 * estimate when there is no match info. The input estimate is GIE's: request bytes / 4 (at least 1).
 * With {@code addEstimatedOutputTokens}, {@code round(input x outputRatio)} is added, capped by the
 * request's own output limit and {@code maxEstimatedOutputTokens}.
 *
 * <p>Release: at the first response body chunk prefill is done, so the {@code prefill} profile's charge
 * is released entirely and, unless {@code addEstimatedOutputTokens}, the other charges' tokens too; at
 * end of stream everything left. Each charge is released exactly once, also when the end of stream
 * comes from a client disconnect racing the last chunk, and decrements the counter instance it
 * incremented.
 */
public final class InFlightLoadProducer implements PrepareDataPlugin, PreRequestPlugin, ResponseBodyPlugin {
    public static final String TYPE = "inflight-load-producer";
    public static final PluginFactory FACTORY = InFlightLoadProducer::fromConfig;

    static final String PREFILL_PROFILE = "prefill";
    private static final int BYTES_PER_TOKEN = 4;

    private final TypedName typedName;
    private final Params params;
    private final AttributeKey<InFlightLoad> key;
    private final AttributeKey<PrefixCacheMatchInfo> prefixKey;
    private final ConcurrentHashMap<EndpointKey, Counters> counters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Charges> inFlight = new ConcurrentHashMap<>();

    private InFlightLoadProducer(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.key = InFlightLoad.key(name);
        this.prefixKey = PrefixCacheMatchInfo.key(params.prefixMatchInfoProducerName());
    }

    private static InFlightLoadProducer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class));
    }

    public static InFlightLoadProducer create(String name, Params params) {
        return new InFlightLoadProducer(Objects.requireNonNull(name, "name"), Objects.requireNonNull(params, "params"));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public Set<String> produces() {
        return Set.of(key.name());
    }

    /** The load of {@code endpoint} right now. */
    public InFlightLoad load(EndpointKey endpoint) {
        Counters counter = counters.get(endpoint);
        return counter == null ? InFlightLoad.IDLE : counter.snapshot();
    }

    /** Requests charged and not yet released (for tests and debugging). */
    int trackedRequests() {
        return inFlight.size();
    }

    /**
     * Drops the counters of an endpoint that left the pool. Requests still in flight there release into
     * the dropped counters, so an endpoint that comes back under the same name starts at zero.
     */
    public void forgetEndpoint(EndpointKey endpoint) {
        counters.remove(endpoint);
    }

    /** Forgets endpoints that are not in {@code pool}. */
    public void retainEndpoints(Set<EndpointKey> pool) {
        counters.keySet().retainAll(pool);
    }

    @Override
    public void prepareRequestData(LlmRequest request, List<Endpoint> endpoints) {
        for (Endpoint endpoint : endpoints) {
            endpoint.putAttribute(key, load(endpoint.metadata().key()));
        }
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        long inputTokens = estimateInputTokens(request);
        List<Charge> charges = new ArrayList<>(result.profileResults().size());
        for (Map.Entry<String, ProfileRunResult> profile : result.profileResults().entrySet()) {
            if (profile.getValue().failed()) {
                continue;
            }
            Endpoint target = profile.getValue().targetEndpoints().getFirst();
            long tokens = uncachedInputTokens(target, inputTokens);
            if (params.addEstimatedOutputTokens()) {
                tokens += estimateOutputTokens(inputTokens, clientOutputLimit(request));
            }
            charges.add(new Charge(profile.getKey(), charge(target.metadata().key(), tokens), tokens));
        }
        if (charges.isEmpty()) {
            return;
        }
        Charges previous = inFlight.putIfAbsent(request.requestId(), new Charges(charges));
        if (previous != null) {
            // Another request with the same id is in flight; its response phases will release the
            // tracked one, so this one is not tracked at all rather than released by the wrong response.
            charges.forEach(Charge::releaseAll);
        }
    }

    @Override
    public void responseBody(LlmRequest request, Response response, EndpointMetadata target) {
        if (response.endOfStream()) {
            Charges charges = inFlight.remove(request.requestId());
            if (charges != null) {
                charges.releaseAll();
            }
            return;
        }
        Charges charges = inFlight.get(request.requestId());
        if (charges != null && charges.firstChunk.compareAndSet(false, true)) {
            for (Charge charge : charges.charges) {
                if (charge.profile.equals(PREFILL_PROFILE)) {
                    charge.releaseAll();
                } else if (!params.addEstimatedOutputTokens()) {
                    charge.releaseTokens();
                }
            }
        }
    }

    private Counters charge(EndpointKey endpoint, long tokens) {
        Counters counter = counters.computeIfAbsent(endpoint, ignored -> new Counters());
        counter.requests.incrementAndGet();
        counter.tokens.addAndGet(tokens);
        return counter;
    }

    /** GIE v1.5.0's input estimate: request bytes / 4, else prompt characters / 4; at least 1. */
    static long estimateInputTokens(LlmRequest request) {
        if (request.requestSizeBytes() > 0) {
            return Math.max(request.requestSizeBytes() / BYTES_PER_TOKEN, 1);
        }
        return Math.max(1, Math.round(request.body().promptText().length() / (double) BYTES_PER_TOKEN));
    }

    long uncachedInputTokens(Endpoint endpoint, long inputTokens) {
        Optional<PrefixCacheMatchInfo> attribute = endpoint.attribute(prefixKey);
        if (attribute.isEmpty() || attribute.get().blockSizeTokens() <= 0) {
            return Math.max(inputTokens, 0);
        }
        PrefixCacheMatchInfo info = attribute.get();
        long blockSize = info.blockSizeTokens();
        long indexed = info.totalBlocks() * blockSize;
        long uncachedIndexed = Math.max(indexed - info.matchBlocks() * blockSize, 0);
        return uncachedIndexed + Math.max(inputTokens - indexed, 0);
    }

    long estimateOutputTokens(long inputTokens, OptionalLong clientLimit) {
        if (inputTokens <= 0) {
            return 0;
        }
        long estimate = Math.round(inputTokens * params.outputRatio());
        if (clientLimit.isPresent() && clientLimit.getAsLong() < estimate) {
            estimate = clientLimit.getAsLong();
        }
        OptionalLong operatorCap = params.outputCap();
        if (operatorCap.isPresent() && operatorCap.getAsLong() < estimate) {
            estimate = operatorCap.getAsLong();
        }
        return estimate;
    }

    /** The client's own output cap: chat {@code max_completion_tokens} then {@code max_tokens}, etc. */
    static OptionalLong clientOutputLimit(LlmRequest request) {
        var payload = request.body().payload();
        var apiType = request.body().apiType();
        if (payload.isEmpty() || apiType.isEmpty()) {
            return OptionalLong.empty();
        }
        List<String> fields = switch (apiType.get()) {
            case CHAT_COMPLETIONS -> List.of("max_completion_tokens", "max_tokens");
            case COMPLETIONS -> List.of("max_tokens");
            case RESPONSES -> List.of("max_output_tokens");
            case CONVERSATIONS, EMBEDDINGS -> List.of();
        };
        for (String field : fields) {
            JsonNode value = payload.get().get(field);
            if (value != null && value.isNumber() && value.asDouble() >= 0 && value.asDouble() == Math.rint(value.asDouble())) {
                return OptionalLong.of(value.asLong());
            }
        }
        return OptionalLong.empty();
    }

    /** Decrements with a floor at zero, so no release can drive a counter negative. */
    private static void decrementClamped(AtomicLong counter, long delta) {
        while (true) {
            long current = counter.get();
            if (current <= 0) {
                return;
            }
            long next = Math.max(current - delta, 0);
            if (counter.compareAndSet(current, next)) {
                return;
            }
        }
    }

    private static final class Counters {
        final AtomicLong requests = new AtomicLong();
        final AtomicLong tokens = new AtomicLong();

        InFlightLoad snapshot() {
            long t = tokens.get();
            long r = requests.get();
            return t == 0 && r == 0 ? InFlightLoad.IDLE : new InFlightLoad(t, r);
        }
    }

    /** What one request added to one endpoint's counters; each part is taken back at most once. */
    private static final class Charge {
        final String profile;
        final Counters counters;
        final AtomicLong tokens;
        final AtomicBoolean request = new AtomicBoolean(true);

        Charge(String profile, Counters counters, long tokens) {
            this.profile = profile;
            this.counters = counters;
            this.tokens = new AtomicLong(tokens);
        }

        void releaseTokens() {
            long held = tokens.getAndSet(0);
            if (held != 0) {
                decrementClamped(counters.tokens, held);
            }
        }

        void releaseAll() {
            releaseTokens();
            if (request.getAndSet(false)) {
                decrementClamped(counters.requests, 1);
            }
        }
    }

    private static final class Charges {
        final List<Charge> charges;
        final AtomicBoolean firstChunk = new AtomicBoolean();

        Charges(List<Charge> charges) {
            this.charges = charges;
        }

        void releaseAll() {
            charges.forEach(Charge::releaseAll);
        }
    }

    /**
     * Parameters (llm-d; GIE v1.5.0 has none).
     *
     * @param addEstimatedOutputTokens    also charge estimated output tokens, released at end of stream (false)
     * @param outputRatio                 output tokens per input token for the estimate, >= 0 (1.5)
     * @param maxEstimatedOutputTokens    cap on the output estimate, >= 0 (none: null; see {@link #outputCap()})
     * @param prefixMatchInfoProducerName the prefix producer whose match info discounts cached tokens
     *                                    (empty = {@code approx-prefix-cache-producer})
     * @param syncCrossReplicaState       accepted for llm-d configurations; Lodestar has no cross-replica
     *                                    sync, so the load is always this replica's (true)
     */
    public record Params(Boolean addEstimatedOutputTokens, Double outputRatio, Long maxEstimatedOutputTokens,
                         String prefixMatchInfoProducerName, Boolean syncCrossReplicaState) {
        public static final double DEFAULT_OUTPUT_RATIO = 1.5;
        public static final Params DEFAULTS = new Params(null, null, null, null, null);

        public Params {
            addEstimatedOutputTokens = addEstimatedOutputTokens != null && addEstimatedOutputTokens;
            outputRatio = outputRatio == null ? DEFAULT_OUTPUT_RATIO : outputRatio;
            prefixMatchInfoProducerName = prefixMatchInfoProducerName == null ? "" : prefixMatchInfoProducerName;
            syncCrossReplicaState = syncCrossReplicaState == null || syncCrossReplicaState;
            if (!(outputRatio >= 0) || outputRatio.isInfinite()) {
                throw new IllegalArgumentException("outputRatio must be a finite number >= 0, got " + outputRatio);
            }
            if (maxEstimatedOutputTokens != null && maxEstimatedOutputTokens < 0) {
                throw new IllegalArgumentException("maxEstimatedOutputTokens must be >= 0, got " + maxEstimatedOutputTokens);
            }
        }

        /** {@code maxEstimatedOutputTokens}, empty when not configured. */
        public OptionalLong outputCap() {
            return maxEstimatedOutputTokens == null ? OptionalLong.empty() : OptionalLong.of(maxEstimatedOutputTokens);
        }
    }
}
