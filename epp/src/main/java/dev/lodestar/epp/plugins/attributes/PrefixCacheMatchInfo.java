package dev.lodestar.epp.plugins.attributes;

import dev.lodestar.epp.framework.datalayer.AttributeKey;

import java.util.concurrent.ConcurrentHashMap;

/**
 * How much of a request's prefix an endpoint probably holds in its KV cache, per request and endpoint
 * (upstream {@code PrefixCacheMatchInfo}).
 *
 * @param matchBlocks     blocks of the request found on the endpoint
 * @param totalBlocks     blocks the request was split into (0 when it is shorter than one block)
 * @param blockSizeTokens tokens per block used for this request
 */
public record PrefixCacheMatchInfo(int matchBlocks, int totalBlocks, int blockSizeTokens) {
    /** The producer a consumer reads when its configuration names none. */
    public static final String DEFAULT_PRODUCER = "approx-prefix-cache-producer";

    private static final String DATA_TYPE = "PrefixCacheMatchInfoDataKey";
    private static final ConcurrentHashMap<String, AttributeKey<PrefixCacheMatchInfo>> KEYS = new ConcurrentHashMap<>();

    public PrefixCacheMatchInfo {
        if (matchBlocks < 0 || totalBlocks < 0 || blockSizeTokens < 0) {
            throw new IllegalArgumentException("prefix match counts must be >= 0");
        }
    }

    /**
     * The key producer {@code producerName} writes under ({@code PrefixCacheMatchInfoDataKey/<producer>}, as
     * llm-d qualifies data keys by producer so several producers can coexist); an empty name means
     * {@link #DEFAULT_PRODUCER}.
     */
    public static AttributeKey<PrefixCacheMatchInfo> key(String producerName) {
        String producer = producerName == null || producerName.isEmpty() ? DEFAULT_PRODUCER : producerName;
        return KEYS.computeIfAbsent(producer,
                name -> AttributeKey.of(DATA_TYPE + "/" + name, PrefixCacheMatchInfo.class));
    }

    /** matchBlocks / totalBlocks, 0 when the request has no block. */
    public double matchRatio() {
        return totalBlocks == 0 ? 0 : (double) matchBlocks / totalBlocks;
    }
}
