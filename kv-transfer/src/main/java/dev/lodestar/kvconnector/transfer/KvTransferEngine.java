package dev.lodestar.kvconnector.transfer;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.zeromq.ZContext;

/**
 * A KV-block transfer engine over UCX, after vLLM's NixlConnector: it owns {@code num-blocks} blocks of
 * off-heap memory (allocated and registered by UCX), serves its metadata on a ZeroMQ side channel, and
 * pulls other engines' blocks into its own with one-sided RMA gets. Both roles at once, as vLLM's
 * {@code kv_both}:
 * <ul>
 *   <li>prefill: {@link #allocator()} hands out blocks, the caller fills them ({@link #block(int)}) and pins
 *       them under the request id; a decoder's notification {@code <request_id>:<n>} (a UCX active message)
 *       or the pin timeout frees them;</li>
 *   <li>decode: {@link #pull(PullRequest)} handshakes once per remote engine id (cached), gets the given
 *       blocks into the given local blocks, waits for completion, then notifies.</li>
 * </ul>
 *
 * <p>Threads: one progress thread owns the UCX worker (every UCX call and callback runs on it); one thread
 * serves the side channel; a timer frees pins. Every public method is thread-safe; {@link #pull} blocks the
 * calling thread (do not call it from a {@link PullRequest.PullProgressListener}). Block views from
 * {@link #block(int)} are plain memory: writes by several threads to one block need the caller's ordering,
 * and a view must not be used after {@link #close()} (the memory is unmapped).
 */
