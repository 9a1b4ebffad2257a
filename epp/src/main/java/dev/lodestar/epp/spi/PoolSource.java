package dev.lodestar.epp.spi;

import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Where the pool's endpoints, objectives and rewrites come from: a static list, a file, or Kubernetes.
 * Started once with the writer it feeds; closed at shutdown.
 */
public interface PoolSource extends AutoCloseable {
    /** Starts feeding {@code writer}; may return before the first sync and call {@link PoolWriter#markSynced()} later. */
    void start(PoolWriter writer) throws Exception;

    /**
     * With leader election ({@code --ha-enable-leader-election}), whether this replica leads now: only the leader
     * reports ready. Empty for sources that cannot elect a leader.
     */
    default Optional<BooleanSupplier> leadership() {
        return Optional.empty();
    }

    @Override
    void close();
}
