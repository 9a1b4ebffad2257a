package dev.lodestar.epp.plugins;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginHandle;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** Endpoints, requests and scheduling results for plugin tests. */
public final class PluginTestFixtures {
    public static final String NAMESPACE = "default";
    public static final ObjectMapper JSON = new ObjectMapper();

    private PluginTestFixtures() {
    }

    public static EndpointKey key(String name) {
        return new EndpointKey(NAMESPACE, name);
    }

    public static EndpointMetadata metadata(String name) {
        return new EndpointMetadata(key(name), name, "10.0.0." + (Math.abs(name.hashCode()) % 250 + 1), 8000,
                "10.0.0.1:8000", Map.of());
    }

    public static Endpoint endpoint(String name) {
        return endpoint(name, EndpointMetrics.EMPTY);
    }

    public static Endpoint endpoint(String name, EndpointMetrics metrics) {
        return new Endpoint(metadata(name), metrics);
    }

    public static JsonNode params(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A chat completion with one user message. */
    public static LlmRequest chat(String requestId, String model, String content) {
        ObjectNode payload = JSON.createObjectNode().put("model", model);
        payload.putArray("messages").addObject().put("role", "user").put("content", content);
        return request(requestId, model, ApiType.CHAT_COMPLETIONS, payload, Map.of());
    }

    /** A completion of {@code prompt}: the prefix index hashes the prompt text as is. */
    public static LlmRequest completion(String requestId, String model, String prompt) {
        ObjectNode payload = JSON.createObjectNode().put("model", model).put("prompt", prompt);
        return request(requestId, model, ApiType.COMPLETIONS, payload, Map.of());
    }

    public static LlmRequest request(String requestId, String model, ApiType api, ObjectNode payload,
                                     Map<String, String> headers) {
        byte[] raw = payload.toString().getBytes(StandardCharsets.UTF_8);
        return new LlmRequest(requestId, model, model, LlmRequestBody.parsed(api, payload, raw), headers, 0, null,
                raw.length);
    }

    public static LlmRequest withHeaders(LlmRequest request, Map<String, String> headers) {
        return new LlmRequest(request.requestId(), request.incomingModel(), request.targetModel(), request.body(),
                headers, request.priority(), request.fairnessId(), request.requestSizeBytes());
    }

    /** One profile, {@code default}, that picked {@code target}. */
    public static SchedulingResult result(Endpoint target) {
        return new SchedulingResult(Map.of("default", new ProfileRunResult(List.of(target))), "default");
    }

    /** Profiles and their picks; the first entry is the primary profile. */
    public static SchedulingResult result(Map<String, Endpoint> targets) {
        Map<String, ProfileRunResult> runs = new LinkedHashMap<>();
        targets.forEach((profile, target) -> runs.put(profile, new ProfileRunResult(List.of(target))));
        return new SchedulingResult(runs, targets.keySet().iterator().next());
    }

    public static PluginHandle handle(Supplier<List<EndpointMetadata>> endpoints) {
        return new PluginHandle() {
            @Override
            public <T extends Plugin> Optional<T> plugin(String name, Class<T> type) {
                return Optional.empty();
            }

            @Override
            public Collection<Plugin> plugins() {
                return List.of();
            }

            @Override
            public List<EndpointMetadata> endpoints() {
                return new ArrayList<>(endpoints.get());
            }
        };
    }

    public static PluginHandle handle() {
        return handle(List::of);
    }
}
