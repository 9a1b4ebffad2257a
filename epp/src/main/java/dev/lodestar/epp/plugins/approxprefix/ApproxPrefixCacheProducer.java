package dev.lodestar.epp.plugins.approxprefix;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.PreRequestPlugin;
import dev.lodestar.epp.framework.requestcontrol.PrepareDataPlugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import dev.lodestar.epp.prefix.BlockHashChain;
import dev.lodestar.epp.prefix.PrefixIndex;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@code approx-prefix-cache-producer} (GIE v1.5.0): before scheduling, hashes the request's prefix into
 * a block chain ({@link BlockHashChain}) and writes each candidate's {@link PrefixCacheMatchInfo} from the
 * {@link PrefixIndex}; after scheduling (PreRequest) queues the chain for the primary profile's target
 * and for the target of a profile named {@code prefill}, so the index learns what each server caches.
 *
 * <p>The block size is {@code blockSizeTokens}, or with {@code autoTune} the first candidate's
 * {@code CacheBlockSize} metric when it is above 0. A server's LRU holds its {@code CacheNumBlocks}
 * metric's worth of blocks (autoTune, when above 0) or {@code lruCapacityPerServer}, fixed when the
 * server is first recorded.
 */
public final class ApproxPrefixCacheProducer implements PrepareDataPlugin, PreRequestPlugin, AutoCloseable {
    public static final String TYPE = "approx-prefix-cache-producer";
    public static final PluginFactory FACTORY = ApproxPrefixCacheProducer::fromConfig;

    /** The profile whose target is recorded besides the primary one (P/D). */
    static final String PREFILL_PROFILE = "prefill";

    private static final System.Logger LOG = System.getLogger(ApproxPrefixCacheProducer.class.getName());

    private final TypedName typedName;
    private final Params params;
    private final PrefixIndex index;
    private final AttributeKey<PrefixCacheMatchInfo> key;
    private volatile MatchObserver observer = MatchObserver.NONE;

    private ApproxPrefixCacheProducer(String name, Params params, PrefixIndex index) {
        this.typedName = new TypedName(TYPE, name);
        this.params = params;
        this.index = index;
        this.key = PrefixCacheMatchInfo.key(name);
    }

    private static ApproxPrefixCacheProducer fromConfig(String name, JsonNode parameters, PluginHandle handle) {
        return create(name, PluginParameters.decode(name, parameters, Params.class), handle);
    }

    /**
     * A producer named {@code name}. Its index purges, every 2 minutes, servers that are no longer among
     * {@link PluginHandle#endpoints()}.
     */
    public static ApproxPrefixCacheProducer create(String name, Params params, PluginHandle handle) {
        Objects.requireNonNull(handle, "handle");
        PrefixIndex index = PrefixIndex.builder()
                .name(name)
                .activeServers(() -> handle.endpoints().stream().map(EndpointMetadata::key).toList())
                .build();
        return create(name, params, index);
    }

    /** A producer over an index the caller built (and closes through {@link #close()}). */
    public static ApproxPrefixCacheProducer create(String name, Params params, PrefixIndex index) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(params, "params");
        if (params.blockSize() > 0) {
            LOG.log(System.Logger.Level.WARNING, "plugin ''{0}'': blockSize is deprecated and ignored; "
                    + "set the block size in tokens with blockSizeTokens", name);
        }
        return new ApproxPrefixCacheProducer(name, params, Objects.requireNonNull(index, "index"));
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public Set<String> produces() {
        return Set.of(key.name());
    }

    public Params params() {
        return params;
    }

    /** Blocks (hash on server pairs) in the index. */
    public long indexedBlocks() {
        return index.blockCount();
    }

    PrefixIndex index() {
        return index;
    }

    /** Completes once every pick recorded before this call is in the index (for warm-ups and tests). */
    public CompletableFuture<Void> flush() {
        return index.flush();
    }

    /** Picks not recorded because the index writer's queue was full. */
    public long droppedUpdates() {
        return index.droppedUpdates();
    }

    /** Receives each recorded pick's match, for the {@code prefix_indexer_hit_*} metrics. */
    public void observeMatches(MatchObserver value) {
        observer = Objects.requireNonNull(value, "observer");
    }

    @Override
    public void prepareRequestData(LlmRequest request, List<Endpoint> endpoints) {
        int blockSize = blockSizeTokens(endpoints);
        long[] chain = chain(request, blockSize);
        PrefixIndex.Matches matches = index.match(chain);
        PrefixCacheMatchInfo miss = new PrefixCacheMatchInfo(0, chain.length, blockSize);
        for (Endpoint endpoint : endpoints) {
            int matched = matches.isEmpty() ? 0 : matches.blocks(endpoint.metadata().key());
            endpoint.putAttribute(key, matched == 0 ? miss : new PrefixCacheMatchInfo(matched, chain.length, blockSize));
        }
    }

