package dev.lodestar.epp.framework.scheduling;

import java.util.List;

/**
 * What one profile chose: the endpoints in preference order (the first is the target, the rest are
 * fallbacks). Empty when the profile failed (its filters left nothing).
 */
public record ProfileRunResult(List<Endpoint> targetEndpoints) {
    public static final ProfileRunResult FAILED = new ProfileRunResult(List.of());

    public ProfileRunResult {
        targetEndpoints = List.copyOf(targetEndpoints);
    }

    public boolean failed() {
        return targetEndpoints.isEmpty();
    }
}
