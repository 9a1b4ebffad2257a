package dev.lodestar.epp.plugins.attributes;

import dev.lodestar.epp.framework.datalayer.AttributeKey;

import java.util.concurrent.ConcurrentHashMap;

/**
 * An endpoint's load as the EPP itself tracks it (upstream {@code InFlightLoad}): requests it sent there
 * that have not completed, and their estimated uncached prompt tokens not yet prefilled.
 *
 * @param tokens   estimated tokens in flight
 * @param requests requests in flight
 */
public record InFlightLoad(long tokens, long requests) {
    /** The producer a consumer reads when its configuration names none. */
    public static final String DEFAULT_PRODUCER = "inflight-load-producer";
    public static final InFlightLoad IDLE = new InFlightLoad(0, 0);

    private static final String DATA_TYPE = "InFlightLoadDataKey";
    private static final ConcurrentHashMap<String, AttributeKey<InFlightLoad>> KEYS = new ConcurrentHashMap<>();

    /** The key producer {@code producerName} writes under; an empty name means {@link #DEFAULT_PRODUCER}. */
    public static AttributeKey<InFlightLoad> key(String producerName) {
        String producer = producerName == null || producerName.isEmpty() ? DEFAULT_PRODUCER : producerName;
        return KEYS.computeIfAbsent(producer, name -> AttributeKey.of(DATA_TYPE + "/" + name, InFlightLoad.class));
    }
}
