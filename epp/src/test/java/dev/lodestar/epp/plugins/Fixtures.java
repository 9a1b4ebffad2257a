package dev.lodestar.epp.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Endpoints, requests and plugin parameters for plugin tests. */
public final class Fixtures {
    public static final PluginHandle HANDLE = PluginTestFixtures.handle();

    private Fixtures() {
    }

    /** An endpoint {@code pod-<i>-rank-0} at {@code ip:port} with the given metrics and labels. */
    public static Endpoint endpoint(String ip, int port, EndpointMetrics metrics, Map<String, String> labels) {
        String pod = "pod-" + ip.replace(':', '-').replace('.', '-');
        EndpointMetadata metadata = new EndpointMetadata(EndpointKey.ofRank("default", pod, 0), pod, ip, port,
                ip + ":9090", labels);
        return new Endpoint(metadata, metrics);
    }

    public static Endpoint endpoint(String ip, int port) {
        return endpoint(ip, port, EndpointMetrics.EMPTY, Map.of());
    }

    public static Endpoint endpoint(String ip, EndpointMetrics metrics) {
        return endpoint(ip, 8000, metrics, Map.of());
    }

    /** An endpoint with the given waiting queue and KV-cache use. */
    public static Endpoint endpoint(String ip, int waitingQueue, double kvCacheUsage) {
        return endpoint(ip, EndpointMetrics.builder().waitingQueueSize(waitingQueue).kvCacheUsagePercent(kvCacheUsage)
                .build());
    }

    public static Endpoint labelled(String ip, Map<String, String> labels) {
        return endpoint(ip, 8000, EndpointMetrics.EMPTY, labels);
    }

    public static LlmRequest request(String requestId) {
        return request(requestId, "model", Map.of(), 0, 0);
    }

    public static LlmRequest request(String requestId, String targetModel, Map<String, String> headers, int priority,
                                     long requestSizeBytes) {
        return new LlmRequest(requestId, targetModel, targetModel,
                LlmRequestBody.opaque("{}".getBytes(StandardCharsets.UTF_8)), headers, priority, null,
                requestSizeBytes);
    }

    public static LlmRequest withHeaders(Map<String, String> headers) {
        return request("r", "model", headers, 0, 0);
    }

    /** Parameters as a plugin factory receives them. */
    public static JsonNode params(String json) {
        return PluginTestFixtures.params(json);
    }

    public static JsonNode noParams() {
        return MissingNode.getInstance();
    }

    public static Plugin create(PluginFactory factory, String name, String json) {
        return factory.create(name, params(json), HANDLE);
    }
}
