package dev.lodestar.epp.admission;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.requestcontrol.SaturationDetector;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Admission when flow control is off: a sheddable request (priority below 0) is refused with
 * {@code ResourceExhausted} (429) while the pool is saturated (saturation &gt;= 1.0); every other request
 * is admitted without asking the detector.
 */
public final class LegacyAdmission {
    static final String SHED_MESSAGE = "system saturated, sheddable request dropped";

    private final SaturationDetector detector;

    public LegacyAdmission(SaturationDetector detector) {
        this.detector = Objects.requireNonNull(detector, "detector");
    }

    /**
     * @param candidates the endpoints the request may go to (the pool, or the proxy's subset)
     * @return empty to admit, else the error to answer the client with
     */
    public Optional<InferenceException> admit(LlmRequest request, List<Endpoint> candidates) {
        if (request.sheddable() && detector.saturation(candidates) >= 1.0) {
            return Optional.of(new InferenceException(ErrorCode.RESOURCE_EXHAUSTED, SHED_MESSAGE));
        }
        return Optional.empty();
    }
}
