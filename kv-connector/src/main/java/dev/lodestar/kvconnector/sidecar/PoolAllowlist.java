package dev.lodestar.kvconnector.sidecar;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.controllers.KubernetesPoolSourceProvider;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolWriter;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * SSRF protection from an InferencePool: a prefill target is allowed when its host is the IP or the name of a pod
 * of the pool. Membership comes from the EPP's Kubernetes pool source (the pool's selector, its pods), which writes
 * here as it writes the EPP's datastore; so, like the EPP, only pods that are ready and have an IP count.
 */
public final class PoolAllowlist implements PrefillAllowlist, PoolWriter, AutoCloseable {
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final Map<EndpointKey, EndpointMetadata> endpoints = new HashMap<>();
    private volatile Set<String> hosts = Set.of();
    private final CountDownLatch synced = new CountDownLatch(1);
    private PoolSource source;

    private PoolAllowlist() {
    }

    /**
     * Starts watching {@code pool} ({@code group}/v1 InferencePool) with {@code client}; returns at once, before the
     * first sync (until then nothing is allowed).
     */
    public static PoolAllowlist watch(KubernetesClient client, SidecarConfig.PoolRef pool, String group)
            throws Exception {
        PoolAllowlist allowlist = new PoolAllowlist();
        allowlist.source = KubernetesPoolSourceProvider.forInferencePool(client, pool.namespace(), pool.name(), group);
        allowlist.source.start(allowlist);
        return allowlist;
    }

    /** Waits up to {@code timeout} for the pool and its pods to be listed once; false if they were not. */
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        return synced.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean allows(String hostPort) {
        return hosts.contains(PrefillTargets.host(hostPort));
    }

    /** The hosts allowed now: pod IPs and pod names. */
    public Set<String> hosts() {
        return hosts;
    }

    @Override
    public void upsertEndpoint(EndpointMetadata endpoint) {
        synchronized (lock) {
            endpoints.put(endpoint.key(), endpoint);
            publish();
        }
    }

    @Override
    public void removeEndpoint(EndpointKey key) {
        synchronized (lock) {
            endpoints.remove(key);
            publish();
        }
    }

    @Override
    public void replaceEndpoints(Collection<EndpointMetadata> all) {
        synchronized (lock) {
            endpoints.clear();
            all.forEach(endpoint -> endpoints.put(endpoint.key(), endpoint));
            publish();
        }
    }

    @Override
    public void replaceObjectives(Collection<InferenceObjective> objectives) {
        // Objectives do not decide who may prefill.
    }

    @Override
    public void replaceRewrites(Collection<InferenceModelRewrite> rewrites) {
        // Rewrites do not decide who may prefill.
    }

    @Override
    public void markSynced() {
        synced.countDown();
    }

    private void publish() {
        Set<String> now = new HashSet<>();
        for (EndpointMetadata endpoint : endpoints.values()) {
            now.add(endpoint.address());
            now.add(endpoint.podName());
        }
        hosts = Set.copyOf(now);
    }

    @Override
    public void close() {
        if (source != null) {
            source.close();
        }
    }
}
