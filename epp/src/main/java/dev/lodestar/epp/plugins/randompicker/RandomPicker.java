package dev.lodestar.epp.plugins.randompicker;

import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.Picker;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.ScoredEndpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/** Picks {@code maxNumOfEndpoints} endpoints uniformly at random, ignoring scores. */
public final class RandomPicker implements Picker {
    public static final String TYPE = "random-picker";
    public static final PluginFactory FACTORY = (name, parameters, handle) ->
            new RandomPicker(name, PluginParameters.decode(name, parameters, Params.class).maxNumOfEndpoints(),
                    ThreadLocalRandom::current);

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
    public RandomPicker(String name, int maxNumOfEndpoints, Supplier<RandomGenerator> random) {
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
        List<ScoredEndpoint> shuffled = shuffled(scored, random.get());
        int count = Math.min(maxNumOfEndpoints, shuffled.size());
        List<Endpoint> targets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            targets.add(shuffled.get(i).endpoint());
        }
        return new ProfileRunResult(targets);
    }

    /** A uniformly shuffled copy (Fisher-Yates); pickers shuffle before sorting so ties break randomly. */
    public static <T> List<T> shuffled(List<T> items, RandomGenerator random) {
        List<T> copy = new ArrayList<>(items);
        for (int i = copy.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            T swap = copy.get(i);
            copy.set(i, copy.get(j));
            copy.set(j, swap);
        }
        return copy;
    }
}
