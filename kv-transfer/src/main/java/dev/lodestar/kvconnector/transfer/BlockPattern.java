package dev.lodestar.kvconnector.transfer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

/**
 * Deterministic block contents for checking a transfer end to end: the prefill side fills each block from a
 * seed (e.g. {@link #seed(String, int)} of its request id and position), the decode side recomputes the same
 * bytes and compares. An xorshift64 stream, 8 bytes at a time.
 */
public final class BlockPattern {

    private BlockPattern() {
    }

    /** The seed of the {@code index}-th block of a request (FNV-1a of the id, mixed with the index). */
    public static long seed(String requestId, int index) {
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h ^= (index + 1) * 0x9e3779b97f4a7c15L;
        return h == 0 ? 1 : h;
    }

    /** Fills the block (its position to its limit, a multiple of 8 bytes) from the seed. */
    public static void fill(ByteBuffer block, long seed) {
        ByteBuffer b = block.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long x = seed;
        for (int i = b.position(); i < b.limit(); i += 8) {
            x = next(x);
            b.putLong(i, x);
        }
    }

    /** The offset (from the block's position) of the first byte that differs from the pattern, or empty. */
    public static OptionalLong firstMismatch(ByteBuffer block, long seed) {
        ByteBuffer b = block.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long x = seed;
        for (int i = b.position(); i < b.limit(); i += 8) {
            x = next(x);
            long have = b.getLong(i);
            if (have != x) {
                return OptionalLong.of(i - b.position() + Long.numberOfTrailingZeros(have ^ x) / 8);
            }
        }
        return OptionalLong.empty();
    }

    private static long next(long x) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return x;
    }
}
