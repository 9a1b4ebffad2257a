package dev.lodestar.epp.prefix;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import org.jctools.queues.MpscArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;

/**
 * Which servers probably hold which prefix blocks: per server an LRU of block hashes with a fixed
 * capacity, and the reverse map from block hash to the servers holding it (GIE's approximate prefix
 * indexer).
 *
 * <p>Lookups ({@link #match}) run on request threads without locks. Updates ({@link #record},
 * {@link #removeServer}) are queued (JCTools MPSC, bounded: a full queue drops the update and counts it)
 * and applied by one writer thread, which also purges servers that left the pool every
 * {@code purgeInterval}. A lookup racing with the writer may miss or see a block that is being moved or
 * evicted; the index is approximate anyway.
 *
 * <p>Memory: an indexed block (one hash on one server) is 28 bytes in two primitive arrays, no object:
 * 16 bytes that lookups read (hash; server and next block of the same hash packed in one long, so a
 * lookup touches one cache line per block) and 12 that only the writer uses (previous block of the same
 * hash, LRU previous and next). Each distinct hash is a slot in an open-addressing {@code int} table
 * (load at most 0.75) pointing at the first block of its chain.
 */
public final class PrefixIndex implements AutoCloseable {
    public static final Duration DEFAULT_PURGE_INTERVAL = Duration.ofMinutes(2);
    public static final int DEFAULT_QUEUE_CAPACITY = 1 << 16;

    private static final System.Logger LOG = System.getLogger(PrefixIndex.class.getName());
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int NONE = -1;
    private static final int INITIAL_ENTRIES = 1024;
    private static final int INITIAL_TABLE = 2048;
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int PURGE_CHECK_EVERY = 4096;

    // Read by request threads.
    private volatile Store store;
    private volatile EndpointKey[] serverKeys = new EndpointKey[0];
    private final ConcurrentHashMap<EndpointKey, Integer> serverIds = new ConcurrentHashMap<>();
    private volatile long blockCount;
    private volatile long hashCount;

    // Queue between request threads and the writer.
    private final MpscArrayQueue<Command> queue;
    private final LongAdder dropped = new LongAdder();
    private volatile boolean writerParked;
    private volatile boolean running = true;
    private final Thread writer;

    // Writer-thread state.
    private final Supplier<? extends Collection<EndpointKey>> activeServers;
    private final long purgeIntervalNanos;
    private int entryHighWater;
    private int freeEntry = NONE;
    private long liveEntries;
    private long distinctHashes;
    private int[] lruHead = new int[0];
    private int[] lruTail = new int[0];
    private int[] lruSize = new int[0];
    private int[] capacity = new int[0];
    private EndpointKey[] keysById = new EndpointKey[0];
    private final ArrayList<Integer> freeServerIds = new ArrayList<>();

