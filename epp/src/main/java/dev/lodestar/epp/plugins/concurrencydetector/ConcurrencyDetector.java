package dev.lodestar.epp.plugins.concurrencydetector;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.ResponseBodyPlugin;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Saturation from the work the EPP itself has in flight, and a filter that caps it per endpoint.
 *
 * <p>It counts a request on its primary target when the request is sent ({@link PreRequestPlugin}) and
 * releases it at the end of the response ({@link ResponseBodyPlugin}, {@code endOfStream}), exactly once
 * per request id. In {@code requests} mode the load is the number of requests, in {@code tokens} mode
 * their estimated tokens ({@link TokenEstimate}). Pool saturation = sum of in-flight load / sum of
 * capacity over the candidates ({@code maxConcurrency} or {@code maxTokenConcurrency} each; 1.0 with no
 * candidates). As a filter it keeps endpoints whose load is below capacity x (1 + {@code headroom}),
 * and, unlike {@code utilization-detector}, may keep none.
 *
 * <p>Counters are lock-free. A request released after its endpoint was {@link #forget forgotten} is
 * released from the counter it was counted on, so a returning endpoint starts from zero. Two requests in
 * flight at once with the same request id are counted once.
 */
public final class ConcurrencyDetector implements SaturationDetector, Filter, PreRequestPlugin, ResponseBodyPlugin {
    public static final String TYPE = "concurrency-detector";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new ConcurrencyDetector(name, PluginParameters.decode(name, parameters, Params.class));

    /** What the detector counts. */
    public enum Mode {
        REQUESTS, TOKENS;

        /** The name used in configuration. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param concurrencyMode     {@code requests} (default) or {@code tokens}
     * @param maxConcurrency      ideal requests in flight per endpoint, &gt; 0 (default 100)
     * @param maxTokenConcurrency ideal estimated tokens in flight per endpoint, &gt; 0 (default 1000000)
     * @param headroom            burst allowance of the filter above capacity, &gt;= 0 (default 0)
     */
    public record Params(String concurrencyMode, Long maxConcurrency, Long maxTokenConcurrency, Double headroom) {
        public static final String DEFAULT_CONCURRENCY_MODE = "requests";
        public static final long DEFAULT_MAX_CONCURRENCY = 100;
        public static final long DEFAULT_MAX_TOKEN_CONCURRENCY = 1_000_000;
        public static final double DEFAULT_HEADROOM = 0.0;

        public Params {
            concurrencyMode = concurrencyMode == null ? DEFAULT_CONCURRENCY_MODE : concurrencyMode;
            maxConcurrency = maxConcurrency == null ? DEFAULT_MAX_CONCURRENCY : maxConcurrency;
            maxTokenConcurrency = maxTokenConcurrency == null ? DEFAULT_MAX_TOKEN_CONCURRENCY : maxTokenConcurrency;
            headroom = headroom == null ? DEFAULT_HEADROOM : headroom;
            List<String> errors = new ArrayList<>();
            if (maxConcurrency <= 0) {
                errors.add("maxConcurrency must be strictly positive, got " + maxConcurrency);
            }
            if (!(headroom >= 0.0) || headroom.isInfinite()) {
                errors.add("headroom must be a non-negative value, got " + headroom);
            }
            if (maxTokenConcurrency <= 0) {
                errors.add("maxTokenConcurrency must be strictly positive, got " + maxTokenConcurrency);
            }
            if (!concurrencyMode.equals("requests") && !concurrencyMode.equals("tokens")) {
                errors.add("unsupported concurrencyMode: \"" + concurrencyMode + "\" (requests or tokens)");
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid concurrency detector configuration: "
                        + String.join("; ", errors));
            }
        }

        public Mode mode() {
            return Mode.valueOf(concurrencyMode.toUpperCase(Locale.ROOT));
        }
    }

    /** Work in flight on one endpoint. */
    private static final class Load {
        final LongAdder requests = new LongAdder();
        final LongAdder tokens = new LongAdder();
    }

    /** What one request added, so that releasing it removes exactly that. */
    private record Counted(Load load, long tokens) {
    }

    /** A snapshot of one endpoint's in-flight work. */
    public record InFlight(long requests, long tokens) {
        public static final InFlight NONE = new InFlight(0, 0);
    }

    private static final System.Logger LOG = System.getLogger(ConcurrencyDetector.class.getName());

    private final TypedName typedName;
    private final Mode mode;
    private final long capacity;
    private final long limit;
    private final ConcurrentHashMap<EndpointKey, Load> loads = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counted> requests = new ConcurrentHashMap<>();

    public ConcurrencyDetector(String name, Params params) {
        this.typedName = new TypedName(TYPE, name);
        this.mode = params.mode();
        this.capacity = mode == Mode.TOKENS ? params.maxTokenConcurrency() : params.maxConcurrency();
        this.limit = (long) (capacity * (1.0 + params.headroom()));
        if (params.headroom() > 1.0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: headroom {1} is unusually high; it is a fraction (0.2 = 20%)",
                    typedName, params.headroom());
        }
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public Mode mode() {
        return mode;
    }

    /** The in-flight work counted on {@code endpoint} now. */
    public InFlight inFlight(EndpointKey endpoint) {
        Load load = loads.get(endpoint);
        return load == null ? InFlight.NONE : new InFlight(load.requests.sum(), load.tokens.sum());
    }

    /** Drops the counters of an endpoint that left the pool. */
    public void forget(EndpointKey endpoint) {
        loads.remove(endpoint);
    }

    @Override
    public double saturation(List<Endpoint> endpoints) {
        long inFlight = 0;
        long totalCapacity = 0;
        for (Endpoint endpoint : endpoints) {
            inFlight += load(endpoint.metadata().key());
            totalCapacity += capacity;
        }
        return totalCapacity == 0 ? 1.0 : (double) inFlight / totalCapacity;
    }

    @Override
    public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        List<Endpoint> kept = new ArrayList<>(endpoints.size());
        for (Endpoint endpoint : endpoints) {
            if (load(endpoint.metadata().key()) < limit) {
                kept.add(endpoint);
            }
        }
        return kept;
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        ProfileRunResult primary = result.primary();
        if (primary.failed()) {
            return;
        }
        EndpointKey target = primary.targetEndpoints().getFirst().metadata().key();
        long tokens = TokenEstimate.of(request);
        Load load = loads.computeIfAbsent(target, key -> new Load());
        if (requests.putIfAbsent(request.requestId(), new Counted(load, tokens)) == null) {
            load.requests.increment();
            load.tokens.add(tokens);
        }
    }

    @Override
    public void responseBody(LlmRequest request, Response response, EndpointMetadata target) {
        if (!response.endOfStream()) {
            return;
        }
        Counted counted = requests.remove(request.requestId());
        if (counted != null) {
            counted.load().requests.decrement();
            counted.load().tokens.add(-counted.tokens());
        }
    }

    private long load(EndpointKey endpoint) {
        Load load = loads.get(endpoint);
        if (load == null) {
            return 0;
        }
        return mode == Mode.TOKENS ? load.tokens.sum() : load.requests.sum();
    }
}
