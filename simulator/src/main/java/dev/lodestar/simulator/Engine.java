package dev.lodestar.simulator;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The simulated inference engine of one server: continuous batching over a paged KV cache.
 *
 * <p>Requests enter an FCFS waiting queue. The scheduler admits from its head while fewer than
 * {@code max-num-seqs} requests run: a request whose KV blocks cannot be had stops admission (head of
 * line, as in vLLM); a request whose LoRA adapter has no slot or is still loading is skipped and
 * waits. Once admitted, a request's own timeline runs on the caller's (virtual) thread: prefill per
 * {@link LatencyModel}, then one token per inter-token latency, scaled by the load at each step.
 * Each deadline follows the previous one, not the moment the thread woke up, so timer jitter does not
 * accumulate into the latencies clients measure.
 *
 * <p>With kv-transfer on, a request's {@link KvTransferRole} changes its prefill: a prefill for a remote
 * decoder hands its prompt's KV blocks off during the simulated prefill; a decode of a remote prefill pulls
 * them, and the measured pull takes the place of the prefill compute.
 */
final class Engine {
    private final LatencyModel latency;
    private final KvCache kv;
    private final LoraSlots lora;
    private final int maxNumSeqs;
    private final int maxWaitingQueueLength;
    private final ScheduledExecutorService timers;
    private final EngineMetrics metrics;
    private final Optional<NixlKvTransfer> kvTransfer;
    private final long randomSeed;
    private final AtomicLong sequenceCounter = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final Map<String, Integer> runningPerAdapter = new HashMap<>();
    private final Map<String, Integer> waitingPerAdapter = new HashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private long scheduledWakeup = Long.MAX_VALUE;

    Engine(SimulatorConfig config, ScheduledExecutorService timers, EngineMetrics metrics) {
        this(config, timers, metrics, Optional.empty());
    }

    /** With {@code kvTransfer}, requests may be prefills for a remote decoder or decodes of a remote prefill. */
    Engine(SimulatorConfig config, ScheduledExecutorService timers, EngineMetrics metrics,
           Optional<NixlKvTransfer> kvTransfer) {
        this.kvTransfer = kvTransfer;
        this.latency = new LatencyModel(config);
        this.kv = new KvCache(config.kvCacheSize(), config.blockSize(), config.enablePrefixCaching());
        this.lora = new LoraSlots(config.maxLoras(), config.loraLoadTime().toNanos());
        this.maxNumSeqs = config.maxNumSeqs();
        this.maxWaitingQueueLength = config.maxWaitingQueueLength();
        this.timers = timers;
        this.metrics = metrics;
        this.randomSeed = config.seed();
        metrics.bind(this);
    }

    /**
     * Puts a request that arrived at {@code arrivedAt} ({@link System#nanoTime()}) in the waiting queue.
     * The caller must then {@link #run} it, which also cleans up when anything fails.
     *
     * <p>Arrival is when the server received the request, before parsing and tokenizing it: as on vLLM,
     * that work is part of the time to first token, and the latency model's prefill overhead stands for
     * it, so it must not come on top.
     *
     * @throws EngineOverloadedException when the waiting queue is full
     */
    Sequence submit(SequenceSpec spec, long arrivedAt) throws EngineOverloadedException {
        return submit(spec, arrivedAt, "seq-" + (sequenceCounter.get() + 1));
    }

    /** {@link #submit(SequenceSpec, long)} under the request id a prefill pins its KV blocks with. */
    Sequence submit(SequenceSpec spec, long arrivedAt, String requestId) throws EngineOverloadedException {
        Sequence sequence = new Sequence(spec, arrivedAt, requestId,
                new SplittableRandom(randomSeed ^ sequenceCounter.incrementAndGet() * 0x9e3779b97f4a7c15L));
        enqueue(sequence);
        return sequence;
    }