    private PrefixIndex(Builder builder) {
        this.activeServers = builder.activeServers;
        this.purgeIntervalNanos = builder.purgeInterval.toNanos();
        this.queue = new MpscArrayQueue<>(builder.queueCapacity);
        this.store = new Store(new long[2 * INITIAL_ENTRIES], new int[3 * INITIAL_ENTRIES], new int[INITIAL_TABLE]);
        this.writer = Thread.ofPlatform().daemon().name("prefix-index-" + builder.name).unstarted(this::runWriter);
        this.writer.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- request path

    /**
     * Walks {@code chain} from the first block: for each hash, every server holding it gets one more
     * matched block; the walk stops at the first hash no server holds.
     */
    public Matches match(long[] chain) {
        if (chain.length == 0) {
            return Matches.NONE;
        }
        Store s = store;
        EndpointKey[] keys = serverKeys;
        if (keys.length == 0) {
            return Matches.NONE;
        }
        // Walks every hash's chain of blocks one step at a time, round after round, rather than one chain
        // after the other: the steps of a round are independent loads the CPU overlaps, where one chain
        // alone is a sequence of dependent cache misses.
        int[] cursors = new int[chain.length];
        int walking = 0;
        while (walking < chain.length) {
            int head = s.head(chain[walking]);
            if (head < 0) {
                break;
            }
            cursors[walking++] = head;
        }
        if (walking == 0) {
            return Matches.NONE;
        }
        long[] hashes = new long[walking];
        System.arraycopy(chain, 0, hashes, 0, walking);
        int[] counts = new int[keys.length];
        for (int round = 0; walking > 0 && round < keys.length; round++) {
            int next = 0;
            for (int i = 0; i < walking; i++) {
                int entry = cursors[i];
                long hash = hashes[i];
                if (entry >= s.capacity || (long) LONGS.getOpaque(s.entries, 2 * entry) != hash) {
                    if (round == 0) {
                        // The writer moved this block since the probe: redo the walk one chain at a time,
                        // which stops exactly at the first hash no server holds.
                        return matchSequentially(s, keys, chain);
                    }
                    continue;
                }
                long link = (long) LONGS.getAcquire(s.entries, 2 * entry + 1);
                int server = serverOf(link);
                if (server >= 0 && server < keys.length) {
                    counts[server]++;
                }
                int following = nextOf(link);
                if (following >= 0) {
                    cursors[next] = following;
                    hashes[next] = hash;
                    next++;
                }
            }
            walking = next;
        }
        return new Matches(this, counts, keys, chain.length);
    }

    private Matches matchSequentially(Store s, EndpointKey[] keys, long[] chain) {
        int[] counts = null;
        for (long hash : chain) {
            int entry = s.head(hash);
            boolean held = false;
            for (int steps = 0; entry >= 0 && entry < s.capacity && steps < keys.length; steps++) {
                if ((long) LONGS.getOpaque(s.entries, 2 * entry) != hash) {
                    break;
                }
                long link = (long) LONGS.getAcquire(s.entries, 2 * entry + 1);
                int server = serverOf(link);
                if (server >= 0 && server < keys.length) {
                    if (counts == null) {
                        counts = new int[keys.length];
                    }
                    counts[server]++;
                    held = true;
                }
                entry = nextOf(link);
            }
            if (!held) {
                break;
            }
        }
        return counts == null ? Matches.NONE : new Matches(this, counts, keys, chain.length);
    }

    /**
     * Queues: {@code server} now holds every block of {@code chain} (each becomes its most recently used
     * block). A server seen for the first time gets an LRU of {@code capacity} blocks, kept for its
     * lifetime in the index.
     *
     * @param chain not modified afterwards by the caller
     * @return false when the queue was full and the update was dropped
     */
    public boolean record(EndpointKey server, int capacity, long[] chain) {
        Objects.requireNonNull(server, "server");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        if (chain.length == 0) {
            return true;
        }
        return enqueue(new Record(server, capacity, chain));
    }

    /** Queues the removal of {@code server} and all its blocks. */
    public boolean removeServer(EndpointKey server) {
        return enqueue(new Remove(Objects.requireNonNull(server, "server")));
    }

    /** Completes once every update queued before it has been applied (waits for queue space if full). */
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Barrier barrier = new Barrier(done);
        while (!queue.offer(barrier)) {
            if (!running) {
                done.completeExceptionally(new IllegalStateException("prefix index is closed"));
                return done;
            }
            Thread.onSpinWait();
        }
        wakeWriter();
        return done;
    }

    /** Indexed blocks (hash on server pairs), as of the last applied update. */
    public long blockCount() {
        return blockCount;
    }

    /** Distinct block hashes indexed. */
    public long hashCount() {
        return hashCount;
    }

    public int serverCount() {
        return serverIds.size();
    }

    /** Updates dropped because the queue was full. */
    public long droppedUpdates() {
        return dropped.sum();
    }

