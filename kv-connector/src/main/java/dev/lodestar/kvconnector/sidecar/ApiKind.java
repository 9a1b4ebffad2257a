package dev.lodestar.kvconnector.sidecar;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The request APIs the sidecar disaggregates, by path, and the body fields that limit their output: the prefill leg
 * forces those to 1 so that vLLM finishes the prefill "length capped" and keeps its KV blocks for the decoder.
 */
public enum ApiKind {
    /** Chat Completions, legacy Completions and Anthropic Messages: top-level limits. */
    CHAT_COMPLETIONS(List.of("max_tokens", "max_completion_tokens", "min_tokens"), false),
    /** OpenAI Responses. */
    RESPONSES(List.of("max_output_tokens"), false),
    /** vLLM's token-in generate API: the limits live in {@code sampling_params}. */
    GENERATE(List.of("max_tokens", "min_tokens"), true);

    /** The disaggregated routes. */
    public static final Map<String, ApiKind> BY_PATH = Map.of(
            "/v1/chat/completions", CHAT_COMPLETIONS,
            "/v1/completions", CHAT_COMPLETIONS,
            "/v1/messages", CHAT_COMPLETIONS,
            "/v1/responses", RESPONSES,
            "/inference/v1/generate", GENERATE);

    private final List<String> tokenLimitFields;
    private final boolean limitsInSamplingParams;

    ApiKind(List<String> tokenLimitFields, boolean limitsInSamplingParams) {
        this.tokenLimitFields = tokenLimitFields;
        this.limitsInSamplingParams = limitsInSamplingParams;
    }

    public List<String> tokenLimitFields() {
        return tokenLimitFields;
    }

    /** Whether the limits are fields of {@code sampling_params} rather than of the body. */
    public boolean limitsInSamplingParams() {
        return limitsInSamplingParams;
    }

    public static Optional<ApiKind> ofPath(String path) {
        return Optional.ofNullable(BY_PATH.get(path));
    }
}
