package dev.lodestar.epp.plugins.disagg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.Optional;
import java.util.Set;

/**
 * {@code always-disagg-multimodal-decider} (llm-d): the encode stage runs for every chat completion with
 * multimodal content, i.e. a message content block of type {@code image_url}, {@code video_url},
 * {@code input_audio} or {@code audio_url} (what llm-d's estimate tokenizer turns into multimodal features).
 */
public final class AlwaysDisaggMultimodalDecider implements Decider {
    public static final String TYPE = "always-disagg-multimodal-decider";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, Params.class);
        return new AlwaysDisaggMultimodalDecider(name);
    };

    private static final Set<String> MULTIMODAL_BLOCKS = Set.of("image_url", "video_url", "input_audio", "audio_url");

    /** No parameters; any field is an error. */
    public record Params() {
    }

    private final TypedName typedName;

    public AlwaysDisaggMultimodalDecider(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public boolean disaggregate(LlmRequest request, Optional<Endpoint> decodeEndpoint) {
        if (request.body().apiType().filter(api -> api == ApiType.CHAT_COMPLETIONS).isEmpty()) {
            return false;
        }
        ObjectNode payload = request.body().payload().orElseThrow();
        for (JsonNode message : payload.path("messages")) {
            for (JsonNode block : message.path("content")) {
                if (block.isObject() && MULTIMODAL_BLOCKS.contains(block.path("type").asText(""))) {
                    return true;
                }
            }
        }
        return false;
    }
}
