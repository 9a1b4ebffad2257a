package dev.lodestar.controllers;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The endpoints of one pod, as GIE's datastore derives them: one per active target port, named
 * {@code <pod>-rank-<index of the port in targetPorts>}, scraped at {@code podIP:port} (or at the deprecated
 * {@code --model-server-metrics-port} when the pool has a single target port).
 */
public final class PodEndpoints {
    /** Restricts which of the pool's target ports a pod serves: {@code "8000,8001"}. */
    public static final String ACTIVE_PORTS_ANNOTATION = "inference.networking.k8s.io/active-ports";

    private PodEndpoints() {
    }

    /**
     * @param pod               the pod; none when it is not routable
     * @param targetPorts       the pool's target ports, in order (their index is the rank)
     * @param metricsPortOverride the deprecated {@code --model-server-metrics-port}, 0 when unset
     */
    public static List<EndpointMetadata> of(PodView pod, List<Integer> targetPorts, int metricsPortOverride) {
        if (!pod.routable()) {
            return List.of();
        }
        Set<Integer> active = activePorts(pod, targetPorts);
        String host = pod.podIp().indexOf(':') >= 0 ? "[" + pod.podIp() + "]" : pod.podIp();
        List<EndpointMetadata> endpoints = new ArrayList<>(active.size());
        for (int rank = 0; rank < targetPorts.size(); rank++) {
            int port = targetPorts.get(rank);
            if (!active.contains(port)) {
                continue;
            }
            int metricsPort = targetPorts.size() == 1 && metricsPortOverride > 0 ? metricsPortOverride : port;
            endpoints.add(new EndpointMetadata(EndpointKey.ofRank(pod.namespace(), pod.name(), rank), pod.name(),
                    pod.podIp(), port, host + ":" + metricsPort, pod.labels()));
        }
        return endpoints;
    }

    /**
     * The target ports the pod's annotation keeps (entries that are no positive number or not a target port are
     * skipped, as upstream); all of them without the annotation.
     */
    static Set<Integer> activePorts(PodView pod, List<Integer> targetPorts) {
        String annotation = pod.annotations().get(ACTIVE_PORTS_ANNOTATION);
        if (annotation == null) {
            return new LinkedHashSet<>(targetPorts);
        }
        Set<Integer> active = new LinkedHashSet<>();
        for (String entry : annotation.split(",")) {
            Integer port = leadingNumber(entry.strip());
            if (port != null && port > 0 && targetPorts.contains(port)) {
                active.add(port);
            }
        }
        return active;
    }

    /** Go's {@code Sscanf("%d")}: an optional sign and the digits at the start; trailing text is ignored. */
    private static Integer leadingNumber(String text) {
        int end = 0;
        if (end < text.length() && (text.charAt(end) == '+' || text.charAt(end) == '-')) {
            end++;
        }
        int digitsStart = end;
        while (end < text.length() && Character.isDigit(text.charAt(end)) && end - digitsStart < 10) {
            end++;
        }
        if (end == digitsStart) {
            return null;
        }
        try {
            return Integer.parseInt(text.substring(0, end));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