public final class KvTransferEngine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(KvTransferEngine.class.getName());
    /** The active-message id of notifications. */
    static final int NOTIFY_AM_ID = 7;
    private static final int UCS_OK = 0;
    private static final long FAILED_OP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long CLOSE_EP_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final KvTransferConfig config;
    private final KvBlockLayout layout;
    private final UcpContext context;
    private final UcpWorker worker;
    private final UcpMemory memory;
    private final long baseAddress;
    private final ZContext zmq;
    private final ScheduledExecutorService timer;
    private final java.util.concurrent.ExecutorService callers;
    private final KvBlockAllocator allocator;
    private final HandshakeServer handshakeServer;
    private final HandshakeClient handshakeClient;
    private final WorkerProgressLoop loop;
    private final ConcurrentHashMap<String, CompletableFuture<Peer>> peers = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    // Touched only on the progress thread.
    private final Set<PullOp> activeOps = new HashSet<>();
    private final List<ClosingEndpoint> closing = new ArrayList<>();
    private final List<Peer> toClose = new ArrayList<>();

    private final AtomicInteger endpoints = new AtomicInteger();
    private final AtomicInteger remoteKeys = new AtomicInteger();
    private final AtomicInteger inflightRequests = new AtomicInteger();
    private final AtomicInteger activePulls = new AtomicInteger();

    /** What the engine holds right now: for metrics and for tests that check nothing leaks. */
    public record Resources(int endpoints, int remoteKeys, int inflightRequests, int activePulls, int cachedPeers,
                            int pinnedRequests, int freeBlocks) {
    }

    private KvTransferEngine(KvTransferConfig config) {
        this.config = config;
        this.layout = config.layout();
        UcpParams params = new UcpParams().requestRmaFeature().requestAmFeature();
        config.transports().ifPresent(t -> params.setConfig("TLS", t));
        this.context = new UcpContext(params);
        UcpWorker w = null;
        UcpMemory m = null;
        try {
            w = context.newWorker(new UcpWorkerParams());
            m = context.memoryMap(new UcpMemMapParams().allocate().setLength(layout.totalBytes()));
        } catch (RuntimeException e) {
            if (w != null) {
                w.close();
            }
            context.close();
            throw e;
        }
        this.worker = w;
        this.memory = m;
        this.baseAddress = m.getAddress();
        this.zmq = new ZContext();
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("kv-pin-timer-" + config.engineId()).factory());
        this.callers = Executors.newCachedThreadPool(
                Thread.ofPlatform().daemon().name("kv-pull-" + config.engineId() + "-", 0).factory());
        this.allocator = new KvBlockAllocator(layout.numBlocks(), config.pinTimeout(), timer);
        this.handshakeClient = new HandshakeClient(zmq, config.handshakeTimeout(), layout.blockBytes());
        this.loop = new WorkerProgressLoop("kv-ucx-progress-" + config.engineId(), worker,
                () -> !activeOps.isEmpty() || !closing.isEmpty() || !toClose.isEmpty(), this::tick, this::progressFailed,
                this::releaseUcx);
        byte[] workerAddress;
        byte[] rkey;
        try {
            record Exported(byte[] address, byte[] rkey) {
            }
            Exported exported = await(loop.call(() -> {
                worker.setAmRecvHandler(NOTIFY_AM_ID, (headerAddress, headerSize, data, replyEp) -> {
                    onNotification(data.isDataValid() ? data.getDataAddress() : 0, data.getLength());
                    return UCS_OK;
                }, UcpConstants.UCP_AM_FLAG_WHOLE_MSG);
                return new Exported(bytes(worker.getAddress()), bytes(memory.getRemoteKeyBuffer()));
            }), Duration.ofSeconds(10), "starting the UCX worker");
            workerAddress = exported.address();
            rkey = exported.rkey();
        } catch (RuntimeException e) {
            shutdown();
            throw e;
        }
        EngineMetadata metadata = new EngineMetadata(config.engineId(), workerAddress, List.of(baseAddress),
                List.of(rkey), layout.numBlocks(), List.of(layout.blockBytes()), layout.blockTokens());
        try {
            this.handshakeServer = new HandshakeServer(zmq, config.sideChannelHost(), config.sideChannelPort(),
                    metadata::encodePayload, config.engineId());
        } catch (RuntimeException e) {
            shutdown();
            throw e;
        }
    }

    /**
     * Starts an engine: UCX context, worker and memory, the progress thread, the side channel.
     *
     * @throws KvTransferException.UcxUnavailable when UCX cannot be loaded (install Debian's libucx0)
     */
    public static KvTransferEngine start(KvTransferConfig config) {
        ucxUnavailableReason().ifPresent(reason -> {
            throw new KvTransferException.UcxUnavailable(reason, null);
        });
        return new KvTransferEngine(config);
    }

    /**
     * Why UCX cannot be used on this machine (jucx's JNI glue failed to load or to initialise a context), or
     * empty when it can.
     */
    public static Optional<String> ucxUnavailableReason() {
        return UcxProbe.REASON;
    }

    private static final class UcxProbe {
        static final Optional<String> REASON = probe();

        private static Optional<String> probe() {
            try {
                new UcpContext(new UcpParams().requestRmaFeature().requestAmFeature()).close();
                return Optional.empty();
            } catch (Throwable t) {
                return Optional.of("UCX is not usable here (" + t + "). The transfer engine needs UCX's shared"
                        + " libraries (libucp.so.0 and friends) from Debian: apt-get install -y libucx0");
            }
        }
    }

    public String engineId() {
        return config.engineId();
    }

    public KvBlockLayout layout() {
        return layout;
    }

    /** This engine as decoders address it (engine id and side channel), e.g. for {@code kv_transfer_params}. */
    public RemoteEngine sideChannel() {
        return new RemoteEngine(config.engineId(), config.sideChannelHost(), handshakeServer.port());
    }

    public KvBlockAllocator allocator() {
        return allocator;
    }

    /** A read/write view of one block (position 0, limit = block bytes). Invalid after {@link #close()}. */
    public ByteBuffer block(int blockId) {
        if (closed.get()) {
            throw new KvTransferException.EngineClosed("engine " + engineId() + " is closed");
        }
        if (!layout.contains(blockId)) {
            throw new IllegalArgumentException("block " + blockId + " out of range [0, " + layout.numBlocks() + ")");
        }
        return UcxUtils.getByteBufferView(baseAddress + layout.offsetOf(blockId), layout.blockBytes());
    }

    public Resources resources() {
        return new Resources(endpoints.get(), remoteKeys.get(), inflightRequests.get(), activePulls.get(),
                peers.size(), allocator.pinnedRequests(), allocator.freeBlocks());
    }

    /**
     * Pulls blocks and notifies the remote engine; blocks until done.
     *
     * @throws KvTransferException.BadBlockIds     ids out of range, counts differ, repeated destination ids
     * @throws KvTransferException.HandshakeFailed the side channel did not answer, or answered wrongly
     * @throws KvTransferException.PeerFailed      UCX reported the remote engine failed or unreachable
     * @throws KvTransferException.PullTimedOut    the pull's deadline passed
     * @throws KvTransferException.EngineClosed    this engine was closed
     */
    public PullResult pull(PullRequest request) {
        if (loop.onLoopThread()) {
            throw new IllegalStateException("pull() called on the engine's progress thread; use pullAsync()");
        }
        Duration timeout = request.timeout().orElse(config.pullTimeout());
        // Handshake and submission on the calling thread: no hop through the caller pool.
        return await(submit(request, System.nanoTime()), timeout.plus(config.handshakeTimeout()).plusSeconds(10),
                "pull");
    }

    /** {@link #pull} without blocking: the future fails with the same exceptions. Dependent stages run on
     *  the engine's caller threads, never on the progress thread. */
    public CompletableFuture<PullResult> pullAsync(PullRequest request) {
        long start = System.nanoTime();
        CompletableFuture<PullResult> result;
        try {
            result = CompletableFuture.supplyAsync(() -> submit(request, start), callers)
                    .thenCompose(Function.identity());
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result = CompletableFuture.failedFuture(new KvTransferException.EngineClosed("engine " + engineId()
                    + " is closed"));
        }
        return result.thenApplyAsync(Function.identity(), callers);
    }

    /** Validates, handshakes if needed (blocking), hands the pull to the progress thread; the future completes
     *  on the progress thread. */
    private CompletableFuture<PullResult> submit(PullRequest request, long start) {
        CompletableFuture<PullResult> result = new CompletableFuture<>();
        try {
            if (closed.get()) {
                throw new KvTransferException.EngineClosed("engine " + engineId() + " is closed");
            }
            checkLocalIds(request);
            Duration timeout = request.timeout().orElse(config.pullTimeout());
            PeerLookup lookup = peer(request.remote());
            checkRemoteIds(request, lookup.peer().metadata);
            PullOp op = new PullOp(request, lookup.peer(), start, start + timeout.toNanos(), lookup.handshake(), result);
            loop.call(() -> {
                startOp(op);
                return null;
            }).whenComplete((ignored, failure) -> {
                if (failure != null) {
                    result.completeExceptionally(unwrap(failure));
                }
            });
        } catch (Throwable t) {
            result.completeExceptionally(unwrap(t));
        }
        return result;
    }

    private void checkLocalIds(PullRequest request) {
        List<Integer> remote = request.remoteBlockIds();
        List<Integer> local = request.localBlockIds();
        if (remote.size() != local.size()) {
            throw new KvTransferException.BadBlockIds("request '" + request.remoteRequestId() + "': "
                    + remote.size() + " remote block ids but " + local.size() + " local block ids");
        }
        Set<Integer> seen = new HashSet<>();
        for (int id : local) {
            if (!layout.contains(id)) {
                throw new KvTransferException.BadBlockIds("request '" + request.remoteRequestId() + "': local block "
                        + id + " out of range [0, " + layout.numBlocks() + ")");
            }
            if (!seen.add(id)) {
                throw new KvTransferException.BadBlockIds("request '" + request.remoteRequestId()
                        + "': local block " + id + " appears twice");
            }
        }
    }

    private static void checkRemoteIds(PullRequest request, EngineMetadata remote) {
        for (int id : request.remoteBlockIds()) {
            if (id < 0 || id >= remote.numBlocks()) {
                throw new KvTransferException.BadBlockIds("request '" + request.remoteRequestId() + "': remote block "
                        + id + " out of range [0, " + remote.numBlocks() + ") of engine " + request.remote().engineId());
            }
        }
    }

    // ---- peers (handshake cache) ----

    private final class Peer {
        final RemoteEngine remote;
        final EngineMetadata metadata;
        UcpEndpoint endpoint;
        UcpRemoteKey rkey;
        final Set<PullOp> ops = new HashSet<>();
        boolean failed;
        boolean closeGracefully;
        String failure = "";
        int failureStatus;

        Peer(RemoteEngine remote, EngineMetadata metadata) {
            this.remote = remote;
            this.metadata = metadata;
        }
    }

    private record PeerLookup(Peer peer, boolean handshake) {
    }

    private PeerLookup peer(RemoteEngine remote) {
        CompletableFuture<Peer> mine = new CompletableFuture<>();
        CompletableFuture<Peer> existing = peers.putIfAbsent(remote.engineId(), mine);
        if (existing != null) {
            return new PeerLookup(await(existing, config.handshakeTimeout().plusSeconds(10), "handshake"), false);
        }
        try {
            EngineMetadata metadata = handshakeClient.fetch(remote);
            Peer peer = await(loop.call(() -> connect(remote, metadata)), Duration.ofSeconds(10), "connecting");
            mine.complete(peer);
            return new PeerLookup(peer, true);
        } catch (RuntimeException e) {
            peers.remove(remote.engineId(), mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private Peer connect(RemoteEngine remote, EngineMetadata metadata) {
        if (closed.get()) {
            throw new KvTransferException.EngineClosed("engine " + engineId() + " is closed");
        }
        Peer peer = new Peer(remote, metadata);
        UcpEndpointParams params = new UcpEndpointParams().setUcpAddress(direct(metadata.workerAddress()))
                .setName("kv-" + remote.engineId());
        if (config.peerFailureDetection()) {
            params.setPeerErrorHandlingMode()
                    .setErrorHandler((ep, status, message) -> invalidate(peer, status, "UCX endpoint error: " + message));
        }
        try {
            peer.endpoint = worker.newEndpoint(params);
        } catch (RuntimeException e) {
            throw new KvTransferException.HandshakeFailed("cannot reach engine " + remote + " over UCX: "
                    + e.getMessage() + " (transports " + config.transports().orElse("UCX default/UCX_TLS")
                    + ", peer-failure-detection " + config.peerFailureDetection() + ")", e);
        }
        endpoints.incrementAndGet();
        try {
            peer.rkey = peer.endpoint.unpackRemoteKey(direct(metadata.remoteKey()));
        } catch (RuntimeException e) {
            closeEndpoint(peer);
            throw new KvTransferException.HandshakeFailed("engine " + remote + ": its memory key does not unpack: "
                    + e.getMessage(), e);
        }
        remoteKeys.incrementAndGet();
        return peer;
    }

    /** On the progress thread: marks the peer failed, drops it from the cache, closes its endpoint and rkey;
     *  its pulls fail as their requests complete (or after a grace period). */
    private void invalidate(Peer peer, int status, String why) {
        if (peer.failed) {
            return;
        }
        peer.failed = true;
        peer.failure = why;
        peer.failureStatus = status;
        peers.computeIfPresent(peer.remote.engineId(), (id, f) -> f.getNow(null) == peer ? null : f);
        LOG.log(Level.WARNING, () -> "engine " + engineId() + ": remote engine " + peer.remote + " dropped: " + why);
        long now = System.nanoTime();
        for (PullOp op : peer.ops) {
            op.fail(status, why, now);
        }
        // Closed from tick(), never here: this often runs inside a UCX callback of the same endpoint (a flush
        // completion, the error handler), and closing an endpoint from there aborted the process.
        toClose.add(peer);
    }

    private void closeEndpoint(Peer peer) {
        if (peer.endpoint == null) {
            return;
        }
        UcpRequest request = null;
        if (peer.endpoint != null) {
            try {
                // Force only for a failed peer: force-closing a live peer's endpoint with gets in flight left
                // replies pending on the peer's side, and UCX 1.13 then aborted in that worker's destroy
                // (assertion in self.c via uct_tcp_ep_pending_purge).
                request = config.peerFailureDetection() && !peer.closeGracefully ? peer.endpoint.closeNonBlockingForce()
                        : peer.endpoint.closeNonBlockingFlush();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "closing endpoint", e);
            }
        }
        closing.add(new ClosingEndpoint(request, peer.rkey, System.nanoTime() + CLOSE_EP_NANOS));
        peer.endpoint = null;
        peer.rkey = null;
    }

    private record ClosingEndpoint(UcpRequest request, UcpRemoteKey rkey, long deadline) {
    }

    // ---- pulls, on the progress thread ----

    private final class PullOp {
        final PullRequest request;
        final Peer peer;
        final long start;
        final long deadline;
        final boolean handshake;
        final CompletableFuture<PullResult> result;
        int runsTotal;
        int runsDone;
        int blocksDone;
        long bytes;
        int gets;
        List<Run> runs = List.of();
        int nextRun;
        int getsInFlight;
        long bytesInFlight;
        boolean posting;
        boolean notifying;
        boolean finished;
        boolean timedOut;
        String error;
        int errorStatus;
        long graceDeadline = Long.MAX_VALUE;
        ByteBuffer notification;

        PullOp(PullRequest request, Peer peer, long start, long deadline, boolean handshake,
               CompletableFuture<PullResult> result) {
            this.request = request;
            this.peer = peer;
            this.start = start;
            this.deadline = deadline;
            this.handshake = handshake;
            this.result = result;
        }

        void fail(int status, String why, long now) {
            if (error == null) {
                error = why;
                errorStatus = status;
            }
            graceDeadline = Math.min(graceDeadline, now + FAILED_OP_GRACE_NANOS);
        }

        String describe() {
            return "pull of " + request.remoteBlockIds().size() + " blocks for request '" + request.remoteRequestId()
                    + "' from engine " + request.remote();
        }
    }

    private record Run(int remoteBlock, int localBlock, int blocks) {
    }

    /** Consecutive pairs whose remote and local ids both go up by one are one get. */
    static List<int[]> coalesce(List<Integer> remote, List<Integer> local) {
        List<int[]> runs = new ArrayList<>();
        int i = 0;
        while (i < remote.size()) {
            int j = i + 1;
            while (j < remote.size() && remote.get(j) == remote.get(j - 1) + 1 && local.get(j) == local.get(j - 1) + 1) {
                j++;
            }
            runs.add(new int[] {remote.get(i), local.get(i), j - i});
            i = j;
        }
        return runs;
    }

    private void startOp(PullOp op) {
        activePulls.incrementAndGet();
        activeOps.add(op);
        op.peer.ops.add(op);
        if (closed.get()) {
            op.fail(0, "engine " + engineId() + " is closed", System.nanoTime());
            finish(op);
            return;
        }
        if (op.peer.failed) {
            op.fail(op.peer.failureStatus, op.peer.failure, System.nanoTime());
            finish(op);
            return;
        }
        List<Run> runs = new ArrayList<>();
        for (int[] r : coalesce(op.request.remoteBlockIds(), op.request.localBlockIds())) {
            runs.add(new Run(r[0], r[1], r[2]));
        }
        op.runs = runs;
        op.runsTotal = runs.size();
        postGets(op);
        checkDone(op);
    }

    /**
     * Posts gets while fewer than {@value #WINDOW_GETS} gets and {@value #WINDOW_BYTES} bytes of this pull
     * are in flight; each completion posts more. The window bounds what a failure mid-pull leaves in flight
     * (the rest is never posted). One request and callback per get: implicit gets closed by an endpoint flush
     * were cheaper, but UCX 1.13's TCP transport then aborted the process (assertion
     * {@code UCT_TCP_EP_FLAG_PUT_TX_WAITING_ACK} in tcp_ep.c) when a peer failed.
     */
    private void postGets(PullOp op) {
        if (op.posting) {
            return;
        }
        op.posting = true;
        int blockBytes = layout.blockBytes();
        while (op.nextRun < op.runs.size() && !op.finished
                && op.getsInFlight < WINDOW_GETS && op.bytesInFlight < WINDOW_BYTES) {
            if (op.error != null || op.peer.failed || op.peer.endpoint == null) {
                op.fail(op.peer.failureStatus, op.peer.failed ? op.peer.failure : "endpoint closed", System.nanoTime());
                op.runsDone += op.runs.size() - op.nextRun;
                op.nextRun = op.runs.size();
                break;
            }
            Run run = op.runs.get(op.nextRun++);
            long length = (long) run.blocks() * blockBytes;
            long remoteAddress = op.peer.metadata.baseAddress() + (long) run.remoteBlock() * blockBytes;
            long localAddress = baseAddress + layout.offsetOf(run.localBlock());
            inflightRequests.incrementAndGet();
            op.getsInFlight++;
            op.bytesInFlight += length;
            // jucx can both call onError and throw for one get (posting on a failed endpoint): count it once.
            boolean[] counted = {false};
            Runnable done = () -> {
                if (!counted[0]) {
                    counted[0] = true;
                    getDone(op, length);
                }
            };
            try {
                op.peer.endpoint.getNonBlocking(remoteAddress, op.peer.rkey, localAddress, length, new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest request) {
                        done.run();
                        op.blocksDone += run.blocks();
                        op.bytes += length;
                        op.request.progress().ifPresent(listener -> {
                            try {
                                listener.blocksDone(op.blocksDone, op.request.remoteBlockIds().size());
                            } catch (RuntimeException e) {
                                LOG.log(Level.WARNING, "pull progress listener failed", e);
                            }
                        });
                        postGets(op);
                        checkDone(op);
                    }

                    @Override
                    public void onError(int status, String message) {
                        done.run();
                        op.fail(status, "RMA get failed: " + message, System.nanoTime());
                        postGets(op);
                        checkDone(op);
                    }
                });
                op.gets++;
            } catch (RuntimeException e) {
                done.run();
                op.fail(0, "RMA get could not be posted: " + e.getMessage(), System.nanoTime());
            }
        }
        op.posting = false;
    }

    private void getDone(PullOp op, long length) {
        inflightRequests.decrementAndGet();
        op.getsInFlight--;
        op.bytesInFlight -= length;
        op.runsDone++;
    }

    /** Per pull: gets in flight at most, and bytes in flight at most (a get of a larger run goes alone). */
    static final int WINDOW_GETS = 64;
    static final long WINDOW_BYTES = 64L << 20;

    private void checkDone(PullOp op) {
        if (op.finished || op.posting || op.notifying) {
            return;
        }
        if (!op.timedOut && op.error == null && System.nanoTime() - op.deadline > 0) {
            // Checked here too, not only in tick(): completions that arrive together would otherwise finish
            // a pull that is already late.
            op.timedOut = true;
            op.fail(0, "timed out", System.nanoTime());
        }
        if (op.runsDone < op.runsTotal) {
            return;
        }
        if (op.error != null || op.timedOut) {
            if (op.error != null && !op.timedOut) {
                invalidate(op.peer, op.errorStatus, op.error);
            }
            finish(op);
            return;
        }
        op.notifying = true;
        byte[] message = new Notification(op.request.remoteRequestId(), op.request.consumers()).encode();
        op.notification = ByteBuffer.allocateDirect(message.length).put(message).flip();
        inflightRequests.incrementAndGet();
        try {
            op.peer.endpoint.sendAmNonBlocking(NOTIFY_AM_ID, 0, 0, UcxUtils.getAddress(op.notification), message.length,
                    0, new UcxCallback() {
                        @Override
                        public void onSuccess(UcpRequest request) {
                            inflightRequests.decrementAndGet();
                            finish(op);
                        }

                        @Override
                        public void onError(int status, String message) {
                            inflightRequests.decrementAndGet();
                            op.fail(status, "blocks pulled, but the notification failed: " + message, System.nanoTime());
                            invalidate(op.peer, status, op.error);
                            finish(op);
                        }
                    });
        } catch (RuntimeException e) {
            inflightRequests.decrementAndGet();
            op.fail(0, "blocks pulled, but the notification could not be sent: " + e.getMessage(), System.nanoTime());
            invalidate(op.peer, 0, op.error);
            finish(op);
        }
    }

    private void finish(PullOp op) {
        if (op.finished) {
            return;
        }
        op.finished = true;
        activeOps.remove(op);
        op.peer.ops.remove(op);
        activePulls.decrementAndGet();
        if (op.timedOut) {
            op.result.completeExceptionally(new KvTransferException.PullTimedOut(op.describe() + " did not complete within "
                    + op.request.timeout().orElse(config.pullTimeout()) + " (" + op.blocksDone + " blocks done)"));
        } else if (op.error != null) {
            op.result.completeExceptionally(closed.get() && op.errorStatus == 0 && op.error.contains("is closed")
                    ? new KvTransferException.EngineClosed(op.describe() + ": " + op.error)
                    : new KvTransferException.PeerFailed(op.describe() + " failed after " + op.blocksDone
                            + " blocks: " + op.error, op.errorStatus));
        } else {
            op.result.complete(new PullResult(op.bytes, op.blocksDone, op.gets, op.handshake,
                    Duration.ofNanos(System.nanoTime() - op.start)));
        }
    }

    private void tick() {
        if (activeOps.isEmpty() && closing.isEmpty() && toClose.isEmpty()) {
            return;
        }
        for (Peer peer : List.copyOf(toClose)) {
            closeEndpoint(peer);
        }
        toClose.clear();
        long now = System.nanoTime();
        for (PullOp op : List.copyOf(activeOps)) {
            if (!op.finished && !op.timedOut && now - op.deadline > 0) {
                // A late pull posts nothing more and fails once its gets in flight have landed; the endpoint
                // stays (closing it with gets in flight left the peer's replies pending, and UCX 1.13 then
                // crashed in that peer's worker destroy, in ucp_mem_rereg_mds via uct_tcp_ep_pending_purge).
                op.timedOut = true;
                op.fail(0, "timed out", now);
            }
            if (!op.finished && now - op.graceDeadline > 0) {
                LOG.warning(() -> op.describe() + ": " + (op.runsTotal - op.runsDone)
                        + " gets still unanswered " + FAILED_OP_GRACE_NANOS / 1_000_000_000
                        + " s after the pull failed; dropping the engine");
                invalidate(op.peer, op.errorStatus, op.error == null ? "gets unanswered" : op.error);
                finish(op);
            }
        }
        for (var it = closing.iterator(); it.hasNext(); ) {
            ClosingEndpoint c = it.next();
            if (c.request() == null || c.request().isCompleted() || now - c.deadline() > 0) {
                if (c.rkey() != null) {
                    c.rkey().close();
                    remoteKeys.decrementAndGet();
                }
                endpoints.decrementAndGet();
                it.remove();
            }
        }
    }

    private void progressFailed(Exception e) {
        // Only endpoints without peer error handling report failures here, with no owner: drop every peer
        // with pulls in flight.
        LOG.log(Level.WARNING, "engine " + engineId() + ": UCX progress reported an error", e);
        for (PullOp op : List.copyOf(activeOps)) {
            invalidate(op.peer, 0, "UCX progress error: " + e.getMessage());
        }
    }

    private void onNotification(long address, long length) {
        if (address == 0 || length <= 0 || length > 64 * 1024) {
            LOG.warning(() -> "engine " + engineId() + ": ignored a notification of " + length + " bytes");
            return;
        }
        byte[] message = new byte[(int) length];
        UcxUtils.getByteBufferView(address, length).get(message);
        try {
            allocator.notified(Notification.decode(message));
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "engine " + engineId() + ": ignored a notification: " + e.getMessage());
        }
    }

    // ---- shutdown ----

    /** Fails pulls in flight ({@link KvTransferException.EngineClosed}), frees pinned blocks, closes endpoints,
     *  unmaps the memory, stops the threads. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        handshakeServer.close();
        shutdown();
    }

    private void shutdown() {
        closed.set(true);
        try {
            await(loop.call(() -> {
                long now = System.nanoTime();
                for (PullOp op : List.copyOf(activeOps)) {
                    op.fail(0, "engine " + engineId() + " is closed", now);
                    finish(op);
                }
                return null;
            }), Duration.ofSeconds(10), "closing");
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "closing", e);
        }
        try {
            loop.stop().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.WARNING, "engine " + engineId() + ": the UCX progress thread did not stop", e);
        }
        allocator.close();
        timer.shutdownNow();
        callers.shutdown();
        zmq.close();
    }

    /** On the progress thread, last: closes every endpoint (progressing until they finish, bounded), then
     *  the memory, worker and context. */
    private void releaseUcx() {
        for (CompletableFuture<Peer> f : List.copyOf(peers.values())) {
            Peer peer = f.getNow(null);
            if (peer != null && !peer.failed) {
                peer.failed = true;
                peer.closeGracefully = true;
                toClose.add(peer);
            }
        }
        peers.clear();
        tick();
        long deadline = System.nanoTime() + CLOSE_EP_NANOS;
        while (!closing.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                worker.progress();
            } catch (Exception e) {
                LOG.log(Level.FINE, "progress while closing", e);
            }
            tick();
        }
        for (ClosingEndpoint c : closing) {
            if (c.rkey() != null) {
                c.rkey().close();
                remoteKeys.decrementAndGet();
            }
            endpoints.decrementAndGet();
        }
        closing.clear();
        worker.removeAmRecvHandler(NOTIFY_AM_ID);
        memory.deregister();
        worker.close();
        context.close();
    }

    // ---- helpers ----

    private static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvTransferException.EngineClosed("interrupted while " + what);
        } catch (TimeoutException e) {
            throw new KvTransferException.PullTimedOut(what + " did not finish within " + timeout);
        } catch (ExecutionException | CompletionException | CancellationException e) {
            throw unwrap(e);
        }
    }

    private static RuntimeException unwrap(Throwable t) {
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }
}
