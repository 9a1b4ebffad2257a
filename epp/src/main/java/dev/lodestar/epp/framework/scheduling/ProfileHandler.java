package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.Plugin;

import java.util.Map;

/**
 * Decides which profiles run for a request and assembles their results. The scheduler calls
 * {@link #pick} repeatedly, running what it returns, until it returns no profile that has not run yet;
 * then {@link #processResults}.
 */
public interface ProfileHandler extends Plugin {
    /** Profiles to run next, given the results so far (a failed profile's result is {@link ProfileRunResult#FAILED}). */
    Map<String, SchedulerProfile> pick(CycleState state, LlmRequest request, Map<String, SchedulerProfile> profiles,
                                       Map<String, ProfileRunResult> results);

    /**
     * @throws InferenceException when the results do not allow routing the request
     */
    SchedulingResult processResults(CycleState state, LlmRequest request, Map<String, ProfileRunResult> results);
}
