package dev.lodestar.epp.health;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Answers {@code grpc.health.v1.Health} checks the way GIE v1.5.0's EPP does
 * ({@code cmd/epp/runner/health.go}):
 * <ul>
 *   <li>without leader election every service name, known or not, is SERVING iff the pool has synced;</li>
 *   <li>with leader election {@code readiness}, {@code ""} and the ext_proc service need sync and
 *       leadership, {@code liveness} is always SERVING, and any other name is SERVICE_UNKNOWN.</li>
 * </ul>
 */
public final class EppHealth {
    public static final String LIVENESS = "liveness";
    public static final String READINESS = "readiness";
    public static final String EXT_PROC = "envoy.service.ext_proc.v3.ExternalProcessor";

    private static final System.Logger LOGGER = System.getLogger(EppHealth.class.getName());

    private final BooleanSupplier synced;
    private final Optional<BooleanSupplier> leader;

    private EppHealth(BooleanSupplier synced, Optional<BooleanSupplier> leader) {
        this.synced = Objects.requireNonNull(synced, "synced");
        this.leader = leader;
    }

    /** Health without leader election: everything follows {@code synced}. */
    public static EppHealth create(BooleanSupplier synced) {
        return new EppHealth(synced, Optional.empty());
    }

    /** Health with leader election: readiness also needs {@code leader}. */
    public static EppHealth withLeaderElection(BooleanSupplier synced, BooleanSupplier leader) {
        return new EppHealth(synced, Optional.of(Objects.requireNonNull(leader, "leader")));
    }

    public boolean leaderElection() {
        return leader.isPresent();
    }

    /** The status of {@code service} now. */
    public ServingStatus check(String service) {
        boolean isSynced = synced.getAsBoolean();
        if (leader.isEmpty()) {
            return log(service, isSynced ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
        }
        return log(service, switch (service) {
            case LIVENESS -> ServingStatus.SERVING;
            case READINESS, "", EXT_PROC -> isSynced && leader.get().getAsBoolean()
                    ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
            default -> ServingStatus.SERVICE_UNKNOWN;
        });
    }

    /** Every known service with its status: the ext_proc service, plus liveness and readiness with leader election. */
    public Map<String, ServingStatus> list() {
        Map<String, ServingStatus> statuses = new LinkedHashMap<>();
        statuses.put(EXT_PROC, check(EXT_PROC));
        if (leader.isPresent()) {
            statuses.put(LIVENESS, check(LIVENESS));
            statuses.put(READINESS, check(READINESS));
        }
        return statuses;
    }

    private static ServingStatus log(String service, ServingStatus status) {
        if (status != ServingStatus.SERVING) {
            LOGGER.log(System.Logger.Level.DEBUG, () -> "health check of '" + service + "': " + status);
        }
        return status;
    }
}