    /**
     * Runs a submitted request to completion on the calling thread: waits for admission, sleeps through
     * prefill and decode, and hands every token to {@code sink} as it is produced.
     *
     * @throws IOException when the sink fails (the client went away); the request is aborted
     * @throws InterruptedException when the calling thread is interrupted; the request is aborted
     */
    Outcome run(Sequence sequence, TokenSink sink) throws IOException, InterruptedException {
        SequenceSpec spec = sequence.spec;
        boolean finished = false;
        try {
            sequence.admitted.await();
            // A request admitted as it was submitted starts prefill at arrival (parsing it is part of the
            // prefill overhead, see submit); a queued one starts when admitted.
            long prefillStart = sequence.admittedOnSubmit ? sequence.arrivedAt : sequence.admittedAt;
            Optional<KvTransferRole.RemotePrefill> handoff = Optional.empty();
            long deadline;
            switch (spec.kvTransfer()) {
                case KvTransferRole.Local local -> deadline = prefillStart + latency.prefillNanos(
                        spec.promptTokens().length, sequence.cachedTokens, sequence.runningAtAdmission,
                        sequence.random);
                case KvTransferRole.PrefillForRemoteDecode prefill -> {
                    deadline = prefillStart + latency.prefillNanos(spec.promptTokens().length,
                            sequence.cachedTokens, sequence.runningAtAdmission, sequence.random);
                    // Writing the blocks is part of the simulated prefill time, not on top of it.
                    handoff = Optional.of(transfer().handOff(sequence.requestId, spec.promptTokens()));
                }
                case KvTransferRole.DecodeAfterRemotePrefill decode -> {
                    long loadStart = System.nanoTime();
                    NixlKvTransfer.Pulled pulled;
                    try {
                        pulled = transfer().pull(decode.remote(), spec.promptTokens(),
                                sequence.cachedTokens / kv.blockSize());
                    } catch (ApiError e) {
                        metrics.kvPullFailed();
                        throw e;
                    }
                    metrics.kvPulled(pulled);
                    // The measured transfer replaces the prefill compute; checking the blocks is the
                    // simulator's own work and hides in the engine step when that is long enough.
                    deadline = loadStart + pulled.transferNanos()
                            + latency.remotePrefillNanos(sequence.runningAtAdmission, sequence.random);
                    sequence.cachedTokens = spec.promptTokens().length;
                }
            }
            sleepUntil(deadline);
            onPrefillDone(sequence);
            long firstTokenAt = System.nanoTime();
            metrics.firstToken(sequence, firstTokenAt - sequence.arrivedAt);
            sink.onToken(0);
            long previousTokenAt = firstTokenAt;
            for (int index = 1; index < spec.outputTokens().length; index++) {
                long step = latency.interTokenNanos(running.get(), sequence.random);
                // Steps follow each other on the planned schedule, so timer jitter does not add up; after a
                // stall longer than a step the schedule restarts from now, as a stalled engine step delays
                // every later one.
                long now = System.nanoTime();
                if (now - deadline > step) {
                    deadline = now;
                }
                deadline += step;
                sleepUntil(deadline);
                long emittedAt = System.nanoTime();
                metrics.token(emittedAt - previousTokenAt);
                previousTokenAt = emittedAt;
                sink.onToken(index);
            }
            finish(sequence, spec.finishReason());
            finished = true;
            return new Outcome(sequence.cachedTokens, firstTokenAt - sequence.arrivedAt, handoff);
        } finally {
            if (!finished) {
                abort(sequence);
            }
        }
    }

    private NixlKvTransfer transfer() {
        return kvTransfer.orElseThrow(() -> new IllegalStateException("a P/D request reached an engine without"
                + " kv-transfer; OpenAiApi treats kv_transfer_params as absent then"));
    }

    /** {@link #submit} (arriving now) then {@link #run}. */
    Outcome generate(SequenceSpec spec, TokenSink sink)
            throws EngineOverloadedException, IOException, InterruptedException {
        return run(submit(spec, System.nanoTime()), sink);
    }

    int runningRequests() {
        return running.get();
    }

