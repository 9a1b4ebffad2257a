package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The stack with llm-d-inference-sim model servers instead of Lodestar's simulator: the EPP scrapes their vLLM
 * metrics (every server ready), and the gateway routes and streams their answers.
 *
 * <p>The binary comes from {@value #BINARY_ENV} (hack/test.sh builds it with
 * hack/install-llm-d-inference-sim.sh and sets it, together with {@value #REQUIRED_ENV}). Without it the class
 * fails when {@value #REQUIRED_ENV} is set, and otherwise (a run outside hack/test.sh) is skipped with the
 * reason printed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
@ExtendWith(DumpLogsOnFailure.class)
class InteropE2E {
    static final String BINARY_ENV = "LLMD_INFERENCE_SIM";
    static final String REQUIRED_ENV = "LODESTAR_REQUIRE_INTEROP";

    private LocalStack stack;
    private OpenAIClient client;
    private String skipReason;

    @BeforeAll
    void start() {
        String binary = System.getenv(BINARY_ENV);
        if (binary == null || binary.isBlank()) {
            String reason = BINARY_ENV + " is not set: InteropE2E needs llm-d-inference-sim. Run hack/test.sh, or build"
                    + " it with hack/install-llm-d-inference-sim.sh and set " + BINARY_ENV + " to the path it prints.";
            if (System.getenv(REQUIRED_ENV) != null) {
                fail(reason + " (" + REQUIRED_ENV + " is set, so this is an error, not a skip)");
            }
            System.err.println("e2e: skipping InteropE2E: " + reason);
            skipReason = reason; // aborted in @BeforeEach: an aborted @BeforeAll reports 0 tests, not skips
            return;
        }
        Path path = Path.of(binary);
        if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
            fail(BINARY_ENV + "=" + binary + " is not an executable file");
        }
        stack = LocalStack.builder(InteropE2E.class).servers(2)
                .llmdInferenceSim(path, List.of(
                        "--model", LocalStack.MODEL,
                        "--mode", "random",
                        "--seed", "7",
                        "--max-num-seqs", "8",
                        "--max-model-len", "4096",
                        "--block-size", "16",
                        "--time-to-first-token", "10ms",
                        "--inter-token-latency", "2ms",
                        "--force-dummy-tokenizer",
                        "--enable-kvcache"))
                .start();
        client = stack.client();
    }

    @BeforeEach
    void skipWithoutTheBinary() {
        Assumptions.assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void theEppScrapesEveryServersMetrics() {
        PromText epp = stack.eppMetrics();

        assertThat(epp.sum("inference_pool_ready_pods")).isEqualTo(2.0);
        assertThat(epp.has("inference_pool_average_kv_cache_utilization")).isTrue();
        assertThat(stack.serverMetrics(stack.server(0)).has("vllm:num_requests_waiting")).isTrue();
    }

    @Test
    void requestsAreRoutedToTheServersAndAnsweredUnderTheirModel() {
        Set<String> pods = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            HttpResponseFor<ChatCompletion> raw = client.chat().completions().withRawResponse().create(
                    ChatCompletionCreateParams.builder().model(LocalStack.MODEL)
                            .addUserMessage(UUID.randomUUID() + " hello").maxCompletionTokens(4).build());
            ChatCompletion chat = raw.parse();
            assertThat(raw.statusCode()).isEqualTo(200);
            assertThat(chat.model()).isEqualTo(LocalStack.MODEL);
            assertThat(chat.choices()).singleElement().satisfies(choice ->
                    assertThat(choice.message().content()).hasValueSatisfying(t -> assertThat(t).isNotBlank()));
            pods.addAll(raw.headers().values("x-inference-pod"));
        }

        assertThat(pods).isNotEmpty()
                .allSatisfy(pod -> assertThat(stack.servers()).anyMatch(s -> s.podName().equals(pod)));
    }

    @Test
    void streamsArriveWholeWithUsage() {
        Streams streamed = Streams.chat(client, ChatCompletionCreateParams.builder().model(LocalStack.MODEL)
                .addUserMessage("stream through the gateway").maxCompletionTokens(12).build());

        assertThat(streamed.pod()).isNotNull();
        assertThat(streamed.text()).isNotBlank();
        assertThat(streamed.chunks()).allSatisfy(chunk -> assertThat(chunk.model()).isEqualTo(LocalStack.MODEL));
        assertThat(streamed.usage()).isNotNull();
        ChatE2E.assertConsistent(streamed.usage());
    }
}
