package dev.lodestar.simulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A validated {@code /v1/completions} or {@code /v1/chat/completions} request, reduced to what the
 * simulator acts on. Unknown fields are accepted and ignored, as vLLM does. {@code kv_transfer_params} is kept
 * as sent: only a server with kv-transfer on reads it ({@link KvTransferRole#parse}).
 */
record CompletionRequest(Kind kind,
                         Optional<String> model,
                         String prompt,
                         String echoSource,
                         Optional<Integer> maxTokens,
                         boolean ignoreEos,
                         boolean stream,
                         boolean includeUsage,
                         Optional<JsonNode> kvTransferParams) {

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    /** Which endpoint the request came to. */
    enum Kind {
        COMPLETION,
        CHAT
    }

    /**
     * Parses and validates a request body.
     *
     * @throws ApiError 400 naming the offending field
     */
    static CompletionRequest parse(Kind kind, byte[] body, ObjectMapper json) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("Failed to parse request body as JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiError.badRequest("Failed to read request body: " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw ApiError.badRequest("Request body must be a JSON object");
        }
        Optional<String> model = optionalString(root, "model");
        boolean stream = optionalBoolean(root, "stream").orElse(false);
        boolean includeUsage = false;
        JsonNode streamOptions = root.get("stream_options");
        if (streamOptions != null && !streamOptions.isNull()) {
            if (!stream) {
                throw ApiError.badRequest("Stream options can only be defined when `stream=True`.", "stream_options");
            }
            if (!streamOptions.isObject()) {
                throw ApiError.badRequest("stream_options must be an object", "stream_options");
            }
            includeUsage = optionalBoolean(streamOptions, "include_usage").orElse(false);
        }
        Optional<Integer> n = optionalInt(root, "n");
        if (n.isPresent() && n.get() < 1) {
            throw ApiError.badRequest("n must be at least 1, got " + n.get(), "n");
        }
        if (n.isPresent() && n.get() != 1) {
            throw ApiError.badRequest("n=" + n.get() + " is not supported: the simulator generates one choice per request", "n");
        }
        Optional<Integer> maxTokens = optionalInt(root, "max_tokens");
        if (kind == Kind.CHAT) {
            Optional<Integer> maxCompletionTokens = optionalInt(root, "max_completion_tokens");
            if (maxCompletionTokens.isPresent()) {
                maxTokens = maxCompletionTokens;
            }
        }
        if (maxTokens.isPresent() && maxTokens.get() < 1) {
            throw ApiError.badRequest("max_tokens must be at least 1, got " + maxTokens.get(),
                    kind == Kind.CHAT && root.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
        }
        boolean ignoreEos = optionalBoolean(root, "ignore_eos").orElse(false);

        String prompt;
        String echoSource;
        if (kind == Kind.COMPLETION) {
            prompt = completionPrompt(root.get("prompt"));
            echoSource = prompt;
        } else {
            List<ChatTemplate.ChatMessage> messages = chatMessages(root.get("messages"));
            prompt = ChatTemplate.render(messages);
            echoSource = messages.get(messages.size() - 1).content();
        }
        Optional<JsonNode> kvTransferParams = Optional.ofNullable(root.get("kv_transfer_params"))
                .filter(node -> !node.isNull());
        return new CompletionRequest(kind, model, prompt, echoSource, maxTokens, ignoreEos, stream, includeUsage,
                kvTransferParams);
    }

    private static String completionPrompt(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw ApiError.badRequest("prompt is required", "prompt");
        }
        if (prompt.isArray()) {
            if (prompt.isEmpty()) {
                throw ApiError.badRequest("prompt must not be an empty array", "prompt");
            }
            if (!prompt.get(0).isTextual()) {
                throw ApiError.badRequest(
                        "token-id prompts are not supported by the simulator; send the prompt as text", "prompt");
            }
            if (prompt.size() > 1) {
                throw ApiError.badRequest("batched prompts (" + prompt.size()
                        + ") are not supported by the simulator; send one prompt per request", "prompt");
            }
            prompt = prompt.get(0);
        }
        if (!prompt.isTextual()) {
            throw ApiError.badRequest("prompt must be a string", "prompt");
        }
        if (prompt.asText().isEmpty()) {
            throw ApiError.badRequest("prompt must not be an empty string", "prompt");
        }
        return prompt.asText();
    }

    private static List<ChatTemplate.ChatMessage> chatMessages(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw ApiError.badRequest("messages is required", "messages");
        }
        if (!messages.isArray()) {
            throw ApiError.badRequest("messages must be an array", "messages");
        }
        if (messages.isEmpty()) {
            throw ApiError.badRequest("messages must not be empty", "messages");
        }
        List<ChatTemplate.ChatMessage> result = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String where = "messages[" + i + "]";
            if (!message.isObject()) {
                throw ApiError.badRequest(where + " must be an object", "messages");
            }
            JsonNode role = message.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiError.badRequest(where + ".role is required", "messages");
            }
            if (!ROLES.contains(role.asText())) {
                throw ApiError.badRequest(where + ".role must be one of system, developer, user, assistant, tool; got '"
                        + role.asText() + "'", "messages");
            }
            result.add(new ChatTemplate.ChatMessage(role.asText(), content(message.get("content"), where)));
        }
        return result;
    }

    private static String content(JsonNode content, String where) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw ApiError.badRequest(where + ".content must be a string or an array of parts", "messages");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode part : content) {
            JsonNode type = part.get("type");
            if (type == null || !type.isTextual()) {
                throw ApiError.badRequest(where + ".content parts need a type", "messages");
            }
            if (!type.asText().equals("text")) {
                throw ApiError.badRequest(where + ".content part type '" + type.asText()
                        + "' is not supported by the simulator (only 'text')", "messages");
            }
            JsonNode text = part.get("text");
            if (text == null || !text.isTextual()) {
                throw ApiError.badRequest(where + ".content text parts need a string 'text'", "messages");
            }
            texts.add(text.asText());
        }
        return String.join("\n", texts);
    }

    private static Optional<String> optionalString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw ApiError.badRequest(field + " must be a string", field);
        }
        return Optional.of(node.asText());
    }

    private static Optional<Boolean> optionalBoolean(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isBoolean()) {
            throw ApiError.badRequest(field + " must be a boolean", field);
        }
        return Optional.of(node.asBoolean());
    }

    private static Optional<Integer> optionalInt(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw ApiError.badRequest(field + " must be an integer", field);
        }
        return Optional.of(node.asInt());
    }
}
