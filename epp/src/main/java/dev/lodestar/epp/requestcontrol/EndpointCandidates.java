package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.scheduling.Endpoint;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The endpoints a request may be scheduled on: the whole pool, or the part the proxy named in the subset
 * hint ({@code envoy.lb.subset_hint / x-gateway-destination-endpoint-subset}). As in GIE, entries are
 * matched by IP address only (the port is ignored), so every rank of a listed pod is a candidate; an
 * empty hint leaves no candidate.
 */
public final class EndpointCandidates {
    private final Datastore datastore;
    private final boolean disableSubsetFilter;

    public EndpointCandidates(Datastore datastore, boolean disableSubsetFilter) {
        this.datastore = datastore;
        this.disableSubsetFilter = disableSubsetFilter;
    }

    /**
     * @param subsetHint the hint's entries ({@code ip:port} or {@code ip}), empty when the proxy sent none
     */
    public List<Endpoint> locate(Optional<List<String>> subsetHint) {
        if (disableSubsetFilter || subsetHint.isEmpty()) {
            return datastore.snapshot();
        }
        Set<String> addresses = new HashSet<>();
        for (String entry : subsetHint.get()) {
            addresses.add(addressOf(entry.trim()));
        }
        List<Endpoint> candidates = new ArrayList<>();
        for (EndpointState state : datastore.endpoints()) {
            if (addresses.contains(state.metadata().address())) {
                candidates.add(state.snapshot());
            }
        }
        return candidates;
    }

    /** The address of {@code ip:port}, {@code [v6]:port}, {@code [v6]} or a bare IP. */
    static String addressOf(String entry) {
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            return close > 0 ? entry.substring(1, close) : entry;
        }
        int colon = entry.lastIndexOf(':');
        if (colon >= 0 && entry.indexOf(':') == colon) {
            return entry.substring(0, colon);
        }
        // A bare IPv6 address has several colons and no port.
        return entry;
    }
}
