package dev.lodestar.epp.framework.datalayer;

import java.time.Instant;
import java.util.Map;

/**
 * One scrape of a model server, as GIE's {@code Metrics}: queue, running requests, KV-cache use, LoRA
 * adapters and cache geometry. Immutable; scrapers replace it as a whole.
 *
 * @param waitingQueueSize        requests waiting
 * @param runningRequestsSize     requests running
 * @param kvCacheUsagePercent     KV-cache use, 0..1
 * @param activeModels            LoRA adapters running (name -> count; the count is unused, 0)
 * @param waitingModels           LoRA adapters waiting
 * @param maxActiveModels         LoRA slots ({@code max_lora}); 0 when unknown
 * @param kvCacheMaxTokenCapacity block size x blocks, 0 when unknown
 * @param cacheBlockSize          tokens per KV block, 0 when unknown
 * @param cacheNumBlocks          KV blocks, 0 when unknown
 * @param updateTime              when the scrape finished; {@link Instant#EPOCH} when never scraped
 */
public record EndpointMetrics(int waitingQueueSize, int runningRequestsSize, double kvCacheUsagePercent,
                              Map<String, Integer> activeModels, Map<String, Integer> waitingModels,
                              int maxActiveModels, int kvCacheMaxTokenCapacity, int cacheBlockSize,
                              int cacheNumBlocks, Instant updateTime) {
    /** Metrics of an endpoint that was never scraped. */
    public static final EndpointMetrics EMPTY =
            new EndpointMetrics(0, 0, 0, Map.of(), Map.of(), 0, 0, 0, 0, Instant.EPOCH);

    public EndpointMetrics {
        activeModels = activeModels == null ? Map.of() : Map.copyOf(activeModels);
        waitingModels = waitingModels == null ? Map.of() : Map.copyOf(waitingModels);
        updateTime = updateTime == null ? Instant.EPOCH : updateTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().waitingQueueSize(waitingQueueSize).runningRequestsSize(runningRequestsSize)
                .kvCacheUsagePercent(kvCacheUsagePercent).activeModels(activeModels).waitingModels(waitingModels)
                .maxActiveModels(maxActiveModels).kvCacheMaxTokenCapacity(kvCacheMaxTokenCapacity)
                .cacheBlockSize(cacheBlockSize).cacheNumBlocks(cacheNumBlocks).updateTime(updateTime);
    }

    /** Fluent builder; unset fields are 0, empty or {@link Instant#EPOCH}. */
    public static final class Builder {
        private int waitingQueueSize;
        private int runningRequestsSize;
        private double kvCacheUsagePercent;
        private Map<String, Integer> activeModels = Map.of();
        private Map<String, Integer> waitingModels = Map.of();
        private int maxActiveModels;
        private int kvCacheMaxTokenCapacity;
        private int cacheBlockSize;
        private int cacheNumBlocks;
        private Instant updateTime = Instant.EPOCH;

        private Builder() {
        }

        public Builder waitingQueueSize(int value) {
            waitingQueueSize = value;
            return this;
        }

        public Builder runningRequestsSize(int value) {
            runningRequestsSize = value;
            return this;
        }

        public Builder kvCacheUsagePercent(double value) {
            kvCacheUsagePercent = value;
            return this;
        }

        public Builder activeModels(Map<String, Integer> value) {
            activeModels = value;
            return this;
        }

        public Builder waitingModels(Map<String, Integer> value) {
            waitingModels = value;
            return this;
        }

        public Builder maxActiveModels(int value) {
            maxActiveModels = value;
            return this;
        }

        public Builder kvCacheMaxTokenCapacity(int value) {
            kvCacheMaxTokenCapacity = value;
            return this;
        }

        public Builder cacheBlockSize(int value) {
            cacheBlockSize = value;
            return this;
        }

        public Builder cacheNumBlocks(int value) {
            cacheNumBlocks = value;
            return this;
        }

        public Builder updateTime(Instant value) {
            updateTime = value;
            return this;
        }

        public EndpointMetrics build() {
            return new EndpointMetrics(waitingQueueSize, runningRequestsSize, kvCacheUsagePercent, activeModels,
                    waitingModels, maxActiveModels, kvCacheMaxTokenCapacity, cacheBlockSize, cacheNumBlocks,
                    updateTime);
        }
    }
}
