package dev.lodestar.epp.framework.scheduling;

/** What a scorer optimises for, as GIE classifies scorers. */
public enum ScorerCategory {
    /** Prefers endpoints that already hold something useful (cache, adapter). */
    AFFINITY,
    /** Spreads load. */
    DISTRIBUTION,
    /** Balances the two. */
    BALANCE
}
