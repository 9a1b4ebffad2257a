package dev.lodestar.kvconnector.sidecar;

import java.util.Set;

/**
 * Which prefill targets the sidecar may send to (SSRF protection): the header comes from the router, but a client
 * reaching the sidecar directly could name any host.
 */
@FunctionalInterface
public interface PrefillAllowlist {
    /** Whether {@code hostPort}'s host (any port) may receive a prefill leg. */
    boolean allows(String hostPort);

    /** No protection ({@code --enable-ssrf-protection=false}). */
    static PrefillAllowlist allowAll() {
        return hostPort -> true;
    }

    /** A fixed set of hosts (IPs or pod names). */
    static PrefillAllowlist of(Set<String> hosts) {
        Set<String> copy = Set.copyOf(hosts);
        return hostPort -> copy.contains(PrefillTargets.host(hostPort));
    }
}
