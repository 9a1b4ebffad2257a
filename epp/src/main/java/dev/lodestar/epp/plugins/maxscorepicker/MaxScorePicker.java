package dev.lodestar.epp.plugins.maxscorepicker;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Picker;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.ScoredEndpoint;
import dev.lodestar.epp.plugins.randompicker.RandomPicker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Picks the {@code maxNumOfEndpoints} highest-scored endpoints, highest first. Endpoints with equal
 * scores are ordered randomly (shuffle, then a stable sort by score).
 */
public final class MaxScorePicker implements Picker {
    public static final String TYPE = "max-score-picker";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new MaxScorePicker(name, PluginParameters.decode(name, parameters, Params.class).maxNumOfEndpoints(),
                    ThreadLocalRandom::current);

    private static final Comparator<ScoredEndpoint> HIGHEST_SCORE_FIRST =
            Comparator.comparingDouble(ScoredEndpoint::score).reversed();

    /**
     * @param maxNumOfEndpoints how many endpoints to return (the first is the target, the rest fallbacks);
     *                          default 1, and like upstream a value below 1 also means 1
     */
    public record Params(Integer maxNumOfEndpoints) {
        public static final int DEFAULT_MAX_NUM_OF_ENDPOINTS = 1;

        public Params {
            if (maxNumOfEndpoints == null || maxNumOfEndpoints < 1) {
                maxNumOfEndpoints = DEFAULT_MAX_NUM_OF_ENDPOINTS;
            }
        }
    }

    private final TypedName typedName;
    private final int maxNumOfEndpoints;
    private final Supplier<RandomGenerator> random;

    /**
     * @param random the source of randomness per call ({@code ThreadLocalRandom::current} in production,
     *               a seeded generator in tests)
     */
    public MaxScorePicker(String name, int maxNumOfEndpoints, Supplier<RandomGenerator> random) {
        this.typedName = new TypedName(TYPE, name);
        this.maxNumOfEndpoints = new Params(maxNumOfEndpoints).maxNumOfEndpoints();
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public int maxNumOfEndpoints() {
        return maxNumOfEndpoints;
    }

    @Override
    public ProfileRunResult pick(CycleState state, List<ScoredEndpoint> scored) {
        if (maxNumOfEndpoints == 1) {
            return pickOne(scored, random.get());
        }
        List<ScoredEndpoint> ordered = RandomPicker.shuffled(scored, random.get());
        ordered.sort(HIGHEST_SCORE_FIRST); // List.sort is stable, so shuffled ties stay random
        int count = Math.min(maxNumOfEndpoints, ordered.size());
        List<Endpoint> targets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            targets.add(ordered.get(i).endpoint());
        }
        return new ProfileRunResult(targets);
    }

    /**
     * The same distribution as shuffle, stable sort and take one, in one pass: the highest score, each tie
     * replacing the kept one with probability 1/(ties so far), so every tied endpoint is equally likely.
     */
    private static ProfileRunResult pickOne(List<ScoredEndpoint> scored, RandomGenerator random) {
        ScoredEndpoint best = null;
        int ties = 0;
        for (ScoredEndpoint candidate : scored) {
            int order = best == null ? 1 : Double.compare(candidate.score(), best.score());
            if (order > 0) {
                best = candidate;
                ties = 1;
            } else if (order == 0 && random.nextInt(++ties) == 0) {
                best = candidate;
            }
        }
        return new ProfileRunResult(best == null ? List.of() : List.of(best.endpoint()));
    }
}
