package dev.lodestar.controllers;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Active-passive HA as GIE's EPP: replicas compete for a Lease named
 * {@code epp-<namespace>-<pool>.gateway-api-inference-extension.sigs.k8s.io} in the pool's namespace; only the
 * holder reports ready. Every replica keeps its informers running, so a new leader serves at once. The lease is
 * released on shutdown, so the next replica takes over without waiting for it to expire.
 */
final class LeaderElection implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(LeaderElection.class.getName());
    // controller-runtime's defaults, which GIE's EPP keeps.
    static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
    static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

    private final KubernetesClient client;
    private final String namespace;
    private final String leaseName;
    private final String identity;
    private final Duration leaseDuration;
    private final Duration renewDeadline;
    private final Duration retryPeriod;
    private final AtomicBoolean leader = new AtomicBoolean();
    private CompletableFuture<?> running;

    LeaderElection(KubernetesClient client, String namespace, String poolName, String identity) {
        this(client, namespace, leaseName(namespace, poolName), identity, LEASE_DURATION, RENEW_DEADLINE,
                RETRY_PERIOD);
    }

    LeaderElection(KubernetesClient client, String namespace, String leaseName, String identity,
                   Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        this.client = client;
        this.namespace = namespace;
        this.leaseName = leaseName;
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.renewDeadline = renewDeadline;
        this.retryPeriod = retryPeriod;
    }

    static String leaseName(String namespace, String poolName) {
        return "epp-" + namespace + "-" + poolName + ".gateway-api-inference-extension.sigs.k8s.io";
    }

    synchronized void start() {
        LeaderElector elector = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                .withName(leaseName)
                .withLock(new LeaseLock(namespace, leaseName, identity))
                .withLeaseDuration(leaseDuration)
                .withRenewDeadline(renewDeadline)
                .withRetryPeriod(retryPeriod)
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(
                        () -> {
                            leader.set(true);
                            LOGGER.info(identity + " is the leader of " + namespace + "/" + leaseName);
                        },
                        () -> {
                            leader.set(false);
                            LOGGER.info(identity + " stopped leading " + namespace + "/" + leaseName);
                        },
                        newLeader -> LOGGER.info("leader of " + namespace + "/" + leaseName + ": " + newLeader)))
                .build()).build();
        running = elector.start();
    }

    boolean isLeader() {
        return leader.get();
    }

    String identity() {
        return identity;
    }

    @Override
    public synchronized void close() {
        if (running != null) {
            running.cancel(true);
            running = null;
        }
        leader.set(false);
    }
}
