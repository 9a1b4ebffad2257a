package dev.lodestar.epp.plugins.utilizationdetector;

import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.GoDuration;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Filter;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Saturation from scraped metrics, and a filter that protects single endpoints.
 *
 * <p>An endpoint's saturation is its most constrained resource, max(queue / {@code queueDepthThreshold},
 * kvCacheUsage / {@code kvCacheUtilThreshold}); an endpoint whose metrics are older than
 * {@code metricsStalenessThreshold} (or that was never scraped) counts as 1.0. The pool's saturation is
 * the unweighted average over the candidates, 1.0 when there are none.
 *
 * <p>As a filter (only when a profile names it) it keeps endpoints with fresh metrics whose queue and KV
 * use are below threshold x (1 + {@code headroom}); when that would keep nothing it returns every
 * candidate, so routing degrades to the scorers' least-bad choice instead of failing.
 */
public final class UtilizationDetector implements SaturationDetector, Filter {
    public static final String TYPE = "utilization-detector";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new UtilizationDetector(name, PluginParameters.decode(name, parameters, Params.class), Clock.systemUTC());

    /**
     * @param queueDepthThreshold       ideal waiting-queue length of one endpoint, &gt; 0 (default 5)
     * @param kvCacheUtilThreshold      ideal KV-cache use, in (0, 1] (default 0.8)
     * @param metricsStalenessThreshold Go duration after which metrics are stale, &gt; 0 (default {@code 200ms})
     * @param headroom                  burst allowance of the filter above the thresholds, &gt;= 0 (default 0)
     */
    public record Params(Integer queueDepthThreshold, Double kvCacheUtilThreshold, String metricsStalenessThreshold,
                         Double headroom) {
        public static final int DEFAULT_QUEUE_DEPTH_THRESHOLD = 5;
        public static final double DEFAULT_KV_CACHE_UTIL_THRESHOLD = 0.8;
        public static final String DEFAULT_METRICS_STALENESS_THRESHOLD = "200ms";
        public static final double DEFAULT_HEADROOM = 0.0;

        public Params {
            queueDepthThreshold = queueDepthThreshold == null ? DEFAULT_QUEUE_DEPTH_THRESHOLD : queueDepthThreshold;
            kvCacheUtilThreshold = kvCacheUtilThreshold == null ? DEFAULT_KV_CACHE_UTIL_THRESHOLD : kvCacheUtilThreshold;
            metricsStalenessThreshold = metricsStalenessThreshold == null
                    ? DEFAULT_METRICS_STALENESS_THRESHOLD : metricsStalenessThreshold;
            headroom = headroom == null ? DEFAULT_HEADROOM : headroom;
            List<String> errors = new ArrayList<>();
            if (queueDepthThreshold <= 0) {
                errors.add("queueDepthThreshold must be strictly positive, got " + queueDepthThreshold);
            }
            if (!(kvCacheUtilThreshold > 0.0 && kvCacheUtilThreshold <= 1.0)) {
                errors.add("kvCacheUtilThreshold must be in (0.0, 1.0], got " + kvCacheUtilThreshold);
            }
            try {
                Duration staleness = GoDuration.parse(metricsStalenessThreshold);
                if (staleness.isNegative() || staleness.isZero()) {
                    errors.add("metricsStalenessThreshold must be strictly positive, got " + metricsStalenessThreshold);
                }
            } catch (IllegalArgumentException e) {
                errors.add("metricsStalenessThreshold: " + e.getMessage());
            }
            if (!(headroom >= 0.0) || headroom.isInfinite()) {
                errors.add("headroom must be a non-negative value, got " + headroom);
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid utilization detector configuration: "
                        + String.join("; ", errors));
            }
        }

        public Duration metricsStaleness() {
            return GoDuration.parse(metricsStalenessThreshold);
        }
    }

    private static final System.Logger LOG = System.getLogger(UtilizationDetector.class.getName());

    private final TypedName typedName;
    private final int queueDepthThreshold;
    private final double kvCacheUtilThreshold;
    private final Duration staleness;
    private final double queueLimit;
    private final double kvCacheLimit;
    private final Clock clock;

    /**
     * @param clock tells the time the metrics' age is measured against
     */
    public UtilizationDetector(String name, Params params, Clock clock) {
        this.typedName = new TypedName(TYPE, name);
        this.queueDepthThreshold = params.queueDepthThreshold();
        this.kvCacheUtilThreshold = params.kvCacheUtilThreshold();
        this.staleness = params.metricsStaleness();
        this.queueLimit = queueDepthThreshold * (1.0 + params.headroom());
        this.kvCacheLimit = kvCacheUtilThreshold * (1.0 + params.headroom());
        this.clock = Objects.requireNonNull(clock, "clock");
        if (params.headroom() > 1.0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: headroom {1} is unusually high; it is a fraction (0.2 = 20%)",
                    typedName, params.headroom());
        }
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public double saturation(List<Endpoint> endpoints) {
        if (endpoints.isEmpty()) {
            return 1.0;
        }
        Instant now = clock.instant();
        double total = 0;
        for (Endpoint endpoint : endpoints) {
            EndpointMetrics metrics = endpoint.metrics();
            if (stale(metrics, now)) {
                total += 1.0;
            } else {
                total += Math.max((double) metrics.waitingQueueSize() / queueDepthThreshold,
                        metrics.kvCacheUsagePercent() / kvCacheUtilThreshold);
            }
        }
        return total / endpoints.size();
    }

    @Override
    public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
        Instant now = clock.instant();
        List<Endpoint> kept = new ArrayList<>(endpoints.size());
        for (Endpoint endpoint : endpoints) {
            EndpointMetrics metrics = endpoint.metrics();
            if (!stale(metrics, now) && metrics.waitingQueueSize() < queueLimit
                    && metrics.kvCacheUsagePercent() < kvCacheLimit) {
                kept.add(endpoint);
            }
        }
        return kept.isEmpty() ? endpoints : kept;
    }

    private boolean stale(EndpointMetrics metrics, Instant now) {
        return Duration.between(metrics.updateTime(), now).compareTo(staleness) > 0;
    }
}
