package dev.lodestar.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded polling: every wait of the e2e tests goes through here and ends in an AssertionError. */
public final class Wait {
    private static final long POLL_MILLIS = 50;

    private Wait() {
    }

    /** Polls {@code condition} until true; fails after {@code timeout} naming {@code what} and {@code state}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                last = null;
            } catch (RuntimeException e) {
                last = e; // not ready yet (e.g. connection refused); retried until the deadline
            }
            if (System.nanoTime() > deadline) {
                AssertionError error = new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for "
                        + what + (state == null ? "" : "; last state: " + safely(state)));
                if (last != null) {
                    error.initCause(last);
                }
                throw error;
            }
            sleep(POLL_MILLIS);
        }
    }

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition, null);
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String safely(Supplier<String> state) {
        try {
            return state.get();
        } catch (RuntimeException e) {
            return "(" + e + ")";
        }
    }
}
