package dev.lodestar.epp.requestcontrol;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header names of the Endpoint Picker Protocol and of GIE / llm-d Router that control the EPP. They are
 * read by the EPP and never forwarded to the model server; a client cannot spoof the destination.
 */
public final class RequestControlHeaders {
    public static final String REQUEST_ID = "x-request-id";
    public static final String DESTINATION_ENDPOINT = "x-gateway-destination-endpoint";
    public static final String DESTINATION_ENDPOINT_SERVED = "x-gateway-destination-endpoint-served";
    public static final String DESTINATION_ENDPOINT_SUBSET = "x-gateway-destination-endpoint-subset";
    public static final String DESTINATION_METADATA_NAMESPACE = "envoy.lb";
    public static final String SUBSET_METADATA_NAMESPACE = "envoy.lb.subset_hint";

    /** llm-d P/D: the prefill endpoint ({@code ip:port}) the decode pod's sidecar sends the prefill to. */
    public static final String PREFILLER_HOST_PORT = "x-prefiller-host-port";
    /** llm-d E/P/D: the encode endpoints, comma-separated {@code ip:port}. */
    public static final String ENCODER_HOSTS_PORTS = "x-encoder-hosts-ports";
    /** llm-d: the endpoint holding the request's cached prefix, for P2P KV transfer. */
    public static final String KV_CACHE_SOURCE_HOST_PORT = "x-kv-cache-source-host-port";
    /** llm-d: deprecated data-parallel routing target. */
    public static final String DATA_PARALLEL_HOST_PORT = "x-data-parallel-host-port";

    /** Objective (priority) header: GIE's name first, then llm-d Router's. */
    public static final List<String> OBJECTIVE = List.of("x-gateway-inference-objective", "x-llm-d-inference-objective");
    /** Model rewrite header. */
    public static final List<String> MODEL_NAME_REWRITE =
            List.of("x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite");
    /** Flow-control fairness key header. */
    public static final List<String> FAIRNESS_ID =
            List.of("x-gateway-inference-fairness-id", "x-llm-d-inference-fairness-id");

    /**
     * Headers the EPP owns: never echoed back to the proxy as request headers, and removed when a client
     * sent them. {@code content-length} is owned because the EPP resets it to the re-serialized body. The
     * llm-d disaggregation headers are owned too, so a client cannot point a decode pod's sidecar at a host
     * of its choice (upstream only overwrites them when it sets them).
     */
    public static final Set<String> SYSTEM_OWNED = Set.of(
            "x-gateway-inference-objective", "x-llm-d-inference-objective",
            "x-gateway-model-name-rewrite", "x-llm-d-model-name-rewrite",
            "x-gateway-inference-fairness-id", "x-llm-d-inference-fairness-id",
            DESTINATION_ENDPOINT_SUBSET, DESTINATION_ENDPOINT, DESTINATION_ENDPOINT_SERVED,
            PREFILLER_HOST_PORT, ENCODER_HOSTS_PORTS, KV_CACHE_SOURCE_HOST_PORT, DATA_PARALLEL_HOST_PORT,
            "content-length");

    private RequestControlHeaders() {
    }

    /** Whether the EPP owns header {@code name}, in any case (as GIE's {@code IsSystemOwnedHeader}). */
    public static boolean systemOwned(String name) {
        return SYSTEM_OWNED.contains(name.toLowerCase(Locale.ROOT));
    }

    /**
     * The value of the first of {@code names} (a header and its aliases, e.g. {@link #OBJECTIVE}) that
     * {@code headers} carries with a non-empty value; "" when none does.
     */
    public static String firstValue(Map<String, String> headers, List<String> names) {
        for (String name : names) {
            String value = headers.get(name);
            if (value != null && !value.isEmpty()) {
                return value;
            }
        }
        return "";
    }
}
