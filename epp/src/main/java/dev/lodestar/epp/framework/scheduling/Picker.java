package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.plugin.Plugin;

import java.util.List;

/** Chooses the target endpoint(s) among scored endpoints; exactly one per profile. */
public interface Picker extends Plugin {
    ProfileRunResult pick(CycleState state, List<ScoredEndpoint> scored);
}
