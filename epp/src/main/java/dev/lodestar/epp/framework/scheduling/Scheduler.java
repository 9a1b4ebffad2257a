package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a request through the configured profiles: asks the profile handler which profiles to run until
 * it has no new one, then lets it assemble the result.
 */
public final class Scheduler {
    private final ProfileHandler profileHandler;
    private final Map<String, SchedulerProfile> profiles;
    private final PluginTimer timer;

    public Scheduler(ProfileHandler profileHandler, Map<String, SchedulerProfile> profiles, PluginTimer timer) {
        this.profileHandler = Objects.requireNonNull(profileHandler, "profileHandler");
        this.profiles = Map.copyOf(profiles);
        this.timer = Objects.requireNonNull(timer, "timer");
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("a scheduler needs at least one profile");
        }
    }

    public ProfileHandler profileHandler() {
        return profileHandler;
    }

    public Map<String, SchedulerProfile> profiles() {
        return profiles;
    }

    /**
     * @throws InferenceException when no endpoint can take the request, or the handler ran no profile
     */
    public SchedulingResult schedule(LlmRequest request, List<Endpoint> candidates) {
        if (candidates.isEmpty()) {
            throw new InferenceException(ErrorCode.SERVICE_UNAVAILABLE,
                    "failed to find endpoint candidates for serving the request");
        }
        CycleState state = new CycleState();
        Map<String, ProfileRunResult> results = new LinkedHashMap<>();
        while (true) {
            long start = System.nanoTime();
            Map<String, SchedulerProfile> next = profileHandler.pick(state, request, profiles, results);
            timer.record("ProfilePicker", profileHandler.typedName(), System.nanoTime() - start);
            boolean ranAny = false;
            for (Map.Entry<String, SchedulerProfile> entry : next.entrySet()) {
                if (results.containsKey(entry.getKey())) {
                    continue;
                }
                results.put(entry.getKey(), entry.getValue().run(state, request, candidates, timer));
                ranAny = true;
            }
            if (!ranAny) {
                break;
            }
        }
        if (results.isEmpty()) {
            // The director turns this into upstream's "failed to find target endpoint: ..." (429).
            throw new InferenceException(ErrorCode.INTERNAL,
                    "failed to run any scheduler profile for request " + request.requestId());
        }
        long start = System.nanoTime();
        SchedulingResult result = profileHandler.processResults(state, request, results);
        timer.record("ProcessProfilesResults", profileHandler.typedName(), System.nanoTime() - start);
        return result;
    }
}
