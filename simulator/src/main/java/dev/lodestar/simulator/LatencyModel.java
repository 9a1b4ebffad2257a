package dev.lodestar.simulator;

import java.util.SplittableRandom;

/**
 * How long prefill and each decode step take, with llm-d-inference-sim's formulas.
 *
 * <ul>
 *   <li>Load factor with {@code n} running requests (the request itself included):
 *       {@code 1 + (time-factor-under-load - 1) * (n - 1) / (max-num-seqs - 1)}, 1 when max-num-seqs is 1.</li>
 *   <li>Prefill, {@code per-token} calculator:
 *       {@code (prefill-overhead + (prompt - cached) * prefill-time-per-token) * factor}; cached tokens cost
 *       nothing.</li>
 *   <li>Prefill, {@code constant} calculator: {@code time-to-first-token * factor}.</li>
 *   <li>Calculator unset: constant when time-to-first-token (or its std-dev) is set, else per-token.</li>
 *   <li>Each further token: {@code inter-token-latency * factor}.</li>
 * </ul>
 * With a std-dev set, a value is drawn from a normal distribution around the mean and clamped to
 * +-70% of it (the std-dev itself is capped at 30% of the mean). Queueing time comes on top of prefill:
 * the engine starts the clock when it admits the request.
 */
final class LatencyModel {
    private final LatencyCalculator calculator;
    private final long timeToFirstToken;
    private final long timeToFirstTokenStdDev;
    private final long prefillOverhead;
    private final long prefillTimePerToken;
    private final long prefillTimeStdDev;
    private final long interTokenLatency;
    private final long interTokenLatencyStdDev;
    private final double timeFactorUnderLoad;
    private final int maxNumSeqs;

    LatencyModel(SimulatorConfig config) {
        this.timeToFirstToken = config.timeToFirstToken().toNanos();
        this.timeToFirstTokenStdDev = config.timeToFirstTokenStdDev().toNanos();
        this.prefillOverhead = config.prefillOverhead().toNanos();
        this.prefillTimePerToken = config.prefillTimePerToken().toNanos();
        this.prefillTimeStdDev = config.prefillTimeStdDev().toNanos();
        this.interTokenLatency = config.interTokenLatency().toNanos();
        this.interTokenLatencyStdDev = config.interTokenLatencyStdDev().toNanos();
        this.timeFactorUnderLoad = config.timeFactorUnderLoad();
        this.maxNumSeqs = config.maxNumSeqs();
        this.calculator = switch (config.latencyCalculator()) {
            case CONSTANT, PER_TOKEN -> config.latencyCalculator();
            case DEFAULT -> timeToFirstToken != 0 || timeToFirstTokenStdDev != 0
                    ? LatencyCalculator.CONSTANT
                    : LatencyCalculator.PER_TOKEN;
        };
    }

    double loadFactor(int runningRequests) {
        if (maxNumSeqs <= 1) {
            return 1.0;
        }
        int others = Math.max(0, runningRequests - 1);
        return 1 + (timeFactorUnderLoad - 1) * others / (maxNumSeqs - 1);
    }

    /** Mean prefill time (time to first token after admission), without jitter. */
    long meanPrefillNanos(int promptTokens, int cachedTokens, int runningRequests) {
        double factor = loadFactor(runningRequests);
        if (calculator == LatencyCalculator.CONSTANT) {
            return Math.round(timeToFirstToken * factor);
        }
        long uncached = Math.max(0, promptTokens - cachedTokens);
        return Math.round((prefillOverhead + uncached * prefillTimePerToken) * factor);
    }

    long prefillNanos(int promptTokens, int cachedTokens, int runningRequests, SplittableRandom random) {
        long mean = meanPrefillNanos(promptTokens, cachedTokens, runningRequests);
        long stdDev = calculator == LatencyCalculator.CONSTANT ? timeToFirstTokenStdDev : prefillTimeStdDev;
        return jitter(mean, stdDev, random);
    }

    /**
     * Engine time of a decode whose prompt KV was pulled from a remote prefill, on top of the measured
     * transfer: per-token, the prefill overhead (the step that runs the prompt's last token); constant,
     * nothing, since time-to-first-token stands for a whole prefill (llm-d-inference-sim replaces it with
     * the transfer time too).
     */
    long remotePrefillNanos(int runningRequests, SplittableRandom random) {
        if (calculator == LatencyCalculator.CONSTANT) {
            return 0;
        }
        return jitter(Math.round(prefillOverhead * loadFactor(runningRequests)), prefillTimeStdDev, random);
    }

    long meanInterTokenNanos(int runningRequests) {
        return Math.round(interTokenLatency * loadFactor(runningRequests));
    }

    long interTokenNanos(int runningRequests, SplittableRandom random) {
        return jitter(meanInterTokenNanos(runningRequests), interTokenLatencyStdDev, random);
    }

    static long jitter(long mean, long stdDev, SplittableRandom random) {
        if (stdDev <= 0 || mean <= 0) {
            return mean;
        }
        double sigma = Math.min(stdDev, 0.3 * mean);
        double value = mean + random.nextGaussian() * sigma;
        double low = 0.3 * mean;
        double high = 1.7 * mean;
        return Math.round(Math.max(low, Math.min(high, value)));
    }

    /** Which prefill formula to use ({@code --latency-calculator}). */
    enum LatencyCalculator {
        DEFAULT(""),
        CONSTANT("constant"),
        PER_TOKEN("per-token");

        private final String flagValue;

        LatencyCalculator(String flagValue) {
            this.flagValue = flagValue;
        }

        String flagValue() {
            return flagValue;
        }

        static LatencyCalculator parse(String value) {
            for (LatencyCalculator calculator : values()) {
                if (calculator.flagValue.equals(value.trim())) {
                    return calculator;
                }
            }
            throw new IllegalArgumentException(
                    "latency-calculator must be one of \"\", constant, per-token; got \"" + value + "\"");
        }
    }
}
