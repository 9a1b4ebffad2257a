package dev.lodestar.epp.prefix;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefixIndexTest {
    private static final EndpointKey A = new EndpointKey("ns", "a-rank-0");
    private static final EndpointKey B = new EndpointKey("ns", "b-rank-0");
    private static final EndpointKey C = new EndpointKey("ns", "c-rank-0");

    private final Set<EndpointKey> pool = ConcurrentHashMap.newKeySet();
    private final List<PrefixIndex> opened = new ArrayList<>();

    @AfterEach
    void closeIndexes() {
        opened.forEach(PrefixIndex::close);
    }

    private PrefixIndex index() {
        return index(PrefixIndex.builder());
    }

    private PrefixIndex index(PrefixIndex.Builder builder) {
        PrefixIndex index = builder.activeServers(() -> pool).build();
        opened.add(index);
        return index;
    }

    private static void settle(PrefixIndex index) {
        index.flush().join();
        assertThat(index.violationsAfterFlush().join()).isEmpty();
    }

    @Test
    void matchCountsLeadingBlocksPerServer() {
        PrefixIndex index = index();
        index.record(A, 100, new long[]{1, 2, 3, 4});
        index.record(B, 100, new long[]{1, 2});
        settle(index);

        PrefixIndex.Matches matches = index.match(new long[]{1, 2, 3, 4, 5, 6});

        assertThat(matches.blocks(A)).isEqualTo(4);
        assertThat(matches.blocks(B)).isEqualTo(2);
        assertThat(matches.blocks(C)).isZero();
        Map<EndpointKey, Integer> all = new HashMap<>();
        matches.forEach(all::put);
        assertThat(all).containsExactlyInAnyOrderEntriesOf(Map.of(A, 4, B, 2));
    }

    @Test
    void walkStopsAtFirstHashNoServerHolds() {
        PrefixIndex index = index();
        index.record(A, 100, new long[]{10, 30});
        settle(index);

        assertThat(index.match(new long[]{10, 20, 30}).blocks(A)).isEqualTo(1);
        assertThat(index.match(new long[]{20, 10, 30}).isEmpty()).isTrue();
    }

    @Test
    void walkCountsEveryHashAServerHoldsBeforeTheStop() {
        // GIE's walk: a server missing block i but holding block i+1 still gets i+1 counted, as long as
        // some server holds block i.
        PrefixIndex index = index();
        index.record(A, 100, new long[]{1, 2, 3});
        index.record(B, 100, new long[]{1, 3});
        settle(index);

        PrefixIndex.Matches matches = index.match(new long[]{1, 2, 3, 4});

        assertThat(matches.blocks(A)).isEqualTo(3);
        assertThat(matches.blocks(B)).isEqualTo(2);
    }

    @Test
    void emptyChainOrEmptyIndexMatchesNothing() {
        PrefixIndex index = index();
        assertThat(index.match(new long[]{1}).isEmpty()).isTrue();
        index.record(A, 10, new long[]{1});
        settle(index);
        assertThat(index.match(new long[0]).isEmpty()).isTrue();
        assertThat(index.match(new long[0]).blocks(A)).isZero();
    }

    @Test
    void lruEvictsLeastRecentlyUsedBlockAndForgetsItsServer() {
        PrefixIndex index = index();
        index.record(A, 3, new long[]{1, 2, 3});
        index.record(B, 3, new long[]{2});
        settle(index);
        assertThat(index.blocksOf(A).join()).containsExactly(3L, 2L, 1L);

        index.record(A, 3, new long[]{1});
        settle(index);
        assertThat(index.blocksOf(A).join()).containsExactly(1L, 3L, 2L);

        index.record(A, 3, new long[]{4});
        settle(index);
        assertThat(index.blocksOf(A).join()).containsExactly(4L, 1L, 3L);
        // Block 2 left A's LRU; B still holds it, so the hash stays indexed for B only.
        PrefixIndex.Matches matches = index.match(new long[]{2});
        assertThat(matches.blocks(A)).isZero();
        assertThat(matches.blocks(B)).isEqualTo(1);
        assertThat(index.blockCount()).isEqualTo(4);
        assertThat(index.hashCount()).isEqualTo(4);
    }

    @Test
    void chainLongerThanCapacityKeepsItsLastBlocks() {
        PrefixIndex index = index();
        index.record(A, 2, new long[]{1, 2, 3, 4, 5});
        settle(index);

        assertThat(index.blocksOf(A).join()).containsExactly(5L, 4L);
        assertThat(index.hashCount()).isEqualTo(2);
        assertThat(index.match(new long[]{1, 2, 3, 4, 5}).isEmpty()).isTrue();
        assertThat(index.match(new long[]{4, 5}).blocks(A)).isEqualTo(2);
    }

    @Test
    void capacityIsFixedWhenTheServerIsFirstRecorded() {
        PrefixIndex index = index();
        index.record(A, 2, new long[]{1});
        index.record(A, 100, new long[]{2, 3, 4});
        settle(index);

        assertThat(index.blocksOf(A).join()).containsExactly(4L, 3L);
    }

    @Test
    void removedServerLosesEveryBlockAndOthersKeepTheirs() {
        PrefixIndex index = index();
        index.record(A, 10, new long[]{1, 2, 3});
        index.record(B, 10, new long[]{1, 2});
        index.removeServer(A);
        settle(index);

        assertThat(index.serverCount()).isEqualTo(1);
        assertThat(index.blockCount()).isEqualTo(2);
        assertThat(index.hashCount()).isEqualTo(2);
        PrefixIndex.Matches matches = index.match(new long[]{1, 2, 3});
        assertThat(matches.blocks(A)).isZero();
        assertThat(matches.blocks(B)).isEqualTo(2);

        index.record(A, 10, new long[]{7});
        settle(index);
        assertThat(index.match(new long[]{7}).blocks(A)).isEqualTo(1);
    }

    @Test
    void purgeDropsServersThatLeftThePool() {
        PrefixIndex index = index();
        pool.addAll(Set.of(A, B));
        index.record(A, 10, new long[]{1, 2});
        index.record(B, 10, new long[]{1});
        pool.remove(A);
        index.purgeNow().join();
        settle(index);

        assertThat(index.serverCount()).isEqualTo(1);
        assertThat(index.match(new long[]{1, 2}).blocks(A)).isZero();
        assertThat(index.match(new long[]{1, 2}).blocks(B)).isEqualTo(1);
    }

    @Test
    void purgeRunsOnItsInterval() {
        PrefixIndex index = index(PrefixIndex.builder().purgeInterval(Duration.ofMillis(5)));
        index.record(A, 10, new long[]{1});
        index.flush().join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.serverCount() > 0 && System.nanoTime() < deadline) {
            index.flush().join();
            Thread.onSpinWait();
        }
        assertThat(index.serverCount()).isZero();
        assertThat(index.blockCount()).isZero();
    }

    @Test
    void fullQueueDropsUpdatesInsteadOfBlocking() throws Exception {
        PrefixIndex index = index(PrefixIndex.builder().queueCapacity(4));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch writerBusy = new CountDownLatch(1);
        CompletableFuture<Object> blocked = index.inspect(() -> {
            writerBusy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        writerBusy.await();
        int accepted = 0;
        for (int i = 0; i < 10; i++) {
            if (index.record(A, 10, new long[]{i + 1})) {
                accepted++;
            }
        }
        release.countDown();
        blocked.join();
        settle(index);

        assertThat(accepted).isEqualTo(4);
        assertThat(index.droppedUpdates()).isEqualTo(6);
        assertThat(index.blockCount()).isEqualTo(4);
    }

    @Test
    void rejectsCapacityBelowOne() {
        PrefixIndex index = index();
        assertThatThrownBy(() -> index.record(A, 0, new long[]{1})).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentWritersAndReadersKeepTheReverseMapConsistent() throws Exception {
        PrefixIndex index = index(PrefixIndex.builder().queueCapacity(1 << 12));
        EndpointKey[] servers = new EndpointKey[16];
        for (int i = 0; i < servers.length; i++) {
            servers[i] = new EndpointKey("ns", "pod-" + i + "-rank-0");
        }
        int writers = 4;
        int readers = 2;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch writersDone = new CountDownLatch(writers);
        for (int w = 0; w < writers; w++) {
            int seed = w;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    SplittableRandom random = new SplittableRandom(seed);
                    for (int i = 0; i < 20_000; i++) {
                        // Few distinct prefixes and small LRUs: heavy sharing, eviction and re-insertion.
                        long[] chain = chain(random.nextInt(64), 1 + random.nextInt(12));
                        EndpointKey server = servers[random.nextInt(servers.length)];
                        while (!index.record(server, 40, chain)) {
                            index.flush().join();
                        }
                        if (random.nextInt(2000) == 0) {
                            index.removeServer(servers[random.nextInt(servers.length)]);
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    writersDone.countDown();
                }
            }));
        }
        for (int r = 0; r < readers; r++) {
            int seed = 100 + r;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    SplittableRandom random = new SplittableRandom(seed);
                    while (!stop.get()) {
                        long[] chain = chain(random.nextInt(64), 12);
                        PrefixIndex.Matches matches = index.match(chain);
                        for (EndpointKey server : servers) {
                            int blocks = matches.blocks(server);
                            if (blocks < 0 || blocks > chain.length) {
                                throw new AssertionError("blocks out of range: " + blocks);
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        assertThat(writersDone.await(120, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failure.get()).isNull();
        settle(index);
        assertThat(index.blockCount()).isPositive().isLessThanOrEqualTo(16L * 40);

        // After the dust settles the index answers exactly: recording a fresh chain on one server matches fully.
        long[] fresh = chain(999, 5);
        index.record(servers[3], 40, fresh);
        settle(index);
        assertThat(index.match(fresh).blocks(servers[3])).isEqualTo(5);
    }

    @Test
    void indexedBlockCostsAtMost48BytesOfHeap() {
        int servers = 100;
        int blocksPerServer = 10_000;
        long before = usedHeapAfterGc();
        PrefixIndex index = index();
        for (int s = 0; s < servers; s++) {
            EndpointKey server = new EndpointKey("ns", "pod-" + s + "-rank-0");
            for (int start = 0; start < blocksPerServer; start += 1000) {
                long[] chain = new long[1000];
                for (int i = 0; i < chain.length; i++) {
                    chain[i] = (long) s * blocksPerServer + start + i + 1;
                }
                while (!index.record(server, blocksPerServer, chain)) {
                    index.flush().join();
                }
            }
        }
        index.flush().join();
        long after = usedHeapAfterGc();
        long blocks = index.blockCount();
        assertThat(blocks).isEqualTo((long) servers * blocksPerServer);

        double heapPerBlock = (double) (after - before) / blocks;
        double arraysPerBlock = (double) index.footprintBytes() / blocks;
        System.out.printf("prefix index: %d blocks, %.1f B/block heap, %.1f B/block arrays%n",
                blocks, heapPerBlock, arraysPerBlock);
        assertThat(arraysPerBlock).isLessThanOrEqualTo(48);
        assertThat(heapPerBlock).isLessThanOrEqualTo(48);
        assertThat(index.match(new long[]{1, 2, 3}).blocks(new EndpointKey("ns", "pod-0-rank-0"))).isEqualTo(3);
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }

    private static long[] chain(int prefix, int length) {
        long[] chain = new long[length];
        long previous = prefix * 1_000_003L;
        for (int i = 0; i < length; i++) {
            previous = previous * 31 + i + 7;
            chain[i] = previous;
        }
        return chain;
    }
}
