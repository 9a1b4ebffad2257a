package dev.lodestar.simulator;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Paged KV cache with automatic prefix caching, modelled on vLLM's block pool.
 *
 * <p>The cache holds {@code numBlocks} blocks of {@code blockSize} tokens. A full block is identified
 * by a chained hash: the hash of its tokens and of the previous block's hash, seeded per model and
 * LoRA adapter, so equal hashes mean equal prefixes. A request takes blocks for its whole sequence
 * at admission (the simulator knows the output length in advance, so it never has to preempt, where
 * vLLM allocates decode blocks lazily and preempts on exhaustion). Blocks are reference counted;
 * a block nobody uses goes to the free list but keeps its hash until it is reused, so a later request
 * with the same prefix still hits it. Allocation takes free blocks least recently released first,
 * which evicts the LRU cached block; blocks without a hash are reused before any cached block.
 *
 * <p>Not thread-safe: the engine calls it under its lock.
 */
final class KvCache {
    private static final int NONE = -1;

    private final int numBlocks;
    private final int blockSize;
    private final boolean prefixCaching;
    private final int[] refCount;
    private final long[] blockHash;
    private final boolean[] hashed;
    private final Map<Long, Integer> cachedBlocks = new HashMap<>();
    // Free list as an intrusive doubly linked list: head = next block to reuse.
    private final int[] prev;
    private final int[] next;
    private int head = NONE;
    private int tail = NONE;
    private int freeCount;
    private int usedBlocks;
    private long evictions;

