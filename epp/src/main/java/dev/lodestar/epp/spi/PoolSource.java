package dev.lodestar.epp.spi;

/**
 * Where the pool's endpoints, objectives and rewrites come from: a static list, a file, or Kubernetes.
 * Started once with the writer it feeds; closed at shutdown.
 */
public interface PoolSource extends AutoCloseable {
    /** Starts feeding {@code writer}; may return before the first sync and call {@link PoolWriter#markSynced()} later. */
    void start(PoolWriter writer) throws Exception;

    @Override
    void close();
}
