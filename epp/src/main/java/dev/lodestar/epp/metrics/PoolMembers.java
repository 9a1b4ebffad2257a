package dev.lodestar.epp.metrics;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Where the pool gauges read the pool from, once per scrape. */
@FunctionalInterface
public interface PoolMembers {
    /** The pool's endpoints with their latest metrics, or empty while the pool is not known yet. */
    Optional<List<PoolMember>> current();

    /** A pool that is never known: the pool gauges report nothing. */
    PoolMembers NONE = Optional::empty;

    /** The datastore's endpoints, known once the datastore has synced. */
    static PoolMembers of(Datastore datastore) {
        Objects.requireNonNull(datastore, "datastore");
        return () -> {
            if (!datastore.synced()) {
                return Optional.empty();
            }
            List<EndpointState> endpoints = datastore.endpoints();
            List<PoolMember> members = new ArrayList<>(endpoints.size());
            for (EndpointState endpoint : endpoints) {
                members.add(new PoolMember(endpoint.metadata().key(), endpoint.metrics()));
            }
            return Optional.of(members);
        };
    }
}
