package dev.lodestar.simulator;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * LoRA adapter slots of one server ({@code --max-loras}). An adapter must be loaded into a slot before
 * its requests run; loading takes {@code --lora-load-time}. When every slot is taken, an adapter with
 * no running request is unloaded (least recently used first) to make room; when every loaded adapter
 * is busy, requests for other adapters wait.
 *
 * <p>Not thread-safe: the engine calls it under its lock.
 */
final class LoraSlots {
    private final int maxLoras;
    private final long loadNanos;
    private final Map<String, Slot> slots = new HashMap<>();

    LoraSlots(int maxLoras, long loadNanos) {
        this.maxLoras = maxLoras;
        this.loadNanos = loadNanos;
    }

    int maxLoras() {
        return maxLoras;
    }

    /**
     * Whether {@code adapter} can run at {@code now}. Starts loading it when a slot can be had; the
     * returned {@link Readiness#readyAt()} says when to look again.
     */
    Readiness acquire(String adapter, long now, Map<String, Integer> runningPerAdapter) {
        Slot slot = slots.get(adapter);
        if (slot == null) {
            if (slots.size() >= maxLoras && !unloadIdle(now, runningPerAdapter)) {
                return Readiness.NO_SLOT;
            }
            slot = new Slot(now + loadNanos);
            slots.put(adapter, slot);
        }
        slot.lastUsed = now;
        if (slot.loadedAt > now) {
            return new Readiness(false, slot.loadedAt);
        }
        return Readiness.READY;
    }

    Set<String> loaded(long now) {
        Set<String> loaded = new TreeSet<>();
        slots.forEach((name, slot) -> {
            if (slot.loadedAt <= now) {
                loaded.add(name);
            }
        });
        return loaded;
    }

    private boolean unloadIdle(long now, Map<String, Integer> runningPerAdapter) {
        String victim = null;
        long oldest = Long.MAX_VALUE;
        for (Map.Entry<String, Slot> entry : slots.entrySet()) {
            // An adapter still loading is not idle: the requests that asked for it are waiting for it.
            boolean idle = entry.getValue().loadedAt <= now
                    && runningPerAdapter.getOrDefault(entry.getKey(), 0) == 0;
            if (idle && entry.getValue().lastUsed < oldest) {
                oldest = entry.getValue().lastUsed;
                victim = entry.getKey();
            }
        }
        if (victim == null) {
            return false;
        }
        slots.remove(victim);
        return true;
    }

    private static final class Slot {
        private final long loadedAt;
        private long lastUsed;

        private Slot(long loadedAt) {
            this.loadedAt = loadedAt;
        }
    }

    /**
     * Outcome of {@link #acquire}: ready now, loading until {@code readyAt}, or no slot
     * ({@code readyAt} = {@link Long#MAX_VALUE}: wait for a running request to end).
     */
    record Readiness(boolean ready, long readyAt) {
        static final Readiness READY = new Readiness(true, 0);
        static final Readiness NO_SLOT = new Readiness(false, Long.MAX_VALUE);
    }
}