    /** Bytes held by the index's arrays (entries, table, per-server state), excluding the queue. */
    public long footprintBytes() {
        Store s = store;
        long perEntry = (long) s.entries.length * Long.BYTES + (long) s.links.length * Integer.BYTES;
        long table = (long) s.table.length * Integer.BYTES;
        long servers = 4L * lruHead.length * Integer.BYTES + (long) keysById.length * 4;
        return perEntry + table + servers;
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean enqueue(Command command) {
        if (!running || !queue.offer(command)) {
            dropped.increment();
            return false;
        }
        wakeWriter();
        return true;
    }

    private void wakeWriter() {
        // The queue's offer is a CAS (a full fence), so either the writer sees the item before parking or
        // this read sees writerParked set; the bounded park covers any remaining gap.
        if (writerParked) {
            LockSupport.unpark(writer);
        }
    }

    // ---------------------------------------------------------------- writer thread

    private void runWriter() {
        long nextPurge = System.nanoTime() + purgeIntervalNanos;
        int sincePurgeCheck = 0;
        while (running) {
            Command command = queue.relaxedPoll();
            if (command != null) {
                apply(command);
                if (++sincePurgeCheck < PURGE_CHECK_EVERY) {
                    continue;
                }
            }
            sincePurgeCheck = 0;
            publishCounts();
            long now = System.nanoTime();
            if (now - nextPurge >= 0) {
                purgeDepartedServers();
                nextPurge = now + purgeIntervalNanos;
                continue;
            }
            if (command == null) {
                writerParked = true;
                if (queue.isEmpty() && running) {
                    LockSupport.parkNanos(this, Math.min(nextPurge - now, IDLE_PARK_NANOS));
                }
                writerParked = false;
            }
        }
        Command command;
        while ((command = queue.relaxedPoll()) != null) {
            if (command instanceof Barrier barrier) {
                barrier.done().completeExceptionally(new IllegalStateException("prefix index is closed"));
            }
        }
    }

    private void apply(Command command) {
        try {
            switch (command) {
                case Record record -> {
                    int server = serverId(record.server(), record.capacity());
                    for (long hash : record.hashes()) {
                        touch(server, hash);
                    }
                }
                case Remove remove -> {
                    Integer id = serverIds.get(remove.server());
                    if (id != null) {
                        dropServer(id);
                    }
                }
                case Barrier barrier -> {
                    publishCounts();
                    barrier.done().complete(null);
                }
                case Inspect<?> inspect -> inspect.run();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "prefix index update failed", e);
            if (command instanceof Barrier barrier) {
                barrier.done().completeExceptionally(e);
            }
        }
    }

    private void publishCounts() {
        blockCount = liveEntries;
        hashCount = distinctHashes;
    }

    private void purgeDepartedServers() {
        Set<EndpointKey> active;
        try {
            active = new HashSet<>(activeServers.get());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list the pool's endpoints; prefix index purge skipped", e);
            return;
        }
        for (int id = 0; id < keysById.length; id++) {
            EndpointKey key = keysById[id];
            if (key != null && !active.contains(key)) {
                dropServer(id);
                LOG.log(System.Logger.Level.DEBUG, "prefix index: removed server {0}, no longer in the pool", key);
            }
        }
        publishCounts();
    }

    private int serverId(EndpointKey key, int serverCapacity) {
        Integer existing = serverIds.get(key);
        if (existing != null) {
            return existing;
        }
        int id;
        if (!freeServerIds.isEmpty()) {
            id = freeServerIds.removeLast();
        } else {
            id = keysById.length;
            int size = id + 1;
            keysById = Arrays.copyOf(keysById, size);
            lruHead = Arrays.copyOf(lruHead, size);
            lruTail = Arrays.copyOf(lruTail, size);
            lruSize = Arrays.copyOf(lruSize, size);
            capacity = Arrays.copyOf(capacity, size);
        }
        keysById[id] = key;
        lruHead[id] = NONE;
        lruTail[id] = NONE;
        lruSize[id] = 0;
        capacity[id] = serverCapacity;
        serverKeys = keysById.clone();
        serverIds.put(key, id);
        return id;
    }

    private void dropServer(int id) {
        Store s = store;
        for (int entry = lruHead[id]; entry != NONE; ) {
            int next = s.lruNext(entry);
            unlinkFromChain(s, entry);
            release(s, entry);
            entry = next;
        }
        EndpointKey key = keysById[id];
        serverIds.remove(key);
        keysById[id] = null;
        lruHead[id] = NONE;
        lruTail[id] = NONE;
        lruSize[id] = 0;
        serverKeys = keysById.clone();
        freeServerIds.add(id);
    }

    /** Makes {@code hash} the most recently used block of {@code server}, evicting its LRU block if full. */
    private void touch(int server, long hash) {
        Store s = store;
        int slot = s.slotOf(hash);
        if (slot >= 0) {
            for (int entry = s.table[slot] - 1; entry != NONE; entry = s.chainNext(entry)) {
                if (s.server(entry) == server) {
                    moveToFront(s, server, entry);
                    return;
                }
            }
        }
        if (lruSize[server] >= capacity[server]) {
            int victim = lruTail[server];
            unlinkFromLru(s, server, victim);
            unlinkFromChain(s, victim);
            release(s, victim);
            slot = s.slotOf(hash);
        }
        int entry = allocate();
        s = store;
        linkLruFront(s, server, entry);
        liveEntries++;
        s.setChainPrev(entry, NONE);
        if (slot >= 0) {
            int head = s.table[slot] - 1;
            s.publish(entry, hash, server, head);
            s.setChainPrev(head, entry);
            INTS.setRelease(s.table, slot, entry + 1);
        } else {
            s.publish(entry, hash, server, NONE);
            INTS.setRelease(s.table, -slot - 1, entry + 1);
            distinctHashes++;
            if (distinctHashes * 4 > (long) s.table.length * 3) {
                growTable();
            }
        }
    }

    private int allocate() {
        Store s = store;
        if (freeEntry != NONE) {
            int entry = freeEntry;
            freeEntry = s.lruNext(entry);
            return entry;
        }
        if (entryHighWater == s.capacity) {
            long grown = s.capacity + (long) (s.capacity >> 1);
            if (grown * 3 > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("prefix index is full");
            }
            int size = (int) grown;
            store = new Store(Arrays.copyOf(s.entries, 2 * size), Arrays.copyOf(s.links, 3 * size), s.table);
        }
        return entryHighWater++;
    }

    private void release(Store s, int entry) {
        s.setLruNext(entry, freeEntry);
        freeEntry = entry;
        liveEntries--;
    }

    private void growTable() {
        Store s = store;
        int[] table = new int[s.table.length * 2];
        int mask = table.length - 1;
        for (int head : s.table) {
            if (head != 0) {
                int i = spread(s.hash(head - 1)) & mask;
                while (table[i] != 0) {
                    i = (i + 1) & mask;
                }
                table[i] = head;
            }
        }
        store = new Store(s.entries, s.links, table);
    }

    private void unlinkFromChain(Store s, int entry) {
        int previous = s.chainPrev(entry);
        int next = s.chainNext(entry);
        if (previous != NONE) {
            s.setChainNext(previous, next);
            if (next != NONE) {
                s.setChainPrev(next, previous);
            }
            return;
        }
        int slot = s.slotOf(s.hash(entry));
        if (slot < 0) {
            throw new IllegalStateException("prefix index: block without table slot");
        }
        if (next != NONE) {
            s.setChainPrev(next, NONE);
            INTS.setRelease(s.table, slot, next + 1);
        } else {
            s.deleteSlot(slot);
            distinctHashes--;
        }
    }

    private void moveToFront(Store s, int server, int entry) {
        if (lruHead[server] == entry) {
            return;
        }
        unlinkFromLru(s, server, entry);
        linkLruFront(s, server, entry);
    }

    private void unlinkFromLru(Store s, int server, int entry) {
        int previous = s.lruPrev(entry);
        int next = s.lruNext(entry);
        if (previous != NONE) {
            s.setLruNext(previous, next);
        } else {
            lruHead[server] = next;
        }
        if (next != NONE) {
            s.setLruPrev(next, previous);
        } else {
            lruTail[server] = previous;
        }
        lruSize[server]--;
    }

    private void linkLruFront(Store s, int server, int entry) {
        int head = lruHead[server];
        s.setLruPrev(entry, NONE);
        s.setLruNext(entry, head);
        if (head != NONE) {
            s.setLruPrev(head, entry);
        } else {
            lruTail[server] = entry;
        }
        lruHead[server] = entry;
        lruSize[server]++;
    }

    private static int serverOf(long link) {
        return (int) (link >>> 32);
    }

    private static int nextOf(long link) {
        return (int) link;
    }

    static int spread(long hash) {
        long h = hash * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    // ---------------------------------------------------------------- test support

    /** The blocks of {@code server}, most recently used first, once every queued update is applied. */
    CompletableFuture<List<Long>> blocksOf(EndpointKey server) {
        return inspect(() -> {
            List<Long> hashes = new ArrayList<>();
            Integer id = serverIds.get(server);
            if (id != null) {
                for (int entry = lruHead[id]; entry != NONE; entry = store.lruNext(entry)) {
                    hashes.add(store.hash(entry));
                }
            }
            return hashes;
        });
    }

    /** Applies all queued updates, then checks every structural invariant; the result lists violations. */
    CompletableFuture<List<String>> violationsAfterFlush() {
        return inspect(this::violations);
    }

    /** Purges departed servers now instead of at the next interval. */
    CompletableFuture<Void> purgeNow() {
        return inspect(() -> {
            purgeDepartedServers();
            return null;
        });
    }

    /** Runs {@code probe} on the writer thread after every queued update. */
    <T> CompletableFuture<T> inspect(Supplier<T> probe) {
        CompletableFuture<T> done = new CompletableFuture<>();
        Inspect<T> command = new Inspect<>(probe, done);
        while (!queue.offer(command)) {
            Thread.onSpinWait();
        }
        wakeWriter();
        return done;
    }

    private List<String> violations() {
        List<String> problems = new ArrayList<>();
        Store s = store;
        long inLrus = 0;
        Set<Integer> seen = new HashSet<>();
        for (int id = 0; id < keysById.length; id++) {
            if (keysById[id] == null) {
                continue;
            }
            if (!Integer.valueOf(id).equals(serverIds.get(keysById[id]))) {
                problems.add("server " + keysById[id] + " id mismatch");
            }
            Set<Long> hashes = new HashSet<>();
            int count = 0;
            int previous = NONE;
            for (int entry = lruHead[id]; entry != NONE; entry = s.lruNext(entry)) {
                count++;
                if (!seen.add(entry)) {
                    problems.add("entry " + entry + " linked twice");
                    break;
                }
                if (s.lruPrev(entry) != previous) {
                    problems.add("lru prev broken at " + entry);
                }
                if (s.server(entry) != id) {
                    problems.add("entry " + entry + " in LRU of " + id + " but owned by " + s.server(entry));
                }
                if (!hashes.add(s.hash(entry))) {
                    problems.add("server " + id + " holds hash twice");
                }
                if (!chainContains(s, s.hash(entry), entry)) {
                    problems.add("entry " + entry + " missing from its hash chain");
                }
                previous = entry;
            }
            if (lruTail[id] != previous) {
                problems.add("lru tail of " + id + " wrong");
            }
            if (count != lruSize[id]) {
                problems.add("lru size of " + id + " is " + lruSize[id] + " but list has " + count);
            }
            if (count > capacity[id]) {
                problems.add("server " + id + " over capacity");
            }
            inLrus += count;
        }
        long inChains = 0;
        long slots = 0;
        for (int i = 0; i < s.table.length; i++) {
            if (s.table[i] == 0) {
                continue;
            }
            slots++;
            int head = s.table[i] - 1;
            long hash = s.hash(head);
            if (s.slotOf(hash) != i) {
                problems.add("slot " + i + " unreachable by probing");
            }
            if (s.chainPrev(head) != NONE) {
                problems.add("chain head " + head + " has a prev");
            }
            int previous = NONE;
            for (int entry = head; entry != NONE; entry = s.chainNext(entry)) {
                inChains++;
                if (s.hash(entry) != hash) {
                    problems.add("chain of slot " + i + " mixes hashes");
                }
                if (s.chainPrev(entry) != previous) {
                    problems.add("chain prev broken at " + entry);
                }
                if (!seen.contains(entry)) {
                    problems.add("chain entry " + entry + " is in no LRU");
                }
                previous = entry;
            }
        }
        if (inLrus != liveEntries || inChains != liveEntries) {
            problems.add("live=" + liveEntries + " lru=" + inLrus + " chains=" + inChains);
        }
        if (slots != distinctHashes) {
            problems.add("distinct=" + distinctHashes + " slots=" + slots);
        }
        return problems;
    }

    private static boolean chainContains(Store s, long hash, int wanted) {
        int slot = s.slotOf(hash);
        if (slot < 0) {
            return false;
        }
        for (int entry = s.table[slot] - 1; entry != NONE; entry = s.chainNext(entry)) {
            if (entry == wanted) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- types

    /** Blocks matched per server for one chain. */
    public static final class Matches {
        static final Matches NONE = new Matches(null, new int[0], new EndpointKey[0], 0);

        private final PrefixIndex index;
        private final int[] counts;
        private final EndpointKey[] keys;
        private final int totalBlocks;

        private Matches(PrefixIndex index, int[] counts, EndpointKey[] keys, int totalBlocks) {
            this.index = index;
            this.counts = counts;
            this.keys = keys;
            this.totalBlocks = totalBlocks;
        }

        /** Whether no server matched even the first block. */
        public boolean isEmpty() {
            return index == null;
        }

        /** Matched blocks of {@code server}, at most the chain's length. */
        public int blocks(EndpointKey server) {
            if (index == null) {
                return 0;
            }
            Integer id = index.serverIds.get(server);
            if (id == null || id >= counts.length || !server.equals(keys[id])) {
                return 0;
            }
            return Math.min(counts[id], totalBlocks);
        }

        /** Every server with at least one matched block. */
        public void forEach(ObjIntConsumer<EndpointKey> action) {
            for (int id = 0; id < counts.length; id++) {
                if (counts[id] > 0 && keys[id] != null) {
                    action.accept(keys[id], Math.min(counts[id], totalBlocks));
                }
            }
        }
    }

    /** Builds a {@link PrefixIndex} and starts its writer thread. */
    public static final class Builder {
        private String name = "default";
        private Supplier<? extends Collection<EndpointKey>> activeServers;
        private Duration purgeInterval = DEFAULT_PURGE_INTERVAL;
        private int queueCapacity = DEFAULT_QUEUE_CAPACITY;

        private Builder() {
        }

        /** Names the writer thread. */
        public Builder name(String value) {
            name = Objects.requireNonNull(value, "name");
            return this;
        }

        /** The pool's endpoints; servers not among them are purged every {@link #purgeInterval}. */
        public Builder activeServers(Supplier<? extends Collection<EndpointKey>> value) {
            activeServers = Objects.requireNonNull(value, "activeServers");
            return this;
        }

        public Builder purgeInterval(Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException("purgeInterval must be > 0");
            }
            purgeInterval = value;
            return this;
        }

        /** Updates that may wait for the writer; more are dropped (default {@value #DEFAULT_QUEUE_CAPACITY}). */
        public Builder queueCapacity(int value) {
            if (value < 2) {
                throw new IllegalArgumentException("queueCapacity must be >= 2");
            }
            queueCapacity = value;
            return this;
        }

        public PrefixIndex build() {
            if (activeServers == null) {
                throw new IllegalStateException("activeServers is required");
            }
            return new PrefixIndex(this);
        }
    }

    private sealed interface Command permits Record, Remove, Barrier, Inspect {
    }

    private record Record(EndpointKey server, int capacity, long[] hashes) implements Command {
    }

    private record Remove(EndpointKey server) implements Command {
    }

    private record Barrier(CompletableFuture<Void> done) implements Command {
    }

    private record Inspect<T>(Supplier<T> probe, CompletableFuture<T> done) implements Command {
        void run() {
            try {
                done.complete(probe.get());
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        }
    }

    /**
     * The index's arrays. The writer replaces the whole holder when an array grows, so a reader that
     * loaded one holder indexes arrays that belong together (a table slot may still name an entry past an
     * older holder's arrays; readers check bounds).
     *
     * <p>{@code entries} holds two longs per block: its hash, then its server (high 32 bits) and the next
     * block of the same hash (low 32 bits, -1 for none). {@code links} holds three ints per block, for the
     * writer only: the previous block of the same hash, and the previous and next block in its server's LRU
     * (the next link also chains free blocks).
     */
    private static final class Store {
        final long[] entries;
        final int[] links;
        final int[] table;
        final int mask;
        final int capacity;

        Store(long[] entries, int[] links, int[] table) {
            this.entries = entries;
            this.links = links;
            this.table = table;
            this.mask = table.length - 1;
            this.capacity = entries.length / 2;
        }

        long hash(int entry) {
            return entries[2 * entry];
        }

        int server(int entry) {
            return serverOf(entries[2 * entry + 1]);
        }

        int chainNext(int entry) {
            return nextOf(entries[2 * entry + 1]);
        }

        /** Writes a block's fields; it becomes visible to lookups once a table slot or chain link names it. */
        void publish(int entry, long hash, int server, int next) {
            LONGS.setOpaque(entries, 2 * entry, hash);
            LONGS.setRelease(entries, 2 * entry + 1, ((long) server << 32) | (next & 0xFFFF_FFFFL));
        }

        void setChainNext(int entry, int next) {
            long link = entries[2 * entry + 1];
            LONGS.setRelease(entries, 2 * entry + 1, (link & 0xFFFF_FFFF_0000_0000L) | (next & 0xFFFF_FFFFL));
        }

        int chainPrev(int entry) {
            return links[3 * entry];
        }

        void setChainPrev(int entry, int previous) {
            links[3 * entry] = previous;
        }

        int lruPrev(int entry) {
            return links[3 * entry + 1];
        }

        void setLruPrev(int entry, int previous) {
            links[3 * entry + 1] = previous;
        }

        int lruNext(int entry) {
            return links[3 * entry + 2];
        }

        void setLruNext(int entry, int next) {
            links[3 * entry + 2] = next;
        }

        /** Head entry of {@code hash}'s chain, or -1; safe against the concurrent writer. */
        int head(long hash) {
            int i = spread(hash) & mask;
            for (int probes = 0; probes <= mask; probes++) {
                int slot = (int) INTS.getAcquire(table, i);
                if (slot == 0) {
                    return NONE;
                }
                int entry = slot - 1;
                if (entry < capacity && (long) LONGS.getOpaque(entries, 2 * entry) == hash) {
                    return entry;
                }
                i = (i + 1) & mask;
            }
            return NONE;
        }

        /** Writer only: the slot holding {@code hash}, or {@code -(empty slot) - 1}. */
        int slotOf(long hash) {
            int i = spread(hash) & mask;
            while (true) {
                int slot = table[i];
                if (slot == 0) {
                    return -i - 1;
                }
                if (hash(slot - 1) == hash) {
                    return i;
                }
                i = (i + 1) & mask;
            }
        }

        /** Writer only: empties slot {@code i}, shifting later slots of the probe run back (no tombstones). */
        void deleteSlot(int i) {
            int gap = i;
            int j = i;
            while (true) {
                j = (j + 1) & mask;
                int slot = table[j];
                if (slot == 0) {
                    break;
                }
                int home = spread(hash(slot - 1)) & mask;
                if (((j - home) & mask) >= ((j - gap) & mask)) {
                    INTS.setRelease(table, gap, slot);
                    gap = j;
                }
            }
            INTS.setRelease(table, gap, 0);
        }
    }
}
