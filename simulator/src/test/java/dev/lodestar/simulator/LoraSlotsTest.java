package dev.lodestar.simulator;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LoraSlotsTest {
    @Test
    void anAdapterIsReadyOnlyAfterItsLoadTime() {
        LoraSlots slots = new LoraSlots(2, 100);
        LoraSlots.Readiness first = slots.acquire("a", 1_000, Map.of());
        assertThat(first.ready()).isFalse();
        assertThat(first.readyAt()).isEqualTo(1_100);
        assertThat(slots.acquire("a", 1_099, Map.of()).ready()).isFalse();
        assertThat(slots.acquire("a", 1_100, Map.of()).ready()).isTrue();
        assertThat(slots.loaded(1_100)).containsExactly("a");
    }

    @Test
    void aFullSetOfBusyAdaptersMakesOthersWait() {
        LoraSlots slots = new LoraSlots(1, 0);
        assertThat(slots.acquire("a", 0, Map.of()).ready()).isTrue();
        LoraSlots.Readiness b = slots.acquire("b", 1, Map.of("a", 1));
        assertThat(b).isEqualTo(LoraSlots.Readiness.NO_SLOT);
        assertThat(slots.acquire("b", 2, Map.of()).ready()).as("a is idle now and gets unloaded").isTrue();
        assertThat(slots.loaded(2)).containsExactly("b");
    }

    @Test
    void theLeastRecentlyUsedIdleAdapterIsUnloaded() {
        LoraSlots slots = new LoraSlots(2, 0);
        slots.acquire("a", 0, Map.of());
        slots.acquire("b", 1, Map.of());
        slots.acquire("a", 2, Map.of());
        assertThat(slots.acquire("c", 3, Map.of()).ready()).isTrue();
        assertThat(slots.loaded(3)).containsExactlyInAnyOrder("a", "c");
    }

    @Test
    void anAdapterStillLoadingIsNotUnloaded() {
        LoraSlots slots = new LoraSlots(1, 50);
        slots.acquire("a", 0, Map.of());
        assertThat(slots.acquire("b", 10, Map.of())).isEqualTo(LoraSlots.Readiness.NO_SLOT);
        assertThat(slots.acquire("a", 50, Map.of()).ready()).isTrue();
    }
}
