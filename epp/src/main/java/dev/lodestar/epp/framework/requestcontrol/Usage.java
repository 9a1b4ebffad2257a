package dev.lodestar.epp.framework.requestcontrol;

/**
 * Token usage a model server reported ({@code usage} of an OpenAI response).
 *
 * @param promptTokens     {@code prompt_tokens} (or {@code input_tokens})
 * @param completionTokens {@code completion_tokens} (or {@code output_tokens})
 * @param totalTokens      {@code total_tokens}
 * @param cachedTokens     {@code prompt_tokens_details.cached_tokens}, 0 when absent
 */
public record Usage(int promptTokens, int completionTokens, int totalTokens, int cachedTokens) {
}
