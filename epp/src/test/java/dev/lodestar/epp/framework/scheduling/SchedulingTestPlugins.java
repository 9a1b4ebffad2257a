package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.TypedName;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Small plugins and endpoints for the scheduling framework's tests; each records what it was given. */
final class SchedulingTestPlugins {
    private SchedulingTestPlugins() {
    }

    static Endpoint endpoint(String pod, int queue, double kvCacheUsage) {
        String ip = "10.0.0." + (pod.hashCode() & 0x7f);
        return new Endpoint(new EndpointMetadata(EndpointKey.ofRank("default", pod, 0), pod, ip, 8000, ip + ":8000",
                Map.of()), EndpointMetrics.builder().waitingQueueSize(queue).kvCacheUsagePercent(kvCacheUsage).build());
    }

    static LlmRequest request(String requestId) {
        return new LlmRequest(requestId, "m", "m", LlmRequestBody.opaque(new byte[0]), Map.of(), 0, null, 0);
    }

    static List<String> pods(List<Endpoint> endpoints) {
        return endpoints.stream().map(e -> e.metadata().podName()).toList();
    }

    /** Keeps the endpoints matching a predicate and remembers what it saw. */
    static final class KeepFilter implements Filter {
        final String name;
        final Predicate<Endpoint> keep;
        final List<List<String>> seen = new ArrayList<>();

        KeepFilter(String name, Predicate<Endpoint> keep) {
            this.name = name;
            this.keep = keep;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("keep-filter", name);
        }

        @Override
        public List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
            seen.add(pods(endpoints));
            return endpoints.stream().filter(keep).toList();
        }
    }

    /** Returns fixed scores in endpoint order. */
    static final class FixedScorer implements Scorer {
        final String name;
        final double[] scores;
        final List<List<String>> seen = new ArrayList<>();

        FixedScorer(String name, double... scores) {
            this.name = name;
            this.scores = scores;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("fixed-scorer", name);
        }

        @Override
        public ScorerCategory category() {
            return ScorerCategory.BALANCE;
        }

        @Override
        public double[] score(CycleState state, LlmRequest request, List<Endpoint> endpoints) {
            seen.add(pods(endpoints));
            return scores.clone();
        }
    }

    /** Picks the first scored endpoint and remembers the scores it was given. */
    static final class FirstPicker implements Picker {
        final String name;
        final List<List<ScoredEndpoint>> seen = new ArrayList<>();

        FirstPicker(String name) {
            this.name = name;
        }

        @Override
        public TypedName typedName() {
            return new TypedName("first-picker", name);
        }

        @Override
        public ProfileRunResult pick(CycleState state, List<ScoredEndpoint> scored) {
            seen.add(List.copyOf(scored));
            return new ProfileRunResult(List.of(scored.getFirst().endpoint()));
        }
    }
}
