package dev.lodestar.epp.plugins.weightedrandompicker;

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
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Picks {@code maxNumOfEndpoints} endpoints at random with probability proportional to their scores,
 * by weighted reservoir sampling (A-Res, Efraimidis and Spirakis): each endpoint with score w &gt; 0 gets
 * the key U^(1/w) for a uniform U in [0, 1), and the largest keys win. Endpoints scoring 0 get key 0 and
 * so come only after every positive-scored one. When no endpoint scores above 0, it picks uniformly like
 * {@code random-picker}.
 */
public final class WeightedRandomPicker implements Picker {
    public static final String TYPE = "weighted-random-picker";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new WeightedRandomPicker(name,
                    PluginParameters.decode(name, parameters, Params.class).maxNumOfEndpoints(),
                    ThreadLocalRandom::current);

    /** U = 0 would give every positive score the key 0; upstream substitutes this value. */
    private static final double SMALLEST_U = 1e-10;

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

    private record Keyed(Endpoint endpoint, double key) {
    }

    private final TypedName typedName;
    private final int maxNumOfEndpoints;
    private final Supplier<RandomGenerator> random;
    private final RandomPicker uniform;

    /**
     * @param random the source of randomness per call ({@code ThreadLocalRandom::current} in production,
     *               a seeded generator in tests)
     */
    public WeightedRandomPicker(String name, int maxNumOfEndpoints, Supplier<RandomGenerator> random) {
        this.typedName = new TypedName(TYPE, name);
        this.maxNumOfEndpoints = new Params(maxNumOfEndpoints).maxNumOfEndpoints();
        this.random = Objects.requireNonNull(random, "random");
        this.uniform = new RandomPicker(name, this.maxNumOfEndpoints, random);
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
        if (scored.stream().noneMatch(candidate -> candidate.score() > 0)) {
            return uniform.pick(state, scored);
        }
        RandomGenerator generator = random.get();
        List<Keyed> keyed = new ArrayList<>(scored.size());
        for (ScoredEndpoint candidate : scored) {
            if (candidate.score() > 0) {
                double u = generator.nextDouble();
                keyed.add(new Keyed(candidate.endpoint(), Math.pow(u == 0 ? SMALLEST_U : u, 1.0 / candidate.score())));
            } else {
                keyed.add(new Keyed(candidate.endpoint(), 0));
            }
        }
        keyed.sort((a, b) -> Double.compare(b.key(), a.key()));
        int count = Math.min(maxNumOfEndpoints, keyed.size());
        List<Endpoint> targets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            targets.add(keyed.get(i).endpoint());
        }
        return new ProfileRunResult(targets);
    }
}