    KvCache(int numBlocks, int blockSize, boolean prefixCaching) {
        if (numBlocks <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("KV cache needs a positive block count and block size");
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
        this.refCount = new int[numBlocks];
        this.blockHash = new long[numBlocks];
        this.hashed = new boolean[numBlocks];
        this.prev = new int[numBlocks];
        this.next = new int[numBlocks];
        Arrays.fill(prev, NONE);
        Arrays.fill(next, NONE);
        for (int block = 0; block < numBlocks; block++) {
            appendFree(block);
        }
    }

    int numBlocks() {
        return numBlocks;
    }

    int blockSize() {
        return blockSize;
    }

    int usedBlocks() {
        return usedBlocks;
    }

    /** Blocks that hold a hash (in use or free), i.e. prefixes a new request could hit. */
    int cachedBlocks() {
        return cachedBlocks.size();
    }

    long evictions() {
        return evictions;
    }

    int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /** Number of leading prompt tokens already cached, as {@link #allocate} would find them now. */
    int cachedPrefixTokens(long seed, int[] promptTokens) {
        return hitBlocks(seed, promptTokens, new long[maxHitBlocks(promptTokens.length)]) * blockSize;
    }

    /**
     * Takes blocks for a sequence of {@code totalTokens} tokens whose prompt is {@code promptTokens},
     * reusing cached prefix blocks. Empty when not enough blocks are free.
     */
    Optional<Allocation> allocate(long seed, int[] promptTokens, int totalTokens) {
        int needed = blocksFor(totalTokens);
        if (needed > numBlocks) {
            throw new IllegalArgumentException(
                    "sequence of " + totalTokens + " tokens needs " + needed + " blocks; the cache has " + numBlocks);
        }
        long[] hashes = new long[maxHitBlocks(promptTokens.length)];
        int hits = hitBlocks(seed, promptTokens, hashes);
        int[] blocks = new int[needed];
        int hitBlocksOnFreeList = 0;
        for (int i = 0; i < hits; i++) {
            blocks[i] = cachedBlocks.get(hashes[i]);
            if (refCount[blocks[i]] == 0) {
                hitBlocksOnFreeList++;
            }
        }
        if (needed - hits > freeCount - hitBlocksOnFreeList) {
            return Optional.empty();
        }
        for (int i = 0; i < hits; i++) {
            acquire(blocks[i]);
        }
        for (int i = hits; i < needed; i++) {
            int block = head;
            evict(block);
            acquire(block);
            blocks[i] = block;
        }
        return Optional.of(new Allocation(seed, blocks, hits, hits == 0 ? seed : hashes[hits - 1]));
    }

    /**
     * Registers the full blocks among the first {@code tokenCount} of {@code tokens} as cached, so later
     * requests can reuse them. Called when prefill completes (prompt blocks) and when a request ends
     * (generated blocks).
     */
    void commit(Allocation allocation, int[] tokens, int tokenCount) {
        if (!prefixCaching) {
            return;
        }
        int fullBlocks = Math.min(tokenCount / blockSize, allocation.blocks.length);
        long parent = allocation.lastHash;
        for (int i = allocation.hashedBlocks; i < fullBlocks; i++) {
            long hash = chain(parent, tokens, i * blockSize);
            int block = allocation.blocks[i];
            if (!cachedBlocks.containsKey(hash) && !hashed[block]) {
                cachedBlocks.put(hash, block);
                blockHash[block] = hash;
                hashed[block] = true;
            }
            parent = hash;
            allocation.hashedBlocks = i + 1;
            allocation.lastHash = hash;
        }
    }

    /** Returns the allocation's blocks; cached ones stay findable until evicted. */
    void release(Allocation allocation) {
        if (allocation.released) {
            return;
        }
        allocation.released = true;
        // Last block first, so the tail of a sequence is evicted before its (more shareable) prefix.
        for (int i = allocation.blocks.length - 1; i >= 0; i--) {
            int block = allocation.blocks[i];
            if (--refCount[block] == 0) {
                usedBlocks--;
                if (hashed[block]) {
                    appendFree(block);
                } else {
                    prependFree(block);
                }
            }
        }
    }

    private int maxHitBlocks(int promptLength) {
        // Like vLLM, at least one prompt token is always computed, so a fully cached prompt still
        // recomputes its last block.
        return prefixCaching && promptLength > 0 ? (promptLength - 1) / blockSize : 0;
    }

    private int hitBlocks(long seed, int[] promptTokens, long[] hashes) {
        long parent = seed;
        for (int i = 0; i < hashes.length; i++) {
            long hash = chain(parent, promptTokens, i * blockSize);
            if (!cachedBlocks.containsKey(hash)) {
                return i;
            }
            hashes[i] = hash;
            parent = hash;
        }
        return hashes.length;
    }

    private long chain(long parent, int[] tokens, int offset) {
        long hash = mix(parent ^ 0x9e3779b97f4a7c15L);
        for (int i = offset; i < offset + blockSize; i++) {
            hash = mix(hash ^ tokens[i]);
        }
        return hash;
    }

    static long seed(String model, String loraAdapter) {
        long hash = 0xcbf29ce484222325L;
        String key = loraAdapter == null ? model : model + "\u0000" + loraAdapter;
        for (int i = 0; i < key.length(); i++) {
            hash ^= key.charAt(i);
            hash *= 0x100000001b3L;
        }
        return mix(hash);
    }

    // SplitMix64 finalizer: cheap and well distributed.
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private void acquire(int block) {
        if (refCount[block]++ == 0) {
            unlinkFree(block);
            usedBlocks++;
        }
    }

    private void evict(int block) {
        if (hashed[block]) {
            cachedBlocks.remove(blockHash[block], block);
            hashed[block] = false;
            evictions++;
        }
    }

    private void appendFree(int block) {
        prev[block] = tail;
        next[block] = NONE;
        if (tail == NONE) {
            head = block;
        } else {
            next[tail] = block;
        }
        tail = block;
        freeCount++;
    }

    private void prependFree(int block) {
        prev[block] = NONE;
        next[block] = head;
        if (head == NONE) {
            tail = block;
        } else {
            prev[head] = block;
        }
        head = block;
        freeCount++;
    }

    private void unlinkFree(int block) {
        if (prev[block] == NONE) {
            head = next[block];
        } else {
            next[prev[block]] = next[block];
        }
        if (next[block] == NONE) {
            tail = prev[block];
        } else {
            prev[next[block]] = prev[block];
        }
        prev[block] = NONE;
        next[block] = NONE;
        freeCount--;
    }

    /** The blocks one request holds. */
    static final class Allocation {
        private final long seed;
        private final int[] blocks;
        private final int hitBlocks;
        private int hashedBlocks;
        private long lastHash;
        private boolean released;

        private Allocation(long seed, int[] blocks, int hitBlocks, long lastHash) {
            this.seed = seed;
            this.blocks = blocks;
            this.hitBlocks = hitBlocks;
            this.hashedBlocks = hitBlocks;
            this.lastHash = lastHash;
        }

        int blockCount() {
            return blocks.length;
        }

        int hitBlocks() {
            return hitBlocks;
        }

        long seed() {
            return seed;
        }
    }
}
