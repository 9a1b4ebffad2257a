package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/** A streamed chat through the SDK, measured: the serving pod (from the headers), time to first token, usage. */
public record Streams(String pod, Duration timeToFirstToken, Duration total, String text, CompletionUsage usage,
                      List<ChatCompletionChunk> chunks) {

    /** Streams {@code params} (usage included) and reads it to the end. */
    public static Streams chat(OpenAIClient client, ChatCompletionCreateParams params) {
        ChatCompletionCreateParams withUsage = params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        long start = System.nanoTime();
        Duration ttft = null;
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        CompletionUsage usage = null;
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw =
                client.chat().completions().withRawResponse().createStreaming(withUsage);
        String pod = raw.headers().values("x-inference-pod").stream().findFirst().orElse(null);
        try (StreamResponse<ChatCompletionChunk> stream = raw.parse()) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            while (it.hasNext()) {
                ChatCompletionChunk chunk = it.next();
                chunks.add(chunk);
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    Optional<String> content = choice.delta().content();
                    if (content.isPresent() && !content.get().isEmpty()) {
                        if (ttft == null) {
                            ttft = Duration.ofNanos(System.nanoTime() - start);
                        }
                        text.append(content.get());
                    }
                }
                if (chunk.usage().isPresent()) {
                    usage = chunk.usage().get();
                }
            }
        }
        return new Streams(pod, ttft, Duration.ofNanos(System.nanoTime() - start), text.toString(), usage,
                List.copyOf(chunks));
    }

    public long cachedTokens() {
        return usage.promptTokensDetails().flatMap(details -> details.cachedTokens()).orElse(0L);
    }
}
