package dev.lodestar.epp.spi;

import java.util.Map;
import java.util.Optional;

/**
 * Creates a {@link PoolSource} from the EPP's flags. Found with {@link java.util.ServiceLoader}, so a
 * module on the class path (e.g. controllers/, for Kubernetes) plugs in without the EPP depending on it.
 */
public interface PoolSourceProvider {
    /** A short name for messages, e.g. {@code kubernetes}. */
    String name();

    /**
     * A source when the flags ask for this provider (e.g. {@code pool-name} or {@code endpoint-selector}
     * for Kubernetes), else empty.
     *
     * @param flags every EPP flag by its name without dashes, as given on the command line or defaulted
     * @throws IllegalArgumentException when the flags are contradictory for this provider
     */
    Optional<PoolSource> create(Map<String, String> flags);
}
