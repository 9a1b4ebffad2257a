package dev.lodestar.kvconnector.transfer;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;

/** UCX availability for tests: skip with a printed reason, or fail when {@value #REQUIRED_ENV}=1 (CI). */
final class UcxTestSupport {

    static final String REQUIRED_ENV = "LODESTAR_REQUIRE_UCX";

    private UcxTestSupport() {
    }

    static void requireUcx() {
        KvTransferEngine.ucxUnavailableReason().ifPresent(reason -> {
            if ("1".equals(System.getenv(REQUIRED_ENV))) {
                fail(REQUIRED_ENV + "=1, but " + reason);
            }
            System.out.println("SKIPPED (UCX tests): " + reason);
            Assumptions.abort(reason);
        });
    }

    /** Polls a condition that another thread makes true (a release, an endpoint close), bounded. */
    static void eventually(String what, BooleanSupplier condition) {
        eventually(() -> what, condition);
    }

    static void eventually(java.util.function.Supplier<String> what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within 15 s: " + what.get());
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
