package dev.lodestar.simulator;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/** UCX for the P/D tests: skip with the reason printed, or fail when {@code LODESTAR_REQUIRE_UCX=1} (CI). */
final class UcxRequirement {
    private UcxRequirement() {
    }

    static void requireUcx() {
        NixlKvTransfer.unavailableReason().ifPresent(reason -> {
            if ("1".equals(System.getenv("LODESTAR_REQUIRE_UCX"))) {
                fail("LODESTAR_REQUIRE_UCX=1, but " + reason);
            }
            System.out.println("SKIPPED (UCX tests): " + reason);
            Assumptions.abort(reason);
        });
    }
}
