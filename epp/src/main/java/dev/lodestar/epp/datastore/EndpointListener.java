package dev.lodestar.epp.datastore;

/** Learns when endpoints join or leave the pool (e.g. to start and stop their scrapers). */
public interface EndpointListener {
    void endpointAdded(EndpointState endpoint);

    void endpointRemoved(EndpointState endpoint);
}
