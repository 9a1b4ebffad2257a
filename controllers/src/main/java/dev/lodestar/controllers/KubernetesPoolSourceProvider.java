package dev.lodestar.controllers;

import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolSourceProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The Kubernetes pool source, found by the EPP through {@link java.util.ServiceLoader}: {@code --pool-name}
 * (InferencePool mode) or {@code --endpoint-selector} (standalone mode, no CRDs). The client is configured as
 * {@code kubectl} would be: in-cluster service account, else {@code $KUBECONFIG} / {@code ~/.kube/config}.
 */
public final class KubernetesPoolSourceProvider implements PoolSourceProvider {
    @Override
    public String name() {
        return "kubernetes";
    }

    @Override
    public Optional<PoolSource> create(Map<String, String> flags) {
        return create(flags, () -> new KubernetesClientBuilder().build(), System.getenv());
    }

    Optional<PoolSource> create(Map<String, String> flags, java.util.function.Supplier<KubernetesClient> clients,
                                Map<String, String> env) {
        String poolName = flags.getOrDefault("pool-name", "");
        String selector = flags.getOrDefault("endpoint-selector", "");
        if (poolName.isEmpty() && selector.isEmpty()) {
            return Optional.empty();
        }
        String namespace = namespace(flags, env);
        PoolTarget target = poolName.isEmpty()
                ? new PoolTarget.Selector(namespace, labels(selector), ports(flags.getOrDefault("endpoint-target-ports", "")))
                : new PoolTarget.Pool(namespace, poolName,
                flags.getOrDefault("pool-group", "inference.networking.k8s.io"));
        int metricsPort = Integer.parseInt(flags.getOrDefault("model-server-metrics-port", "0").isEmpty()
                ? "0" : flags.get("model-server-metrics-port"));
        KubernetesClient client = clients.get();
        Optional<LeaderElection> election = Boolean.parseBoolean(flags.getOrDefault("ha-enable-leader-election", "false"))
                ? Optional.of(new LeaderElection(client, namespace, leaseOwner(target), identity(env)))
                : Optional.empty();
        return Optional.of(new KubernetesPoolSource(client, target, metricsPort, election));
    }

    /**
     * The endpoints of one InferencePool ({@code group}/v1) read with {@code client}, for components other than the
     * EPP that need the pool's pods, such as the P/D sidecar's SSRF allowlist: only the pool and its pods are read
     * (no InferenceObjectives, rewrites or InferenceModels, so no RBAC for them is needed).
     */
    public static PoolSource forInferencePool(KubernetesClient client, String namespace, String name, String group) {
        return new KubernetesPoolSource(client, new PoolTarget.Pool(namespace, name, group), 0, Optional.empty(),
                false);
    }

    /** {@code --pool-namespace}, else {@code $NAMESPACE}, else {@code default} (GIE's order). */
    static String namespace(Map<String, String> flags, Map<String, String> env) {
        String flag = flags.getOrDefault("pool-namespace", "");
        if (!flag.isEmpty()) {
            return flag;
        }
        String fromEnv = env.getOrDefault("NAMESPACE", "");
        return fromEnv.isEmpty() ? "default" : fromEnv;
    }

    /** The lease's pool part: the pool's name, or in standalone mode the Deployment's name from {@code POD_NAME}. */
    private static String leaseOwner(PoolTarget target) {
        return switch (target) {
            case PoolTarget.Pool pool -> pool.name();
            case PoolTarget.Selector selector -> deploymentName(System.getenv().getOrDefault("POD_NAME", "epp"));
        };
    }

    /** {@code name-<replicaset hash>-<pod suffix>} -> {@code name}. */
    static String deploymentName(String podName) {
        String[] parts = podName.split("-");
        return parts.length >= 3 ? String.join("-", java.util.Arrays.copyOf(parts, parts.length - 2)) : podName;
    }

    private static String identity(Map<String, String> env) {
        String pod = env.getOrDefault("POD_NAME", "");
        if (!pod.isEmpty()) {
            return pod + "_" + UUID.randomUUID();
        }
        try {
            return InetAddress.getLocalHost().getHostName() + "_" + UUID.randomUUID();
        } catch (UnknownHostException e) {
            return "epp_" + UUID.randomUUID();
        }
    }

    /** {@code key=value,key2=value2}. */
    static Map<String, String> labels(String selector) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String pair : selector.split(",")) {
            String trimmed = pair.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            int equals = trimmed.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("--endpoint-selector: '" + trimmed + "' is not key=value");
            }
            labels.put(trimmed.substring(0, equals).strip(), trimmed.substring(equals + 1).strip());
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("--endpoint-selector is empty");
        }
        return labels;
    }

    /** Picocli renders the list flag as {@code [8000, 8001]}. */
    static List<Integer> ports(String flag) {
        List<Integer> ports = new ArrayList<>();
        for (String part : flag.replace("[", "").replace("]", "").split(",")) {
            if (!part.isBlank()) {
                ports.add(Integer.parseInt(part.strip()));
            }
        }
        if (ports.isEmpty() || ports.size() > 8) {
            throw new IllegalArgumentException("--endpoint-selector needs 1-8 --endpoint-target-ports, got " + flag);
        }
        return ports;
    }
}
