package dev.lodestar.epp.health;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING;
import static io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVICE_UNKNOWN;
import static io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
import static org.assertj.core.api.Assertions.assertThat;

class EppHealthTest {
    private final AtomicBoolean synced = new AtomicBoolean();
    private final AtomicBoolean leader = new AtomicBoolean();

    @Test
    void withoutLeaderElectionEveryNameFollowsSync() {
        EppHealth health = EppHealth.create(synced::get);
        for (String service : new String[] {"", "liveness", "readiness", EppHealth.EXT_PROC, "inference-extension",
                "anything"}) {
            synced.set(false);
            assertThat(health.check(service)).as(service).isEqualTo(NOT_SERVING);
            synced.set(true);
            assertThat(health.check(service)).as(service).isEqualTo(SERVING);
        }
    }

    @Test
    void withLeaderElectionReadinessNeedsSyncAndLeadership() {
        EppHealth health = EppHealth.withLeaderElection(synced::get, leader::get);
        for (String service : new String[] {"readiness", "", EppHealth.EXT_PROC}) {
            synced.set(false);
            leader.set(false);
            assertThat(health.check(service)).as(service).isEqualTo(NOT_SERVING);
            synced.set(true);
            assertThat(health.check(service)).as(service + " synced, not leader").isEqualTo(NOT_SERVING);
            synced.set(false);
            leader.set(true);
            assertThat(health.check(service)).as(service + " leader, not synced").isEqualTo(NOT_SERVING);
            synced.set(true);
            assertThat(health.check(service)).as(service).isEqualTo(SERVING);
        }
    }

    @Test
    void withLeaderElectionLivenessIsAlwaysServingAndOtherNamesUnknown() {
        EppHealth health = EppHealth.withLeaderElection(synced::get, leader::get);

        assertThat(health.check("liveness")).isEqualTo(SERVING);
        assertThat(health.check("inference-extension")).isEqualTo(SERVICE_UNKNOWN);
        synced.set(true);
        leader.set(true);
        assertThat(health.check("inference-extension")).isEqualTo(SERVICE_UNKNOWN);
    }

    @Test
    void listNamesTheExtProcServiceAndWithLeaderElectionTheProbes() {
        synced.set(true);
        assertThat(EppHealth.create(synced::get).list()).isEqualTo(Map.of(EppHealth.EXT_PROC, SERVING));

        assertThat(EppHealth.withLeaderElection(synced::get, leader::get).list()).isEqualTo(Map.of(
                EppHealth.EXT_PROC, NOT_SERVING, "liveness", SERVING, "readiness", NOT_SERVING));
    }
}
