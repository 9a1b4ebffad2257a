package dev.lodestar.epp.framework.scheduling;

import java.util.Optional;

/**
 * The OpenAI-style API a request body belongs to, detected from the request path by suffix (as GIE's
 * {@code openai-parser} does), with the field the body must carry.
 */
public enum ApiType {
    CONVERSATIONS("/conversations", "items"),
    RESPONSES("/responses", "input"),
    CHAT_COMPLETIONS("/chat/completions", "messages"),
    COMPLETIONS("/completions", "prompt"),
    EMBEDDINGS("/embeddings", "input");

    private final String pathSuffix;
    private final String requiredField;

    ApiType(String pathSuffix, String requiredField) {
        this.pathSuffix = pathSuffix;
        this.requiredField = requiredField;
    }

    public String pathSuffix() {
        return pathSuffix;
    }

    public String requiredField() {
        return requiredField;
    }

    /** The API of {@code path} (query string ignored), matched by suffix; {@code /chat/completions} before {@code /completions}. */
    public static Optional<ApiType> fromPath(String path) {
        if (path == null) {
            return Optional.empty();
        }
        int query = path.indexOf('?');
        String clean = query >= 0 ? path.substring(0, query) : path;
        while (clean.endsWith("/") && clean.length() > 1) {
            clean = clean.substring(0, clean.length() - 1);
        }
        for (ApiType type : values()) {
            if (clean.endsWith(type.pathSuffix)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
