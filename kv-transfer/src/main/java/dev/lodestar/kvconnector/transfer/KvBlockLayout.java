package dev.lodestar.kvconnector.transfer;

/**
 * The shape of an engine's KV-block memory: {@code numBlocks} blocks of {@code blockBytes} bytes each, one
 * contiguous region, block {@code i} at offset {@code i * blockBytes}.
 *
 * @param blockBytes  bytes per block (vLLM's {@code block_lens} entry for a flat, one-region layout)
 * @param numBlocks   number of blocks
 * @param blockTokens tokens per block (vLLM's {@code block_size}); carried in the handshake, not used for addressing
 */
public record KvBlockLayout(int blockBytes, int numBlocks, int blockTokens) {

    public KvBlockLayout {
        if (blockBytes <= 0 || blockBytes % 8 != 0) {
            throw new IllegalArgumentException("block-bytes must be a positive multiple of 8, got " + blockBytes);
        }
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("num-blocks must be positive, got " + numBlocks);
        }
        if (blockTokens <= 0) {
            throw new IllegalArgumentException("block-tokens must be positive, got " + blockTokens);
        }
    }

    /** A layout with 16 tokens per block, vLLM's default block size. */
    public static KvBlockLayout of(int blockBytes, int numBlocks) {
        return new KvBlockLayout(blockBytes, numBlocks, 16);
    }

    /** Size of the whole region in bytes. */
    public long totalBytes() {
        return (long) blockBytes * numBlocks;
    }

    /** Offset of a block from the start of the region. */
    public long offsetOf(int blockId) {
        return (long) blockId * blockBytes;
    }

    boolean contains(int blockId) {
        return blockId >= 0 && blockId < numBlocks;
    }
}
