package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The shared OpenAI scenarios against Lodestar's simulator, run in-process, plus behaviour only Lodestar
 * claims: vLLM's flat error body, stricter request validation, echo truncation, the waiting-queue limit and
 * failure injection. Besides the main target, the fleet runs three single-purpose servers.
 */
class SimulatorOpenAiTest extends OpenAiCompatibilityScenarios {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fleet fleet;
    private SimulatedServer queue;
    private OpenAIClient echoClient;
    private OpenAIClient queueClient;
    private OpenAIClient failingClient;

    @Override
    protected Target startTarget() {
        SimulatorConfig main = SimulatorConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .podName(POD_NAME)
                .model(MODEL)
                .loraModules(List.of(new SimulatorConfig.LoraModule(LORA, LORA_PATH)))
                .mode(SimulatorConfig.Mode.RANDOM)
                .seed(SEED)
                .maxModelLen(MAX_MODEL_LEN)
                .blockSize(BLOCK_SIZE)
                .timeToFirstToken(TIME_TO_FIRST_TOKEN)
                .interTokenLatency(INTER_TOKEN_LATENCY)
                .build();
        SimulatorConfig echoConfig = main.toBuilder().podName("echo-pod").mode(SimulatorConfig.Mode.ECHO).build();
        // One running request, one waiting; each holds its slot for two seconds, so the queue stays full
        // long enough to be observed.
        SimulatorConfig queueConfig = main.toBuilder().podName("queue-pod")
                .maxNumSeqs(1).maxWaitingQueueLength(1).timeToFirstToken(Duration.ofSeconds(2)).build();
        SimulatorConfig failingConfig = main.toBuilder().podName("failing-pod")
                .failureInjectionRate(100).failureTypes(List.of(FailureType.INVALID_API_KEY)).build();
        fleet = Fleet.start(List.of(main, echoConfig, queueConfig, failingConfig));
        queue = fleet.servers().get(2);
        echoClient = sdkClient(fleet.servers().get(1).baseUrl());
        queueClient = sdkClient(queue.baseUrl());
        failingClient = sdkClient(fleet.servers().get(3).baseUrl());
        return new Target(fleet.servers().get(0).baseUrl(), MODEL, LORA, POD_NAME);
    }

    @Override
    protected void stopTarget() {
        for (OpenAIClient extra : new OpenAIClient[] {echoClient, queueClient, failingClient}) {
            if (extra != null) {
                extra.close();
            }
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    // ---- vLLM's error body --------------------------------------------------------------------------

    @Test
    void malformedJsonGetsVllmErrorBody() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", "{\"model\": ");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("content-type")).contains("application/json");
        JsonNode body = JSON.readTree(response.body());
        assertVllmError(body, 400, "BadRequestError");
        assertThat(body.get("message").asText()).startsWith("Failed to parse request body as JSON");
        assertThat(body.get("param").isNull()).isTrue();
    }

