package dev.lodestar.epp.framework.datalayer;

import java.util.Objects;

/**
 * An endpoint's identity: namespace and name, where the name is {@code <pod>-rank-<i>} (the pod serving
 * its i-th target port).
 */
public record EndpointKey(String namespace, String name) implements Comparable<EndpointKey> {
    public EndpointKey {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    /** The name GIE gives the endpoint of a pod's {@code rank}-th target port. */
    public static EndpointKey ofRank(String namespace, String podName, int rank) {
        return new EndpointKey(namespace, podName + "-rank-" + rank);
    }

    @Override
    public int compareTo(EndpointKey other) {
        int byNamespace = namespace.compareTo(other.namespace);
        return byNamespace != 0 ? byNamespace : name.compareTo(other.name);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
