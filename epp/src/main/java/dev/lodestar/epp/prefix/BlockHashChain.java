package dev.lodestar.epp.prefix;

import net.openhft.hashing.LongHashFunction;

import java.nio.charset.StandardCharsets;

/**
 * The approximate prefix hash chain of GIE v1.5.0: the hashed input is cut into blocks of
 * {@code blockSizeTokens x 4} bytes (4 characters per token); {@code h0 = XXH64(targetModel || cacheSalt)}
 * and {@code h_i = XXH64(block_i || little-endian uint64(h_{i-1}))}, XXH64 with seed 0 as Go's
 * {@code cespare/xxhash}. A trailing partial block is not hashed, and input beyond {@code maxBlocks}
 * blocks is ignored.
 */
public final class BlockHashChain {
    /** Characters per token the block size is converted with. */
    public static final int CHARS_PER_TOKEN = 4;

    private static final LongHashFunction XXH64 = LongHashFunction.xx();
    private static final long[] NONE = new long[0];

    private BlockHashChain() {
    }

    /**
     * @param input           the bytes to split (e.g. {@code LlmRequestBody.prefixHashInput()}); not modified
     * @param blockSizeTokens block size in tokens; 0 or less gives no block
     * @param maxBlocks       at most this many blocks are hashed
     * @return one hash per full block, in order; empty when the input is shorter than one block
     */
    public static long[] compute(String targetModel, String cacheSalt, byte[] input, int blockSizeTokens,
                                 int maxBlocks) {
        long blockChars = (long) blockSizeTokens * CHARS_PER_TOKEN;
        if (blockChars <= 0 || blockChars > Integer.MAX_VALUE - Long.BYTES || input.length < blockChars
                || maxBlocks <= 0) {
            return NONE;
        }
        int blocks = (int) Math.min(input.length / blockChars, maxBlocks);
        int size = (int) blockChars;
        long[] hashes = new long[blocks];
        byte[] scratch = new byte[size + Long.BYTES];
        long previous = seed(targetModel, cacheSalt);
        for (int i = 0; i < blocks; i++) {
            System.arraycopy(input, i * size, scratch, 0, size);
            putLongLittleEndian(scratch, size, previous);
            previous = XXH64.hashBytes(scratch);
            hashes[i] = previous;
        }
        return hashes;
    }

    /** {@code h0}: XXH64 of the UTF-8 target model followed by the UTF-8 cache salt. */
    public static long seed(String targetModel, String cacheSalt) {
        byte[] model = targetModel.getBytes(StandardCharsets.UTF_8);
        byte[] salt = cacheSalt.getBytes(StandardCharsets.UTF_8);
        byte[] both = new byte[model.length + salt.length];
        System.arraycopy(model, 0, both, 0, model.length);
        System.arraycopy(salt, 0, both, model.length, salt.length);
        return XXH64.hashBytes(both);
    }

    private static void putLongLittleEndian(byte[] buffer, int offset, long value) {
        for (int i = 0; i < Long.BYTES; i++) {
            buffer[offset + i] = (byte) (value >>> (8 * i));
        }
    }
}
