package dev.lodestar.simulator;

import dev.lodestar.kvconnector.transfer.BlockPattern;
import dev.lodestar.kvconnector.transfer.KvBlockLayout;
import dev.lodestar.kvconnector.transfer.KvTransferConfig;
import dev.lodestar.kvconnector.transfer.KvTransferEngine;
import dev.lodestar.kvconnector.transfer.KvTransferException;
import dev.lodestar.kvconnector.transfer.PullRequest;
import dev.lodestar.kvconnector.transfer.PullResult;
import dev.lodestar.kvconnector.transfer.RemoteEngine;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The simulator's side of vLLM's NixlConnector, over Lodestar's UCX transfer engine: the only class that
 * knows that engine. A prefill hands a prompt's KV blocks off (allocates them, fills them, pins them until a
 * decoder has pulled them); a decode pulls the blocks it lacks and checks every byte.
 *
 * <p>Block contents stand in for real KV: block {@code i} of a prompt is {@link BlockPattern} bytes seeded
 * by a hash of the prompt's tokens up to the end of that block. Both sides compute the seeds from their
 * own tokens, so a decode that pulled another prompt's blocks, or damaged ones, finds out.
 */
final class NixlKvTransfer implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(NixlKvTransfer.class.getName());

    private final KvTransferEngine engine;
    private final int blockTokens;
    private final AtomicLong handoffs = new AtomicLong();

    private NixlKvTransfer(KvTransferEngine engine, int blockTokens) {
        this.engine = engine;
        this.blockTokens = blockTokens;
    }

    /**
     * Starts the transfer engine.
     *
     * @throws IllegalStateException when UCX is not usable here or the side channel cannot bind, saying why
     */
    static NixlKvTransfer start(SimulatorConfig.KvTransfer settings, int blockTokens) {
        KvTransferConfig config = KvTransferConfig.builder(
                        new KvBlockLayout(settings.blockBytes(), settings.numBlocks(), blockTokens))
                .engineId(settings.engineId())
                .sideChannel(settings.sideChannelHost(), settings.sideChannelPort())
                .peerFailureDetection(settings.peerFailureDetection())
                .build();
        try {
            return new NixlKvTransfer(KvTransferEngine.start(config), blockTokens);
        } catch (RuntimeException e) {
            throw new IllegalStateException("kv-transfer: cannot start the KV transfer engine on "
                    + settings.sideChannelHost() + ":" + settings.sideChannelPort() + ": " + e.getMessage(), e);
        }
    }

    /** Blocks a prompt of {@code promptTokens} tokens occupies (the last one may be partly filled). */
    int blocksOf(int promptTokens) {
        return (promptTokens + blockTokens - 1) / blockTokens;
    }

    /**
     * Prefill side: puts the prompt's blocks into transfer memory and pins them until a decoder's
     * notification (or the pin timeout, 480 s) frees them.
     *
     * @throws ApiError 503 when the transfer memory has no room (pinned blocks of earlier prefills hold it)
     */
    KvTransferRole.RemotePrefill handOff(String requestId, int[] promptTokens) {
        long[] seeds = blockSeeds(promptTokens, blockTokens);
        List<Integer> blocks;
        try {
            blocks = engine.allocator().allocate(seeds.length);
        } catch (IllegalStateException e) {
            throw new ApiError(503, "kv-transfer: no room to keep this prefill's " + seeds.length
                    + " KV blocks for a decoder (" + e.getMessage() + "; pinned prefills hold them until pulled)",
                    null);
        }
        for (int i = 0; i < seeds.length; i++) {
            BlockPattern.fill(engine.block(blocks.get(i)), seeds[i]);
        }
        // Unique even when a client reuses an x-request-id; the decoder only echoes it back.
        String pinId = requestId + "-" + handoffs.incrementAndGet();
        engine.allocator().pin(pinId, blocks).thenAccept(release -> {
            if (release != dev.lodestar.kvconnector.transfer.KvBlockAllocator.Release.NOTIFIED) {
                LOGGER.log(Level.WARNING, () -> "kv-transfer: the " + blocks.size() + " KV blocks of prefill "
                        + pinId + " were freed without a decoder's notification (" + release + ")");
            }
        });
        RemoteEngine self = engine.sideChannel();
        return new KvTransferRole.RemotePrefill(self.engineId(), self.host(), self.port(), pinId, blocks, 1);
    }

    /**
     * Decode side: pulls the prompt's blocks after the first {@code localBlocks} (which the local prefix
     * cache holds), checks each against the prompt, and notifies the prefill. With nothing to pull it only
     * notifies, as vLLM does on a full local hit.
     *
     * @throws ApiError 500 when the handshake, the pull or the check fails (vLLM's
     *                  {@code kv_load_failure_policy=fail}), 400 when the block ids do not fit the prompt
     */
    Pulled pull(KvTransferRole.RemotePrefill remote, int[] promptTokens, int localBlocks) {
        long[] seeds = blockSeeds(promptTokens, blockTokens);
        if (remote.blockIds().size() != seeds.length) {
            throw ApiError.badRequest("kv_transfer_params.remote_block_ids has " + remote.blockIds().size()
                    + " blocks, but this prompt of " + promptTokens.length + " tokens takes " + seeds.length
                    + " (block-size " + blockTokens + "): the prefill ran another prompt or another block size",
                    "kv_transfer_params");
        }
        int from = Math.min(localBlocks, seeds.length);
        List<Integer> remoteIds = remote.blockIds().subList(from, seeds.length);
        List<Integer> localIds;
        try {
            localIds = engine.allocator().allocate(remoteIds.size());
        } catch (IllegalStateException e) {
            throw loadFailed(remote, "no free transfer blocks to pull into (" + e.getMessage() + ")", null);
        }
        try {
            PullResult result;
            try {
                result = engine.pull(PullRequest.builder(
                                new RemoteEngine(remote.engineId(), remote.host(), remote.port()), remote.requestId())
                        .blocks(remoteIds, localIds)
                        .build());
            } catch (KvTransferException | IllegalArgumentException e) {
                throw loadFailed(remote, e.getMessage(), e);
            }
            for (int i = 0; i < localIds.size(); i++) {
                int index = from + i;
                OptionalLong mismatch = BlockPattern.firstMismatch(engine.block(localIds.get(i)), seeds[index]);
                if (mismatch.isPresent()) {
                    throw loadFailed(remote, "KV block " + index + " of the prompt (remote block "
                            + remoteIds.get(i) + ") differs from this prompt's at byte " + mismatch.getAsLong()
                            + ": the prefill computed another prompt, or the transfer damaged it", null);
                }
            }
            return new Pulled(remoteIds.size(), result.bytes(), result.duration().toNanos(), result.handshake());
        } finally {
            engine.allocator().free(localIds);
        }
    }

    private static ApiError loadFailed(KvTransferRole.RemotePrefill remote, String why, Throwable cause) {
        String message = "kv-transfer: loading the prompt's KV blocks from prefill engine " + remote.engineId()
                + " at " + remote.host() + ":" + remote.port() + " (request " + remote.requestId() + ") failed: "
                + why;
        LOGGER.log(Level.WARNING, message, cause);
        return new ApiError(500, message, null);
    }

    /** Free blocks and pinned prefills, for tests and metrics. */
    Usage usage() {
        KvTransferEngine.Resources resources = engine.resources();
        return new Usage(resources.freeBlocks(), engine.layout().numBlocks(), resources.pinnedRequests());
    }

    /** Where decoders reach this engine: {@code remote_engine_id}, {@code remote_host}, {@code remote_port}. */
    String engineId() {
        return engine.engineId();
    }

    int sideChannelPort() {
        return engine.sideChannel().port();
    }

    /**
     * The seed of each block of a prompt: a chained FNV-1a hash of the tokens up to the block's end, so a
     * block's bytes depend on the whole prefix before it, as KV does. Never 0 (xorshift's fixed point).
     */
    static long[] blockSeeds(int[] promptTokens, int blockTokens) {
        long[] seeds = new long[(promptTokens.length + blockTokens - 1) / blockTokens];
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < promptTokens.length; i++) {
            int token = promptTokens[i];
            for (int shift = 0; shift < 32; shift += 8) {
                hash = (hash ^ ((token >>> shift) & 0xff)) * 0x100000001b3L;
            }
            if ((i + 1) % blockTokens == 0 || i == promptTokens.length - 1) {
                long seed = hash ^ (i / blockTokens + 1) * 0x9e3779b97f4a7c15L;
                seeds[i / blockTokens] = seed == 0 ? 1 : seed;
            }
        }
        return seeds;
    }

    @Override
    public void close() {
        engine.close();
    }

    /** Why UCX cannot run here, or empty. */
    static Optional<String> unavailableReason() {
        return KvTransferEngine.ucxUnavailableReason();
    }

    /** A finished pull: blocks and bytes moved and how long it took (handshake included). */
    record Pulled(int blocks, long bytes, long transferNanos, boolean handshake) {
    }

    /** Transfer memory in use. */
    record Usage(int freeBlocks, int totalBlocks, int pinnedPrefills) {
    }
}
