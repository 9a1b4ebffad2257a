package dev.lodestar.bench.epp;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.prefix.PrefixIndex;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The prefix index with 1M blocks: 100 servers x 100 chains of 100 blocks. A chain is a prompt family's
 * 50 shared head blocks followed by 50 blocks of its own; 1,000 families, each cached on about 10
 * servers. Every server's LRU holds exactly its 10,000 blocks, so inserting evicts.
 * <ul>
 *   <li>{@code lookup}: one 100-block chain of a known family with a new tail (the head matches on ~10
 *       servers, the walk stops after it).</li>
 *   <li>{@code insert}: one new 100-block chain recorded for a server and applied by the writer thread
 *       (64 per invocation, then a flush): 50 blocks move to the front, 50 are inserted and 50 evicted.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PrefixIndexBenchmark {
    static final int SERVERS = 100;
    static final int CHAINS_PER_SERVER = 100;
    static final int CHAIN_BLOCKS = 100;
    static final int HEAD_BLOCKS = 50;
    static final int FAMILIES = 1000;
    static final int RING = 4096;

    private PrefixIndex index;
    private EndpointKey[] servers;
    private long[][] queries;
    private long[][] fresh;
    private int nextQuery;
    private int nextFresh;
    private int cycle;
    private long variant = 1_000_000;

    @Setup(Level.Trial)
    public void warm() {
        servers = new EndpointKey[SERVERS];
        for (int s = 0; s < SERVERS; s++) {
            servers[s] = new EndpointKey("bench", "pod-" + s + "-rank-0");
        }
        index = PrefixIndex.builder().name("bench").activeServers(() -> List.of(servers)).build();
        SplittableRandom random = new SplittableRandom(42);
        for (int s = 0; s < SERVERS; s++) {
            for (int c = 0; c < CHAINS_PER_SERVER; c++) {
                // Family of chain c on server s: each family lands on ~10 servers.
                int family = (s * CHAINS_PER_SERVER + c) % FAMILIES;
                long[] chain = chain(family, (long) s * CHAINS_PER_SERVER + c);
                while (!index.record(servers[s], CHAINS_PER_SERVER * CHAIN_BLOCKS, chain)) {
                    index.flush().join();
                }
            }
        }
        index.flush().join();
        queries = new long[RING][];
        fresh = new long[RING][];
        for (int i = 0; i < RING; i++) {
            queries[i] = chain(random.nextInt(FAMILIES), variant++);
            fresh[i] = chain(random.nextInt(FAMILIES), variant++);
        }
        System.out.printf("%nprefix index warm: %,d blocks, %,d hashes, %.1f B/block in arrays%n",
                index.blockCount(), index.hashCount(), (double) index.footprintBytes() / index.blockCount());
    }

    @TearDown(Level.Trial)
    public void close() {
        System.out.printf("%nprefix index after: %,d blocks, %,d dropped updates%n", index.blockCount(),
                index.droppedUpdates());
        index.close();
    }

    @Benchmark
    public PrefixIndex.Matches lookup() {
        return index.match(queries[nextQuery++ & (RING - 1)]);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void insert() {
        for (int i = 0; i < 64; i++) {
            int slot = nextFresh++ & (RING - 1);
            if (slot == 0) {
                cycle++;
            }
            // A different server each time round the ring, so re-used chains are new to their server.
            EndpointKey server = servers[(slot * 7 + cycle * 13) % SERVERS];
            while (!index.record(server, CHAINS_PER_SERVER * CHAIN_BLOCKS, fresh[slot])) {
                index.flush().join();
            }
        }
        index.flush().join();
    }

    /** Head blocks depend on the family only, tail blocks on the variant too. */
    static long[] chain(int family, long variant) {
        long[] chain = new long[CHAIN_BLOCKS];
        for (int i = 0; i < CHAIN_BLOCKS; i++) {
            long seed = i < HEAD_BLOCKS ? family * 1_000_003L + i : (variant * 1_000_003L + i) ^ 0x5DEECE66DL << 20;
            chain[i] = mix(seed * 31 + family);
        }
        return chain;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
