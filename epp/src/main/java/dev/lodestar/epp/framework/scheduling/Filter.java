package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.plugin.Plugin;

import java.util.List;

/** Keeps the endpoints a request may go to. Filters of a profile run in order. */
public interface Filter extends Plugin {
    /** The endpoints to keep; an empty result fails the profile. Must not modify {@code endpoints}. */
    List<Endpoint> filter(CycleState state, LlmRequest request, List<Endpoint> endpoints);
}
