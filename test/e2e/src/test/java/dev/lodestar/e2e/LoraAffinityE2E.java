package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * LoRA affinity by subset: only the first server has adapter {@code food-review-1}; the gateway's route for that
 * model sends the EPP an endpoint subset hint naming it, and the EPP must pick inside the subset (any other
 * server would answer 404 for the adapter). Requests for the base model take the other route, with no hint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
@ExtendWith(DumpLogsOnFailure.class)
class LoraAffinityE2E {
    static final String ADAPTER = "food-review-1";

    private LocalStack stack;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        stack = LocalStack.builder(LoraAffinityE2E.class).subnet(23).servers(4)
                .server(0, "lora-modules: ['{\"name\":\"food-review-1\",\"path\":\"/adapters/food-review-1\"}']")
                .pool("llama", LocalStack.FailureMode.FAIL_CLOSE)
                .route(new LocalStack.Route("/v1/", ADAPTER, "llama", List.of(0)))
                .route(LocalStack.Route.all("llama"))
                .start();
        client = stack.client();
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void adapterRequestsGoToTheServerOfTheSubset() {
        String expected = stack.server(0).podName();
        for (int i = 0; i < 6; i++) {
            // Different prompts and both APIs: nothing but the subset keeps them on one server.
            HttpResponseFor<ChatCompletion> chat = client.chat().completions().withRawResponse().create(
                    ChatCompletionCreateParams.builder().model(ADAPTER)
                            .addUserMessage(UUID.randomUUID() + " how was the food?").maxCompletionTokens(4).build());
            HttpResponseFor<Completion> completion = client.completions().withRawResponse().create(
                    CompletionCreateParams.builder().model(ADAPTER)
                            .prompt(UUID.randomUUID() + " review:").maxTokens(4).build());

            assertThat(chat.headers().values("x-inference-pod")).containsExactly(expected);
            assertThat(chat.parse().model()).isEqualTo(ADAPTER);
            assertThat(completion.headers().values("x-inference-pod")).containsExactly(expected);
            assertThat(completion.parse().model()).isEqualTo(ADAPTER);
        }
        Streams streamed = Streams.chat(client, ChatCompletionCreateParams.builder().model(ADAPTER)
                .addUserMessage("stream it").maxCompletionTokens(6).build());
        assertThat(streamed.pod()).isEqualTo(expected);
        assertThat(streamed.text()).isNotBlank();
        assertThat(streamed.chunks()).allSatisfy(chunk -> assertThat(chunk.model()).isEqualTo(ADAPTER));
    }

    @Test
    void baseModelRequestsHaveNoSubsetAndUseThePool() {
        Set<String> pods = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            HttpResponseFor<ChatCompletion> chat = client.chat().completions().withRawResponse().create(
                    ChatCompletionCreateParams.builder().model(LocalStack.MODEL)
                            .addUserMessage(UUID.randomUUID() + " anything").maxCompletionTokens(2).build());
            pods.addAll(chat.headers().values("x-inference-pod"));
        }

        assertThat(pods).hasSizeGreaterThanOrEqualTo(2);
    }
}