    int waitingRequests() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    State state() {
        lock.lock();
        try {
            return new State(running.get(), waiting.size(), kv.usedBlocks(), kv.numBlocks(), kv.blockSize(),
                    kv.cachedBlocks(), kv.evictions(), new TreeSet<>(runningPerAdapter.keySet()),
                    new TreeSet<>(waitingPerAdapter.keySet()), lora.maxLoras(), lora.loaded(System.nanoTime()));
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(Sequence sequence) throws EngineOverloadedException {
        lock.lock();
        try {
            if (waiting.size() >= maxWaitingQueueLength) {
                throw new EngineOverloadedException(
                        "the waiting queue is full (max-waiting-queue-length=" + maxWaitingQueueLength + ")");
            }
            waiting.addLast(sequence);
            sequence.adapter().ifPresent(adapter -> increment(waitingPerAdapter, adapter));
            loraInfoChanged(sequence);
            schedule();
            sequence.admittedOnSubmit = sequence.allocation != null;
        } finally {
            lock.unlock();
        }
    }

    private void onPrefillDone(Sequence sequence) {
        lock.lock();
        try {
            kv.commit(sequence.allocation, sequence.spec.promptTokens(), sequence.spec.promptTokens().length);
        } finally {
            lock.unlock();
        }
    }

    private void finish(Sequence sequence, FinishReason reason) {
        lock.lock();
        try {
            int[] allTokens = sequence.spec.allTokens();
            kv.commit(sequence.allocation, allTokens, allTokens.length);
            release(sequence);
        } finally {
            lock.unlock();
        }
        metrics.finished(sequence, System.nanoTime() - sequence.arrivedAt, reason);
    }

    private void abort(Sequence sequence) {
        lock.lock();
        try {
            if (sequence.allocation == null) {
                if (waiting.remove(sequence)) {
                    sequence.adapter().ifPresent(adapter -> decrement(waitingPerAdapter, adapter));
                    loraInfoChanged(sequence);
                }
                return;
            }
            release(sequence);
        } finally {
            lock.unlock();
        }
    }

    private void release(Sequence sequence) {
        kv.release(sequence.allocation);
        running.decrementAndGet();
        sequence.adapter().ifPresent(adapter -> decrement(runningPerAdapter, adapter));
        loraInfoChanged(sequence);
        schedule();
    }

    /** Admits waiting requests while there is room. Called under the lock. */
    private void schedule() {
        long now = System.nanoTime();
        long wakeup = Long.MAX_VALUE;
        Iterator<Sequence> candidates = waiting.iterator();
        while (candidates.hasNext() && running.get() < maxNumSeqs) {
            Sequence sequence = candidates.next();
            Optional<String> adapter = sequence.adapter();
            if (adapter.isPresent()) {
                LoraSlots.Readiness readiness = lora.acquire(adapter.get(), now, runningPerAdapter);
                if (!readiness.ready()) {
                    wakeup = Math.min(wakeup, readiness.readyAt());
                    continue;
                }
            }
            SequenceSpec spec = sequence.spec;
            Optional<KvCache.Allocation> allocation =
                    kv.allocate(spec.kvSeed(), spec.promptTokens(), spec.totalTokens());
            if (allocation.isEmpty()) {
                break;
            }
            candidates.remove();
            sequence.allocation = allocation.get();
            sequence.cachedTokens = allocation.get().hitBlocks() * kv.blockSize();
            sequence.admittedAt = now;
            sequence.runningAtAdmission = running.incrementAndGet();
            adapter.ifPresent(name -> {
                decrement(waitingPerAdapter, name);
                increment(runningPerAdapter, name);
            });
            loraInfoChanged(sequence);
            metrics.admitted(sequence, now - sequence.arrivedAt);
            sequence.admitted.countDown();
        }
        if (wakeup != Long.MAX_VALUE && wakeup < scheduledWakeup) {
            scheduledWakeup = wakeup;
            timers.schedule(this::wakeUp, Math.max(0, wakeup - now), TimeUnit.NANOSECONDS);
        }
    }

    private void wakeUp() {
        lock.lock();
        try {
            scheduledWakeup = Long.MAX_VALUE;
            schedule();
        } finally {
            lock.unlock();
        }
    }

    private void loraInfoChanged(Sequence sequence) {
        if (sequence.adapter().isPresent()) {
            metrics.loraState(new TreeSet<>(runningPerAdapter.keySet()), new TreeSet<>(waitingPerAdapter.keySet()));
        }
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(remaining);
        }
    }

    private static void increment(Map<String, Integer> counts, String key) {
        counts.merge(key, 1, Integer::sum);
    }

    private static void decrement(Map<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, count) -> count == 1 ? null : count - 1);
    }

    /** Receives each generated token, in order, at the moment the engine produces it. */
    @FunctionalInterface
    interface TokenSink {
        void onToken(int index) throws IOException;
    }

    /**
     * What the engine reports about a finished request.
     *
     * @param handoff for a prefill for a remote decoder, where its KV blocks wait ({@code kv_transfer_params})
     */
    record Outcome(int cachedTokens, long timeToFirstTokenNanos, Optional<KvTransferRole.RemotePrefill> handoff) {
        Outcome(int cachedTokens, long timeToFirstTokenNanos) {
            this(cachedTokens, timeToFirstTokenNanos, Optional.empty());
        }
    }

    /** A point-in-time view of the engine, for metrics and tests. */
    record State(int running, int waiting, int usedBlocks, int totalBlocks, int blockSize, int cachedBlocks,
                 long evictions, Set<String> runningAdapters, Set<String> waitingAdapters, int maxLoras,
                 Set<String> loadedAdapters) {
        double kvCacheUsage() {
            return (double) usedBlocks / totalBlocks;
        }
    }

    /** One request inside the engine. */
    static final class Sequence {
        private final SequenceSpec spec;
        private final long arrivedAt;
        private final String requestId;
        private final SplittableRandom random;
        private final CountDownLatch admitted = new CountDownLatch(1);
        private KvCache.Allocation allocation;
        private volatile int cachedTokens;
        private volatile long admittedAt;
        private volatile int runningAtAdmission;
        private volatile boolean admittedOnSubmit;

        private Sequence(SequenceSpec spec, long arrivedAt, String requestId, SplittableRandom random) {
            this.spec = spec;
            this.arrivedAt = arrivedAt;
            this.requestId = requestId;
            this.random = random;
        }

        SequenceSpec spec() {
            return spec;
        }

        int cachedTokens() {
            return cachedTokens;
        }

        Optional<String> adapter() {
            return spec.loraAdapter();
        }
    }
}