    @Override
    public void preRequest(LlmRequest request, SchedulingResult result, Map<String, String> headersToSet) {
        ProfileRunResult primary = result.primary();
        if (primary.failed()) {
            return;
        }
        Endpoint target = primary.targetEndpoints().getFirst();
        Optional<PrefixCacheMatchInfo> match = target.attribute(key);
        if (match.isEmpty()) {
            return;
        }
        PrefixCacheMatchInfo info = match.get();
        // Recomputed rather than kept from PrepareData: nothing per request outlives a request that
        // never reaches PreRequest. The block size on the attribute makes it the same chain.
        long[] chain = chain(request, info.blockSizeTokens());
        index.record(target.metadata().key(), lruCapacity(target.metrics()), chain);
        ProfileRunResult prefill = result.profileResults().get(PREFILL_PROFILE);
        if (prefill != null && !prefill.failed()) {
            Endpoint prefillTarget = prefill.targetEndpoints().getFirst();
            index.record(prefillTarget.metadata().key(), lruCapacity(prefillTarget.metrics()), chain);
        }
        long bytesPerBlock = (long) info.blockSizeTokens() * BlockHashChain.CHARS_PER_TOKEN;
        observer.observe(info.matchBlocks() * bytesPerBlock, info.totalBlocks() * bytesPerBlock);
    }

    /** Stops the index's writer thread. */
    @Override
    public void close() {
        index.close();
    }

    int blockSizeTokens(List<Endpoint> endpoints) {
        if (params.autoTune() && !endpoints.isEmpty()) {
            int fromMetrics = endpoints.getFirst().metrics().cacheBlockSize();
            if (fromMetrics > 0) {
                return fromMetrics;
            }
        }
        return params.blockSizeTokens();
    }

    int maxBlocks(int blockSizeTokens) {
        if (params.maxPrefixTokensToMatch() > 0 && blockSizeTokens > 0) {
            return params.maxPrefixTokensToMatch() / blockSizeTokens;
        }
        return params.maxPrefixBlocksToMatch();
    }

    int lruCapacity(EndpointMetrics metrics) {
        if (params.autoTune() && metrics.cacheNumBlocks() > 0) {
            return metrics.cacheNumBlocks();
        }
        return params.lruCapacityPerServer();
    }

    private long[] chain(LlmRequest request, int blockSizeTokens) {
        return BlockHashChain.compute(request.targetModel(), request.body().cacheSalt(),
                request.body().prefixHashInput(), blockSizeTokens, maxBlocks(blockSizeTokens));
    }

    /** Receives the estimated prefix bytes matched on the picked endpoint and the request's total. */
    @FunctionalInterface
    public interface MatchObserver {
        MatchObserver NONE = (matchedBytes, totalBytes) -> {
        };

        void observe(long matchedBytes, long totalBytes);
    }

    /**
     * Parameters, with upstream's names and defaults. A value of 0 for {@code lruCapacityPerServer}
     * means the default (as an unset field does upstream).
     *
     * @param autoTune               take the block size and LRU capacity from endpoint metrics (true)
     * @param blockSizeTokens        block size in tokens (16)
     * @param blockSize              deprecated block size in characters; ignored, and an error when
     *                               {@code blockSizeTokens} is 0 or less
     * @param maxPrefixBlocksToMatch at most this many blocks are hashed (256)
     * @param maxPrefixTokensToMatch when above 0, the cap is {@code maxPrefixTokensToMatch / blockSize}
     *                               instead (0)
     * @param lruCapacityPerServer   blocks per server when the metrics give none (31250)
     */
    public record Params(Boolean autoTune, Integer blockSizeTokens, Integer blockSize, Integer maxPrefixBlocksToMatch,
                         Integer maxPrefixTokensToMatch, Integer lruCapacityPerServer) {
        public static final int DEFAULT_BLOCK_SIZE_TOKENS = 16;
        public static final int DEFAULT_MAX_PREFIX_BLOCKS = 256;
        public static final int DEFAULT_LRU_CAPACITY_PER_SERVER = 31250;
        public static final Params DEFAULTS = new Params(null, null, null, null, null, null);

        public Params {
            autoTune = autoTune == null || autoTune;
            blockSizeTokens = blockSizeTokens == null ? DEFAULT_BLOCK_SIZE_TOKENS : blockSizeTokens;
            blockSize = blockSize == null ? 0 : blockSize;
            maxPrefixBlocksToMatch = maxPrefixBlocksToMatch == null ? DEFAULT_MAX_PREFIX_BLOCKS : maxPrefixBlocksToMatch;
            maxPrefixTokensToMatch = maxPrefixTokensToMatch == null ? 0 : maxPrefixTokensToMatch;
            lruCapacityPerServer = lruCapacityPerServer == null || lruCapacityPerServer == 0
                    ? DEFAULT_LRU_CAPACITY_PER_SERVER : lruCapacityPerServer;
            if (blockSize > 0 && blockSizeTokens <= 0) {
                throw new IllegalArgumentException("blockSize (" + blockSize + ") is deprecated; "
                        + "use blockSizeTokens to set the cache block size in tokens");
            }
            if (blockSizeTokens < 0) {
                throw new IllegalArgumentException("blockSizeTokens must be >= 0, got " + blockSizeTokens);
            }
            if (!autoTune && blockSizeTokens == 0) {
                throw new IllegalArgumentException("blockSizeTokens must be > 0 when autoTune is false");
            }
            if (maxPrefixBlocksToMatch < 0) {
                throw new IllegalArgumentException("maxPrefixBlocksToMatch must be >= 0, got " + maxPrefixBlocksToMatch);
            }
            if (maxPrefixTokensToMatch < 0) {
                throw new IllegalArgumentException("maxPrefixTokensToMatch must be >= 0, got " + maxPrefixTokensToMatch);
            }
            if (lruCapacityPerServer < 0) {
                throw new IllegalArgumentException("lruCapacityPerServer must be >= 0, got " + lruCapacityPerServer);
            }
        }
    }
}
