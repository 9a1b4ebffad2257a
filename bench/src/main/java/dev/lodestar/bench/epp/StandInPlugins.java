package dev.lodestar.bench.epp;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.Picker;
import dev.lodestar.epp.framework.scheduling.ProfileHandler;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.framework.scheduling.ScoredEndpoint;
import dev.lodestar.epp.framework.scheduling.Scorer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * STAND-INS for GIE's queue-scorer, kv-cache-utilization-scorer, max-score-picker and
 * single-profile-handler, used only by {@link SchedulingBenchmark} until the real plugins are on this
 * branch; swap them for the real ones then. Same formulas as upstream: queue (max - q) / (max - min)
 * (1.0 when all equal), KV 1 - usage, picker = highest score with ties broken at random (equivalent to
 * shuffle + stable sort + top 1), handler runs the single profile once.
 */
final class StandInPlugins {
    private StandInPlugins() {
    }

    static final class StandInQueueScorer implements Scorer {
        @Override
        public TypedName typedName() {
            return new TypedName("queue-scorer", "queue-scorer");
        }

        @Override
        public ScorerCategory category() {
            return ScorerCategory.DISTRIBUTION;
        }

        @Override
        public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
            int min = Integer.MAX_VALUE;
            int max = Integer.MIN_VALUE;
            for (Endpoint endpoint : endpoints) {
                int queue = endpoint.metrics().waitingQueueSize();
                min = Math.min(min, queue);
                max = Math.max(max, queue);
            }
            double[] scores = new double[endpoints.size()];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = max == min ? 1.0
                        : (double) (max - endpoints.get(i).metrics().waitingQueueSize()) / (max - min);
            }
            return scores;
        }
    }

    static final class StandInKvCacheUtilizationScorer implements Scorer {
        @Override
        public TypedName typedName() {
            return new TypedName("kv-cache-utilization-scorer", "kv-cache-utilization-scorer");
        }

        @Override
        public ScorerCategory category() {
            return ScorerCategory.DISTRIBUTION;
        }

        @Override
        public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
            double[] scores = new double[endpoints.size()];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = 1 - endpoints.get(i).metrics().kvCacheUsagePercent();
            }
            return scores;
        }
    }

    static final class StandInMaxScorePicker implements Picker {
        @Override
        public TypedName typedName() {
            return new TypedName("max-score-picker", "max-score-picker");
        }

        @Override
        public ProfileRunResult pick(CycleState state, List<ScoredEndpoint> scored) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            ScoredEndpoint best = null;
            int ties = 0;
            for (ScoredEndpoint candidate : scored) {
                if (best == null || candidate.score() > best.score()) {
                    best = candidate;
                    ties = 1;
                } else if (candidate.score() == best.score() && random.nextInt(++ties) == 0) {
                    best = candidate;
                }
            }
            return best == null ? ProfileRunResult.FAILED : new ProfileRunResult(List.of(best.endpoint()));
        }
    }

    static final class StandInSingleProfileHandler implements ProfileHandler {
        @Override
        public TypedName typedName() {
            return new TypedName("single-profile-handler", "single-profile-handler");
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
            Map.Entry<String, ProfileRunResult> only = results.entrySet().iterator().next();
            if (only.getValue().failed()) {
                throw new InferenceException(ErrorCode.SERVICE_UNAVAILABLE, "no endpoint passed the filters");
            }
            return new SchedulingResult(results, only.getKey());
        }
    }
}
