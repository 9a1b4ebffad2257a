package dev.lodestar.controllers.testing;

import java.time.Duration;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Waiting for an informer-fed value to reach what a test expects. */
public final class Eventually {
    private Eventually() {
    }

    /** Polls {@code actual} every 25 ms until it equals {@code expected}; fails with {@code what} after {@code wait}. */
    public static <T> void assertEquals(String what, T expected, Supplier<T> actual, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!expected.equals(actual.get())) {
            if (System.nanoTime() > deadline) {
                assertThat(actual.get()).as(what).isEqualTo(expected);
            }
            Thread.sleep(25);
        }
    }
}
