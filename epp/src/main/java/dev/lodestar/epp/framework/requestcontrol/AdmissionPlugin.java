package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.List;
import java.util.Optional;

/** May refuse a request before scheduling; every admission plugin must admit it. */
public interface AdmissionPlugin extends Plugin {
    /** Empty to admit, else the reason for refusing. */
    Optional<String> admitRequest(LlmRequest request, List<Endpoint> endpoints);
}
