package dev.lodestar.epp.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.fail;

/** Bounded polling for things that happen on other threads (scrapes, file reloads). */
public final class Eventually {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private Eventually() {
    }

    /** Waits until {@code condition} holds, failing with {@code what} after {@link #DEFAULT_TIMEOUT}. */
    public static void await(String what, BooleanSupplier condition) {
        await(what, DEFAULT_TIMEOUT, condition);
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
    }
}