    @Test
    void chatWithoutMessagesIsRejected() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", "{\"model\":\"" + MODEL + "\"}");

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode body = JSON.readTree(response.body());
        assertVllmError(body, 400, "BadRequestError");
        assertThat(body.get("param").asText()).isEqualTo("messages");
    }

    @Test
    void moreThanOneChoiceIsRejected() throws Exception {
        HttpResponse<String> response = post("/v1/completions",
                "{\"model\":\"" + MODEL + "\",\"prompt\":\"Hi\",\"n\":2}");

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode body = JSON.readTree(response.body());
        assertVllmError(body, 400, "BadRequestError");
        assertThat(body.get("param").asText()).isEqualTo("n");
    }

    @Test
    void unknownModelGetsVllmNotFoundBody() throws Exception {
        HttpResponse<String> response = post("/v1/completions", "{\"model\":\"no-such-model\",\"prompt\":\"Hi\"}");

        assertThat(response.statusCode()).isEqualTo(404);
        JsonNode body = JSON.readTree(response.body());
        assertVllmError(body, 404, "NotFoundError");
        assertThat(body.get("message").asText()).isEqualTo("The model `no-such-model` does not exist.");
        assertThat(body.get("param").asText()).isEqualTo("model");
    }

    @Test
    void streamedRequestBeyondMaxModelLenFailsBeforeTheStreamStarts() {
        // llm-d-inference-sim checks the context window after queueing and answers 200 with an SSE error frame.
        assertStatus(() -> streamChat(chat("Hi").maxCompletionTokens(MAX_MODEL_LEN).build()),
                BadRequestException.class, 400);
    }

    // ---- echo mode ----------------------------------------------------------------------------------

    @Test
    void echoModeTruncatesAtMaxTokens() {
        Completion truncated = echoClient.completions().create(
                completion("one two three four five six seven eight").maxTokens(3).build());
        Completion whole = echoClient.completions().create(
                completion("one two three").maxTokens(10).build());
        ChatCompletion chat = echoClient.chat().completions().create(chat("alpha beta gamma delta")
                .maxCompletionTokens(2).build());

        assertThat(truncated.choices().get(0).text()).as("tokens keep the whitespace after them").isEqualTo("one two three ");
        assertThat(truncated.choices().get(0).finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        assertThat(truncated.usage().orElseThrow().completionTokens()).isEqualTo(3);
        assertThat(whole.choices().get(0).text()).isEqualTo("one two three");
        assertThat(whole.choices().get(0).finishReason()).isEqualTo(CompletionChoice.FinishReason.STOP);
        assertThat(chat.choices().get(0).message().content()).contains("alpha beta ");
        assertThat(chat.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
    }

    // ---- overload and failure injection -------------------------------------------------------------

    @Test
    void fullWaitingQueueIsRateLimited() throws Exception {
        String request = "{\"model\":\"" + MODEL + "\",\"prompt\":\"Hi\",\"max_tokens\":1}";
        HttpRequest slow = HttpRequest.newBuilder(URI.create(queue.baseUrl() + "/v1/completions"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request))
                .build();
        CompletableFuture<HttpResponse<String>> running = http.sendAsync(slow, HttpResponse.BodyHandlers.ofString());
        awaitCondition(() -> queue.engine().runningRequests() == 1, "first request running");
        CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(slow, HttpResponse.BodyHandlers.ofString());
        awaitCondition(() -> queue.engine().waitingRequests() == 1, "second request waiting");

        assertStatus(() -> queueClient.completions().create(completion("Hi").maxTokens(1).build()),
                RateLimitException.class, 429);
        assertThat(running.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(waiting.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void failureInjectionAtFullRateReturnsTheConfiguredError() {
        for (int i = 0; i < 3; i++) {
            assertStatus(() -> failingClient.chat().completions().create(chat("Hi").build()),
                    UnauthorizedException.class, 401);
        }
        // Injection comes before the model check, as in llm-d-inference-sim.
        assertStatus(() -> failingClient.completions().create(completion("Hi").model("no-such-model").build()),
                UnauthorizedException.class, 401);
    }

    @Test
    void unknownPathIsNotFound() throws Exception {
        assertThat(post("/v1/no-such-endpoint", "{}").statusCode()).isEqualTo(404);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static void assertVllmError(JsonNode body, int code, String type) {
        assertThat(body.isObject()).isTrue();
        List<String> fields = new ArrayList<>();
        body.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("object", "message", "type", "param", "code");
        assertThat(body.get("object").asText()).isEqualTo("error");
        assertThat(body.get("message").asText()).isNotBlank();
        assertThat(body.get("type").asText()).isEqualTo(type);
        assertThat(body.get("code").isInt()).isTrue();
        assertThat(body.get("code").asInt()).isEqualTo(code);
    }

    private static void awaitCondition(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after 5 s waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }
}
