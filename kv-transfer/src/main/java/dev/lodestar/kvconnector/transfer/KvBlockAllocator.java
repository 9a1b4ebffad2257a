package dev.lodestar.kvconnector.transfer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands out an engine's blocks and holds a finished prefill request's blocks ("pinned" under its request id)
 * until the decode side has pulled them: its notification(s) release them, or the pin timeout does (vLLM's
 * {@code VLLM_NIXL_ABORT_REQUEST_TIMEOUT}, 480 s by default). Thread-safe (one lock).
 */
public final class KvBlockAllocator {

    private static final Logger LOG = Logger.getLogger(KvBlockAllocator.class.getName());

    /** Why a pinned request's blocks were freed. */
    public enum Release {
        /** The expected number of notifications arrived. */
        NOTIFIED,
        /** No (or not enough) notifications before the pin timeout. */
        TIMED_OUT,
        /** The engine was closed. */
        ENGINE_CLOSED
    }

    private final int numBlocks;
    private final Duration pinTimeout;
    private final ScheduledExecutorService timer;
    private final BitSet used;
    private final Map<String, Pin> pins = new HashMap<>();
    private boolean closed;

    private static final class Pin {
        final List<Integer> blocks;
        final int expected;
        final CompletableFuture<Release> released = new CompletableFuture<>();
        int notified;
        ScheduledFuture<?> timeout;

        Pin(List<Integer> blocks, int expected) {
            this.blocks = blocks;
            this.expected = expected;
        }
    }

    KvBlockAllocator(int numBlocks, Duration pinTimeout, ScheduledExecutorService timer) {
        this.numBlocks = numBlocks;
        this.pinTimeout = pinTimeout;
        this.timer = timer;
        this.used = new BitSet(numBlocks);
    }

    /** Takes {@code count} free blocks (lowest ids first). */
    public synchronized List<Integer> allocate(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("block count must be >= 0, got " + count);
        }
        if (closed) {
            throw new KvTransferException.EngineClosed("allocator closed");
        }
        int free = numBlocks - used.cardinality();
        if (count > free) {
            throw new IllegalStateException("need " + count + " blocks, " + free + " of " + numBlocks + " are free");
        }
        List<Integer> ids = new ArrayList<>(count);
        for (int id = used.nextClearBit(0); ids.size() < count; id = used.nextClearBit(id + 1)) {
            used.set(id);
            ids.add(id);
        }
        return List.copyOf(ids);
    }

    /** Returns blocks that are allocated and not pinned. */
    public synchronized void free(List<Integer> blockIds) {
        for (int id : blockIds) {
            if (id < 0 || id >= numBlocks || !used.get(id)) {
                throw new IllegalArgumentException("block " + id + " is not allocated");
            }
        }
        for (Pin pin : pins.values()) {
            for (int id : blockIds) {
                if (pin.blocks.contains(id)) {
                    throw new IllegalArgumentException("block " + id + " is pinned; it is freed by its release");
                }
            }
        }
        blockIds.forEach(used::clear);
    }

    /**
     * Pins allocated blocks under a prefill request id until {@code expectedNotifications} notifications for
     * it arrive or the pin timeout passes; either frees them. The future completes (on the notifying or timer
     * thread) once they are free.
     */
    public synchronized CompletableFuture<Release> pin(String requestId, List<Integer> blockIds,
                                                       int expectedNotifications) {
        if (closed) {
            throw new KvTransferException.EngineClosed("allocator closed");
        }
        if (expectedNotifications < 1) {
            throw new IllegalArgumentException("expected notifications must be >= 1");
        }
        if (pins.containsKey(requestId)) {
            throw new IllegalArgumentException("request '" + requestId + "' is already pinned");
        }
        for (int id : blockIds) {
            if (id < 0 || id >= numBlocks || !used.get(id)) {
                throw new IllegalArgumentException("block " + id + " is not allocated");
            }
        }
        Pin pin = new Pin(List.copyOf(blockIds), expectedNotifications);
        pins.put(requestId, pin);
        pin.timeout = timer.schedule(() -> release(requestId, pin, Release.TIMED_OUT),
                pinTimeout.toNanos(), TimeUnit.NANOSECONDS);
        return pin.released.copy();
    }

    /** {@link #pin(String, List, int)} with one expected notification. */
    public CompletableFuture<Release> pin(String requestId, List<Integer> blockIds) {
        return pin(requestId, blockIds, 1);
    }

    /** The blocks pinned under a request id, if it is pinned. */
    public synchronized java.util.Optional<List<Integer>> pinned(String requestId) {
        Pin pin = pins.get(requestId);
        return pin == null ? java.util.Optional.empty() : java.util.Optional.of(pin.blocks);
    }

    public synchronized int pinnedRequests() {
        return pins.size();
    }

    public synchronized int freeBlocks() {
        return numBlocks - used.cardinality();
    }

    /** Counts a notification; frees the request's blocks when enough have arrived. Unknown ids are logged:
     *  the pin may have timed out already, or the id is wrong. */
    void notified(Notification notification) {
        Pin pin;
        boolean done;
        synchronized (this) {
            pin = pins.get(notification.requestId());
            if (pin == null) {
                LOG.warning(() -> "notification for request '" + notification.requestId()
                        + "', which is not pinned (released already, or unknown); ignored");
                return;
            }
            pin.notified++;
            done = pin.notified >= Math.max(pin.expected, notification.consumers());
        }
        if (done) {
            release(notification.requestId(), pin, Release.NOTIFIED);
        }
    }

    private void release(String requestId, Pin pin, Release why) {
        synchronized (this) {
            if (pins.get(requestId) != pin) {
                return;
            }
            pins.remove(requestId);
            pin.blocks.forEach(used::clear);
            pin.timeout.cancel(false);
        }
        if (why == Release.TIMED_OUT) {
            LOG.log(Level.INFO, () -> "request '" + requestId + "': " + pin.blocks.size()
                    + " pinned blocks freed after the pin timeout (" + pinTimeout + ") with " + pin.notified
                    + " of " + pin.expected + " notifications");
        }
        pin.released.complete(why);
    }

    void close() {
        List<Map.Entry<String, Pin>> open;
        synchronized (this) {
            closed = true;
            open = List.copyOf(pins.entrySet());
        }
        open.forEach(e -> release(e.getKey(), e.getValue(), Release.ENGINE_CLOSED));
    }
}
