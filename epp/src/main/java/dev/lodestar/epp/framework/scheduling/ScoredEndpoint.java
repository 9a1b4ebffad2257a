package dev.lodestar.epp.framework.scheduling;

/** An endpoint with its weighted total score in one profile. */
public record ScoredEndpoint(Endpoint endpoint, double score) {
}
