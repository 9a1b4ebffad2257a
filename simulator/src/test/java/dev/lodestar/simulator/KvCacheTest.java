package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvCacheTest {
    private static final int BLOCK = 4;
    private static final long SEED = KvCache.seed("model", null);

    private static int[] tokens(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    @Test
    void promptBlocksAreReusedOnlyAfterTheyAreCommitted() {
        KvCache cache = new KvCache(32, BLOCK, true);
        int[] prompt = tokens(100, 18);
        KvCache.Allocation first = cache.allocate(SEED, prompt, 20).orElseThrow();
        assertThat(first.hitBlocks()).isZero();
        assertThat(first.blockCount()).isEqualTo(5);

        KvCache.Allocation concurrent = cache.allocate(SEED, prompt, 20).orElseThrow();
        assertThat(concurrent.hitBlocks()).as("nothing is cached before prefill completes").isZero();

        cache.commit(first, prompt, prompt.length);
        KvCache.Allocation later = cache.allocate(SEED, prompt, 20).orElseThrow();
        assertThat(later.hitBlocks()).as("18 tokens = 4 full blocks").isEqualTo(4);
        assertThat(cache.cachedPrefixTokens(SEED, prompt)).isEqualTo(16);
    }

    @Test
    void aFullyCachedPromptStillComputesItsLastBlock() {
        KvCache cache = new KvCache(32, BLOCK, true);
        int[] prompt = tokens(0, 16);
        KvCache.Allocation first = cache.allocate(SEED, prompt, 17).orElseThrow();
        cache.commit(first, prompt, prompt.length);
        cache.release(first);
        assertThat(cache.cachedPrefixTokens(SEED, prompt)).as("vLLM caps hits at prompt length - 1").isEqualTo(12);
    }

    @Test
    void onlyTheCommonPrefixHits() {
        KvCache cache = new KvCache(32, BLOCK, true);
        int[] prompt = tokens(0, 12);
        KvCache.Allocation first = cache.allocate(SEED, prompt, 12).orElseThrow();
        cache.commit(first, prompt, prompt.length);
        int[] diverging = prompt.clone();
        diverging[5] = 999;
        assertThat(cache.cachedPrefixTokens(SEED, diverging)).isEqualTo(4);
    }

    @Test
    void differentSeedsDoNotShareBlocks() {
        KvCache cache = new KvCache(32, BLOCK, true);
        int[] prompt = tokens(0, 12);
        KvCache.Allocation base = cache.allocate(SEED, prompt, 12).orElseThrow();
        cache.commit(base, prompt, prompt.length);
        assertThat(cache.cachedPrefixTokens(KvCache.seed("model", "adapter"), prompt)).isZero();
        assertThat(cache.cachedPrefixTokens(SEED, prompt)).isEqualTo(8);
    }

    @Test
    void sharedBlocksAreReferenceCounted() {
        KvCache cache = new KvCache(16, BLOCK, true);
        int[] prompt = tokens(0, 13);
        KvCache.Allocation first = cache.allocate(SEED, prompt, 13).orElseThrow();
        cache.commit(first, prompt, prompt.length);
        assertThat(cache.usedBlocks()).isEqualTo(4);
        KvCache.Allocation second = cache.allocate(SEED, prompt, 13).orElseThrow();
        assertThat(second.hitBlocks()).isEqualTo(3);
        assertThat(cache.usedBlocks()).as("3 shared + 1 own block each").isEqualTo(5);
        cache.release(first);
        assertThat(cache.usedBlocks()).isEqualTo(4);
        cache.release(second);
        cache.release(second);
        assertThat(cache.usedBlocks()).as("double release is ignored").isZero();
        assertThat(cache.cachedBlocks()).as("freed blocks keep their hashes").isEqualTo(3);
    }

    @Test
    void allocationFailsWhenTooFewBlocksAreFree() {
        KvCache cache = new KvCache(6, BLOCK, true);
        KvCache.Allocation big = cache.allocate(SEED, tokens(0, 16), 16).orElseThrow();
        assertThat(cache.allocate(SEED, tokens(100, 8), 12)).as("needs 3, 2 free").isEmpty();
        assertThat(cache.allocate(SEED, tokens(100, 8), 8)).isPresent();
        cache.release(big);
        assertThatThrownBy(() -> cache.allocate(SEED, tokens(0, 20), 28))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the cache has 6");
    }

    @Test
    void exhaustionEvictsTheLeastRecentlyReleasedFreeBlocks() {
        KvCache cache = new KvCache(8, BLOCK, true);
        int[] older = tokens(0, 9);
        int[] newer = tokens(500, 9);
        KvCache.Allocation a = cache.allocate(SEED, older, 12).orElseThrow();
        KvCache.Allocation b = cache.allocate(SEED, newer, 12).orElseThrow();
        cache.commit(a, older, older.length);
        cache.commit(b, newer, newer.length);
        cache.release(a);
        cache.release(b);
        assertThat(cache.cachedBlocks()).isEqualTo(4);

        // 4 free blocks hold no hash (2 never used, 2 partial tails); taking 6 must evict exactly the
        // 2 cached blocks of `older`, released before those of `newer`.
        KvCache.Allocation fresh = cache.allocate(SEED, tokens(900, 24), 24).orElseThrow();
        assertThat(fresh.hitBlocks()).isZero();
        assertThat(cache.evictions()).isEqualTo(2);
        assertThat(cache.cachedPrefixTokens(SEED, older)).isZero();
        assertThat(cache.cachedPrefixTokens(SEED, newer)).isEqualTo(8);
    }

    @Test
    void generatedTokensAreCachedWhenTheRequestEnds() {
        KvCache cache = new KvCache(16, BLOCK, true);
        int[] prompt = tokens(0, 6);
        int[] all = tokens(0, 14);
        KvCache.Allocation first = cache.allocate(SEED, prompt, all.length).orElseThrow();
        cache.commit(first, prompt, prompt.length);
        cache.commit(first, all, all.length);
        cache.release(first);
        int[] nextTurn = tokens(0, 20);
        assertThat(cache.cachedPrefixTokens(SEED, nextTurn)).isEqualTo(12);
    }

    @Test
    void disabledPrefixCachingNeverHits() {
        KvCache cache = new KvCache(16, BLOCK, false);
        int[] prompt = tokens(0, 12);
        KvCache.Allocation first = cache.allocate(SEED, prompt, 12).orElseThrow();
        cache.commit(first, prompt, prompt.length);
        assertThat(cache.allocate(SEED, prompt, 12).orElseThrow().hitBlocks()).isZero();
        assertThat(cache.cachedBlocks()).isZero();
    }
}
