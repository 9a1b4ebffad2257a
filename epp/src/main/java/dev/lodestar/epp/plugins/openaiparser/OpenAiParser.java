package dev.lodestar.epp.plugins.openaiparser;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * {@code openai-parser}: reads OpenAI-API request bodies (completions, chat completions, responses,
 * conversations, embeddings) and usage in responses, as GIE's parser does. The API comes from the path
 * ({@code :path}, else {@code x-original-path}, else {@code x-forwarded-path}, else
 * {@code /v1/completions}) by suffix; an unknown path counts as completions. A body that is not a JSON
 * object, or lacks its API's required field, is a BadRequest.
 */
public final class OpenAiParser implements Parser {
    public static final String TYPE = "openai-parser";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, NoParameters.class);
        return new OpenAiParser(name);
    };

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String DEFAULT_PATH = "/v1/completions";

    private final TypedName typedName;

    public OpenAiParser(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public boolean rewritesModel() {
        return true;
    }

    @Override
    public LlmRequestBody parseRequest(byte[] body, Map<String, String> headers) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw badRequest("error unmarshaling request bodyMap: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw badRequest("error unmarshaling request bodyMap: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw badRequest("error unmarshaling request bodyMap: the request body must be a JSON object");
        }
        ApiType api = ApiType.fromPath(requestPath(headers)).orElse(ApiType.COMPLETIONS);
        ObjectNode payload = (ObjectNode) root;
        validate(api, payload);
        return LlmRequestBody.parsed(api, payload, body);
    }

    @Override
    public Optional<Usage> parseResponse(byte[] body, boolean streaming) {
        if (body.length == 0) {
            return Optional.empty();
        }
        return streaming ? streamingUsage(new String(body, StandardCharsets.UTF_8)) : bodyUsage(body);
    }

    static String requestPath(Map<String, String> headers) {
        for (String name : new String[] {":path", "x-original-path", "x-forwarded-path"}) {
            String path = headers.get(name);
            if (path != null && !path.isEmpty()) {
                return path;
            }
        }
        return DEFAULT_PATH;
    }

    private static void validate(ApiType api, ObjectNode payload) {
        switch (api) {
            case CONVERSATIONS -> {
                JsonNode items = payload.get("items");
                if (items == null || !items.isArray() || items.isEmpty()) {
                    throw badRequest("invalid conversations request: must have items field");
                }
            }
            case RESPONSES -> {
                JsonNode input = payload.get("input");
                if (input == null || input.isNull()) {
                    throw badRequest("invalid responses request: must have input field");
                }
            }
            case CHAT_COMPLETIONS -> {
                if (!validMessages(payload.get("messages"))) {
                    throw badRequest("invalid chat completions request: must have valid messages field");
                }
            }
            case COMPLETIONS -> {
                if (!validPrompt(payload.get("prompt"))) {
                    throw badRequest("invalid completions request: must have prompt field");
                }
            }
            case EMBEDDINGS -> {
                JsonNode input = payload.get("input");
                if (input == null || input.isNull()) {
                    throw badRequest("invalid embeddings request: must have input field");
                }
            }
        }
    }

    private static boolean validMessages(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            return false;
        }
        for (JsonNode message : messages) {
            if (!message.isObject()) {
                return false;
            }
            JsonNode content = message.get("content");
            // Content is a string or a list of blocks; anything else does not decode upstream.
            if (content != null && !content.isNull() && !content.isTextual() && !content.isArray()) {
                return false;
            }
            if (content != null && content.isArray()) {
                for (JsonNode block : content) {
                    if (!block.isObject()) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean validPrompt(JsonNode prompt) {
        if (prompt == null) {
            return false;
        }
        if (prompt.isTextual()) {
            return !prompt.asText().isEmpty();
        }
        if (prompt.isArray()) {
            if (prompt.isEmpty()) {
                return false;
            }
            for (JsonNode item : prompt) {
                if (!item.isTextual()) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static Optional<Usage> bodyUsage(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        return usageOf(root.get("usage"), root.path("object").asText(""));
    }

    private static Optional<Usage> streamingUsage(String text) {
        for (String line : text.split("\n")) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            String content = line.substring(6).trim();
            if (content.equals("[DONE]")) {
                continue;
            }
            JsonNode event;
            try {
                event = JSON.readTree(content);
            } catch (IOException e) {
                continue;
            }
            if (event == null || !event.isObject()) {
                continue;
            }
            JsonNode usage = event.get("usage");
            if (usage != null && usage.isObject()) {
                return usageOf(usage, "chat.completion.chunk");
            }
            JsonNode response = event.path("response");
            if ("response.completed".equals(event.path("type").asText()) && response.path("usage").isObject()) {
                return usageOf(response.get("usage"), response.path("object").asText(""));
            }
        }
        return Optional.empty();
    }

    /**
     * Usage by object type: responses and conversations count input/output tokens; chat and text
     * completions prompt/completion tokens; anything else takes whichever is present. Cached tokens come
     * from {@code prompt_tokens_details} (OpenAI, vLLM) or {@code prompt_token_details} (GIE's spelling).
     */
    private static Optional<Usage> usageOf(JsonNode usage, String objectType) {
        if (usage == null || !usage.isObject()) {
            return Optional.empty();
        }
        int prompt;
        int completion;
        if (objectType.startsWith("response") || objectType.startsWith("conversation")) {
            prompt = usage.path("input_tokens").asInt(0);
            completion = usage.path("output_tokens").asInt(0);
        } else if (objectType.equals("chat.completion") || objectType.equals("chat.completion.chunk")
                || objectType.equals("text_completion")) {
            prompt = usage.path("prompt_tokens").asInt(0);
            completion = usage.path("completion_tokens").asInt(0);
        } else {
            prompt = usage.has("input_tokens") ? usage.path("input_tokens").asInt(0) : usage.path("prompt_tokens").asInt(0);
            completion = usage.has("output_tokens")
                    ? usage.path("output_tokens").asInt(0)
                    : usage.path("completion_tokens").asInt(0);
        }
        JsonNode details = usage.has("prompt_tokens_details") ? usage.get("prompt_tokens_details")
                : usage.path("prompt_token_details");
        int cached = details.path("cached_tokens").asInt(0);
        return Optional.of(new Usage(prompt, completion, usage.path("total_tokens").asInt(0), cached));
    }

    private static InferenceException badRequest(String message) {
        return new InferenceException(ErrorCode.BAD_REQUEST, message);
    }

    /** The parser takes no parameters. */
    record NoParameters() {
    }
}
