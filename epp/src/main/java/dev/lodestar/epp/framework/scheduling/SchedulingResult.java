package dev.lodestar.epp.framework.scheduling;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of scheduling a request: every profile's result, and the primary profile whose targets
 * become {@code x-gateway-destination-endpoint}.
 */
public record SchedulingResult(Map<String, ProfileRunResult> profileResults, String primaryProfileName) {
    public SchedulingResult {
        profileResults = Map.copyOf(profileResults);
        Objects.requireNonNull(primaryProfileName, "primaryProfileName");
        if (!profileResults.containsKey(primaryProfileName)) {
            throw new IllegalArgumentException("primary profile '" + primaryProfileName + "' has no result");
        }
    }

    public ProfileRunResult primary() {
        return profileResults.get(primaryProfileName);
    }
}
