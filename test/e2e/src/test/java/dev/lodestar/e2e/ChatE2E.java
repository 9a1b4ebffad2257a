package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * OpenAI chat and completions through the gateway, streamed and not, with the SDK. The client asks for model
 * {@code llama}, which no server serves: an InferenceModelRewrite sends it to the base model, so every success
 * here proves the rewrite reached the server, and the client must still see {@code llama} in every body and
 * chunk (the EPP rewrites the response back).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
@ExtendWith(DumpLogsOnFailure.class)
class ChatE2E {
    static final String ALIAS = "llama";
    static final String OBJECTS = """
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceModelRewrite
            metadata: {name: llama-alias, namespace: default}
            spec:
              poolRef: {name: pool}
              rules:
              - matches: [{model: {value: llama}}]
                targets: [{modelRewrite: meta-llama/Llama-3.1-8B-Instruct}]
            """;
    private static final String PROMPT = "Say something about end-to-end tests.";

    private LocalStack stack;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        // ext_proc over TLS, as deployed (the EPP's self-signed certificate; the gateway does not verify it).
        stack = LocalStack.builder(ChatE2E.class).subnet(21).servers(2).objects(OBJECTS).eppTls(true).start();
        client = stack.client();
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void chatIsServedUnderTheNameTheClientSent() {
        double routedBefore = routedAlias();
        HttpResponseFor<ChatCompletion> raw = client.chat().completions().withRawResponse()
                .create(chat().maxCompletionTokens(12).build());
        ChatCompletion chat = raw.parse();

        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().values("x-inference-pod")).singleElement()
                .satisfies(pod -> assertThat(stack.servers()).anyMatch(s -> s.podName().equals(pod)));
        assertThat(chat.model()).isEqualTo(ALIAS);
        assertThat(chat.choices()).singleElement()
                .satisfies(choice -> assertThat(choice.message().content()).hasValueSatisfying(
                        text -> assertThat(text).isNotBlank()));
        assertConsistent(chat.usage().orElseThrow());
        // The EPP counted it as llama -> the base model, the name the server answered under.
        assertThat(routedAlias()).isEqualTo(routedBefore + 1);
    }

    @Test
    void streamedChatKeepsTheClientsModelNameAndEndsWithUsage() {
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat()
                .maxCompletionTokens(16)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }

        assertThat(chunks).hasSizeGreaterThan(2).allSatisfy(chunk -> assertThat(chunk.model()).isEqualTo(ALIAS));
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertConsistent(usage);
        String text = chunks.subList(0, chunks.size() - 1).stream()
                .flatMap(chunk -> chunk.choices().stream())
                .map(choice -> choice.delta().content().orElse(""))
                .collect(Collectors.joining());
        assertThat(text).isNotBlank();
        assertThat(chunks.subList(0, chunks.size() - 1)).allSatisfy(chunk -> assertThat(chunk.usage()).isEmpty());
    }

    @Test
    void completionIsServedUnderTheNameTheClientSent() {
        Completion completion = client.completions().create(completion().maxTokens(10).build());

        assertThat(completion.model()).isEqualTo(ALIAS);
        assertThat(completion.choices()).singleElement().satisfies(choice -> assertThat(choice.text()).isNotBlank());
        assertConsistent(completion.usage().orElseThrow());
    }

    @Test
    void streamedCompletionKeepsTheClientsModelNameAndEndsWithUsage() {
        List<Completion> chunks;
        try (StreamResponse<Completion> stream = client.completions().createStreaming(completion().maxTokens(10)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }

        assertThat(chunks).hasSizeGreaterThan(1).allSatisfy(chunk -> assertThat(chunk.model()).isEqualTo(ALIAS));
        Completion last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertConsistent(last.usage().orElseThrow());
        String text = chunks.stream().flatMap(chunk -> chunk.choices().stream())
                .map(choice -> choice.text()).collect(Collectors.joining());
        assertThat(text).isNotBlank();
    }

    @Test
    void theBaseModelNameNeedsNoRewrite() {
        ChatCompletion chat = client.chat().completions().create(chat().model(LocalStack.MODEL)
                .maxCompletionTokens(4).build());

        assertThat(chat.model()).isEqualTo(LocalStack.MODEL);
    }

    @Test
    void aModelNoServerHasIsTheServersNotFound() {
        // No rewrite matches, so the EPP routes the name as sent and the server's 404 comes back unchanged.
        assertThatThrownBy(() -> client.chat().completions().create(chat().model("no-such-model").build()))
                .isInstanceOfSatisfying(NotFoundException.class,
                        e -> assertThat(e.statusCode()).isEqualTo(404));
    }

    private double routedAlias() {
        return stack.eppMetrics().sum("inference_objective_request_total",
                PromText.label("model_name", ALIAS), PromText.label("target_model_name", LocalStack.MODEL));
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return ChatCompletionCreateParams.builder().model(ALIAS).addUserMessage(PROMPT);
    }

    private static CompletionCreateParams.Builder completion() {
        return CompletionCreateParams.builder().model(ALIAS).prompt(PROMPT);
    }

    static void assertConsistent(CompletionUsage usage) {
        assertThat(usage.promptTokens()).isPositive();
        assertThat(usage.completionTokens()).isPositive();
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
    }
}
