package dev.lodestar.epp.framework.scheduling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * A parsed request body: its API type and JSON payload (both absent for bodies a passthrough parser
 * does not read), whether the client asked for a stream, and the views plugins need (prompt text,
 * cache salt, the bytes the prefix index hashes).
 */
public final class LlmRequestBody {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ApiType apiType;
    private final ObjectNode payload;
    private final byte[] raw;
    private final boolean stream;
    private byte[] prefixInput;

    private LlmRequestBody(ApiType apiType, ObjectNode payload, byte[] raw, boolean stream) {
        this.apiType = apiType;
        this.payload = payload;
        this.raw = Objects.requireNonNull(raw, "raw");
        this.stream = stream;
    }

    /** A JSON body of a known API. */
    public static LlmRequestBody parsed(ApiType apiType, ObjectNode payload, byte[] raw) {
        Objects.requireNonNull(apiType, "apiType");
        Objects.requireNonNull(payload, "payload");
        return new LlmRequestBody(apiType, payload, raw, payload.path("stream").asBoolean(false));
    }

    /** A body the EPP forwards untouched and does not interpret. */
    public static LlmRequestBody opaque(byte[] raw) {
        return new LlmRequestBody(null, null, raw, false);
    }

    public Optional<ApiType> apiType() {
        return Optional.ofNullable(apiType);
    }

    /** The parsed JSON; mutable only by the request-handling layer before scheduling (model rewrite). */
    public Optional<ObjectNode> payload() {
        return Optional.ofNullable(payload);
    }

    /** The body bytes as received. */
    public byte[] raw() {
        return raw;
    }

    public boolean stream() {
        return stream;
    }

    /** {@code cache_salt} of the body, or empty. */
    public String cacheSalt() {
        return payload == null ? "" : payload.path("cache_salt").asText("");
    }

    /**
     * The prompt as plain text (GIE's {@code PromptText}): completions prompt (array items joined by a
     * space), the text of chat messages each followed by a space, responses input, conversation items.
     */
    public String promptText() {
        if (payload == null) {
            return "";
        }
        return switch (apiType) {
            case COMPLETIONS -> promptOf(payload.path("prompt"));
            case CHAT_COMPLETIONS -> {
                StringBuilder text = new StringBuilder();
                for (JsonNode message : payload.path("messages")) {
                    String content = contentText(message.path("content"));
                    if (!content.isEmpty()) {
                        text.append(content).append(' ');
                    }
                }
                yield text.toString();
            }
            case RESPONSES -> {
                JsonNode input = payload.path("input");
                yield input.isTextual() ? input.asText() : compact(input);
            }
            case CONVERSATIONS -> compact(payload.path("items"));
            case EMBEDDINGS -> "";
        };
    }

    /**
     * The bytes the approximate prefix index hashes (GIE v1.5.0): the completions prompt; for chat the
     * JSON of {@code messages}; for responses the JSON of {@code [{instructions},{tools},{input}]}; for
     * conversations the JSON of {@code items}; for embeddings the JSON of {@code input}. Computed once.
     */
    public byte[] prefixHashInput() {
        if (prefixInput == null) {
            prefixInput = computePrefixInput();
        }
        return prefixInput;
    }

    private byte[] computePrefixInput() {
        if (payload == null) {
            return new byte[0];
        }
        return switch (apiType) {
            case COMPLETIONS -> promptOf(payload.path("prompt")).getBytes(StandardCharsets.UTF_8);
            case CHAT_COMPLETIONS -> compactBytes(payload.path("messages"));
            case RESPONSES -> {
                ObjectNode instructions = JSON.createObjectNode().set("instructions", payload.get("instructions"));
                ObjectNode tools = JSON.createObjectNode().set("tools", payload.get("tools"));
                ObjectNode input = JSON.createObjectNode().set("input", payload.get("input"));
                yield compactBytes(JSON.createArrayNode().add(instructions).add(tools).add(input));
            }
            case CONVERSATIONS -> compactBytes(payload.path("items"));
            case EMBEDDINGS -> compactBytes(payload.path("input"));
        };
    }

    private static String promptOf(JsonNode prompt) {
        if (prompt.isTextual()) {
            return prompt.asText();
        }
        if (prompt.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode item : prompt) {
                if (!text.isEmpty()) {
                    text.append(' ');
                }
                text.append(item.isTextual() ? item.asText() : item.toString());
            }
            return text.toString();
        }
        return "";
    }

    private static String contentText(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode block : content) {
            if ("text".equals(block.path("type").asText())) {
                text.append(block.path("text").asText()).append(' ');
            }
        }
        return text.toString();
    }

    private static String compact(JsonNode node) {
        return node == null || node.isMissingNode() ? "null" : node.toString();
    }

    /** The bytes of {@link #compact}, written directly as UTF-8. */
    private static byte[] compactBytes(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "null".getBytes(StandardCharsets.US_ASCII);
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON tree could not be written", e);
        }
    }
}
