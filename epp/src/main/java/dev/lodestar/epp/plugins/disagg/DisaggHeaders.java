package dev.lodestar.epp.plugins.disagg;

import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.util.Map;
import java.util.StringJoiner;

/** The request headers that tell a decode pod's sidecar where the disaggregated stages run (llm-d). */
final class DisaggHeaders {
    static final String PREFILLER_HOST_PORT = "x-prefiller-host-port";
    static final String ENCODER_HOSTS_PORTS = "x-encoder-hosts-ports";

    private DisaggHeaders() {
    }

    /**
     * Sets {@code x-prefiller-host-port} to the prefill profile's first target and
     * {@code x-encoder-hosts-ports} to all encode targets; a header whose stage did not run or found no
     * endpoint is left out (and removed if an earlier plugin set it).
     */
    static void write(SchedulingResult result, String prefillProfile, String encodeProfile,
                      Map<String, String> headersToSet) {
        ProfileRunResult prefill = result.profileResults().get(prefillProfile);
        if (prefill == null || prefill.failed()) {
            headersToSet.remove(PREFILLER_HOST_PORT);
        } else {
            headersToSet.put(PREFILLER_HOST_PORT, prefill.targetEndpoints().getFirst().metadata().hostPort());
        }
        ProfileRunResult encode = result.profileResults().get(encodeProfile);
        if (encode == null || encode.failed()) {
            headersToSet.remove(ENCODER_HOSTS_PORTS);
        } else {
            StringJoiner hosts = new StringJoiner(",");
            for (Endpoint endpoint : encode.targetEndpoints()) {
                hosts.add(endpoint.metadata().hostPort());
            }
            headersToSet.put(ENCODER_HOSTS_PORTS, hosts.toString());
        }
    }
}
