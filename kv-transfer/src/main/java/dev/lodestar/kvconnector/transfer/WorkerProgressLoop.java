package dev.lodestar.kvconnector.transfer;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * The one thread that touches a UCX worker: it runs submitted tasks, calls {@code progress()}, and runs a
 * tick (deadlines, deferred closes). UCX callbacks run here too. While transfers are in flight (or events
 * arrived within the last {@value #SPIN_MICROS} µs) it polls without sleeping, since UCX's TCP RMA needs both
 * sides to progress; otherwise it parks up to {@value #IDLE_PARK_MICROS} µs at a time, and a submission wakes
 * it. (No UCX wakeup/eventfd: asking for it can exclude transports that lack it.)
 */
final class WorkerProgressLoop {

    private static final Logger LOG = Logger.getLogger(WorkerProgressLoop.class.getName());
    static final long SPIN_MICROS = 2_000;
    static final long IDLE_PARK_MICROS = 1_000;

    private final UcpWorker worker;
    private final ConcurrentLinkedQueue<Job> tasks = new ConcurrentLinkedQueue<>();
    private final BooleanSupplier busy;
    private final Runnable tick;
    private final Consumer<Exception> progressFailed;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean exited;

    private record Job(Runnable run, CompletableFuture<?> result) {
    }
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    WorkerProgressLoop(String name, UcpWorker worker, BooleanSupplier busy, Runnable tick,
                       Consumer<Exception> progressFailed, Runnable onExit) {
        this.worker = worker;
        this.busy = busy;
        this.tick = tick;
        this.progressFailed = progressFailed;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(() -> run(onExit));
        thread.start();
    }

    boolean onLoopThread() {
        return Thread.currentThread() == thread;
    }

    /** Runs the task on the loop thread; the future fails if the task throws or the loop has stopped. */
    <T> CompletableFuture<T> call(Callable<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (stopping) {
            result.completeExceptionally(new KvTransferException.EngineClosed("engine closed"));
            return result;
        }
        tasks.add(new Job(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, result));
        if (exited) {
            failPending();
        }
        LockSupport.unpark(thread);
        return result;
    }

    /** Stops after running the tasks already submitted; {@code onExit} runs last on the loop thread. */
    CompletableFuture<Void> stop() {
        stopping = true;
        LockSupport.unpark(thread);
        return stopped;
    }

    private void failPending() {
        Job job;
        while ((job = tasks.poll()) != null) {
            job.result().completeExceptionally(new KvTransferException.EngineClosed("engine closed"));
        }
    }

    private void run(Runnable onExit) {
        long lastEvent = System.nanoTime();
        try {
            while (!stopping || !tasks.isEmpty()) {
                Job job;
                boolean didWork = false;
                while ((job = tasks.poll()) != null) {
                    job.run().run();
                    didWork = true;
                }
                try {
                    while (worker.progress() != 0) {
                        didWork = true;
                    }
                } catch (Exception e) {
                    progressFailed.accept(e);
                }
                tick.run();
                long now = System.nanoTime();
                if (didWork) {
                    lastEvent = now;
                } else if (busy.getAsBoolean() || now - lastEvent < TimeUnit.MICROSECONDS.toNanos(SPIN_MICROS)) {
                    // yield, not onSpinWait: on a small, busy machine the thread waiting for our result may
                    // need this core.
                    Thread.yield();
                } else if (tasks.isEmpty() && !stopping) {
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(IDLE_PARK_MICROS));
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.SEVERE, "UCX progress loop " + thread.getName() + " failed", t);
        } finally {
            stopping = true;
            Job job;
            while ((job = tasks.poll()) != null) {
                job.run().run();
            }
            try {
                onExit.run();
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "closing UCX resources failed", t);
            }
            exited = true;
            failPending();
            stopped.complete(null);
        }
    }
}
