package dev.lodestar.simulator;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * OpenAI-compatibility scenarios that Lodestar's simulator and llm-d-inference-sim must both pass, so that
 * clients can use either one. The client is the official OpenAI Java SDK; raw HTTP is used only for what
 * the SDK hides (headers, the SSE framing, bodies that are not JSON).
 *
 * <p>A subclass starts one target server per class, described by a {@link Target}: a base model with one
 * LoRA adapter, a pod name, {@code random} mode (echo mode differs between the two), max-model-len
 * {@link #MAX_MODEL_LEN}, prefix caching on with block size {@link #BLOCK_SIZE}, and small latencies;
 * the constants below are the values both subclasses use. A scenario belongs here only when both
 * servers claim the behaviour; errors are therefore checked by status and SDK exception type, not by
 * body shape (llm-d-inference-sim nests the error under {@code "error"}, Lodestar answers vLLM's flat
 * {@code {"object":"error",...}}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class OpenAiCompatibilityScenarios {
    // The settings both subclasses give their server. The names reach the scenarios through Target.
    protected static final String MODEL = "test-model";
    protected static final String LORA = "test-lora";
    protected static final String LORA_PATH = "/adapters/test-lora";
    protected static final String POD_NAME = "interop-pod-0";
    protected static final int MAX_MODEL_LEN = 1024;
    protected static final int BLOCK_SIZE = 16;
    protected static final long SEED = 42;
    protected static final Duration TIME_TO_FIRST_TOKEN = Duration.ofMillis(10);
    protected static final Duration INTER_TOKEN_LATENCY = Duration.ofMillis(5);

    private static final String PROMPT = "Explain in one sentence why a warm prefix cache makes answers faster.";

    /**
     * A running server: where to reach it, the name of its base model and of its LoRA adapter, and the pod
     * name it reports in {@code x-inference-pod}.
     */
    protected record Target(String baseUrl, String baseModel, String loraAdapter, String podName) {
        int port() {
            return URI.create(baseUrl).getPort();
        }
    }

    /**
     * Starts the server under test with the settings described in the class comment. A failed JUnit
     * assumption here skips every scenario with its message.
     */
    protected abstract Target startTarget() throws Exception;

    /** Stops what {@link #startTarget()} started. Called even when some tests failed. */
    protected abstract void stopTarget() throws Exception;

    protected Target target;
    protected OpenAIClient client;
    protected HttpClient http;
    private String targetUnavailable;

    @BeforeAll
    final void startTargetAndClients() throws Exception {
        try {
            target = startTarget();
        } catch (TestAbortedException e) {
            // Skip each test with the reason: an aborted @BeforeAll alone shows up in reports as 0 tests run.
            targetUnavailable = e.getMessage();
            return;
        }
        client = sdkClient(target.baseUrl());
        http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @BeforeEach
    final void skipWhenTargetUnavailable() {
        if (targetUnavailable != null) {
            Assumptions.abort(targetUnavailable);
        }
    }

    @AfterAll
    final void stopTargetAndClients() throws Exception {
        try {
            if (client != null) {
                client.close();
            }
            if (http != null) {
                http.close();
            }
        } finally {
            stopTarget();
        }
    }

    /** An SDK client for {@code baseUrl}: dummy key, no retries (a retried 429 would hide the error). */
    protected static OpenAIClient sdkClient(String baseUrl) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(baseUrl + "/v1")
                .apiKey("sk-test-not-checked")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(30))
                .build();
    }

    // ---- completions -------------------------------------------------------------------------------

    @Test
    void completionReturnsTextUsageAndFinishReason() {
        Completion completion = client.completions().create(completion(PROMPT).maxTokens(20).build());

        assertThat(completion.model()).isEqualTo(target.baseModel());
        assertThat(completion.choices()).hasSize(1);
        CompletionChoice choice = completion.choices().get(0);
        assertThat(choice.text()).isNotBlank();
        CompletionUsage usage = completion.usage().orElseThrow();
        assertConsistent(usage);
        assertThat(usage.completionTokens()).isBetween(1L, 20L);
        // Random mode stops early ("stop") or runs into max_tokens ("length"), and says which.
        assertThat(choice.finishReason()).isEqualTo(usage.completionTokens() == 20
                ? CompletionChoice.FinishReason.LENGTH
                : CompletionChoice.FinishReason.STOP);
    }

    @Test
    void completionWithIgnoreEosGeneratesExactlyMaxTokens() {
        Completion completion = client.completions().create(completion(PROMPT).maxTokens(7)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());

        CompletionUsage usage = completion.usage().orElseThrow();
        assertConsistent(usage);
        assertThat(usage.completionTokens()).isEqualTo(7);
        assertThat(completion.choices().get(0).text()).isNotBlank();
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
    }

    @Test
    void streamedCompletionHasOneChunkPerTokenAndNoUsageUnlessAsked() {
        List<Completion> chunks = streamCompletion(completion(PROMPT).maxTokens(6)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());

        assertThat(chunks).allSatisfy(chunk -> {
            assertThat(chunk.model()).isEqualTo(target.baseModel());
            assertThat(chunk.usage()).isEmpty();
            assertThat(chunk.choices()).hasSize(1);
        });
        List<String> texts = chunks.stream().map(chunk -> chunk.choices().get(0).text()).toList();
        assertThat(texts.stream().filter(text -> !text.isEmpty())).hasSize(6);
        assertFinishReasonOnlyAtEnd(chunks.stream().map(chunk -> finishReason(chunk.choices().get(0))).toList(),
                "length");
        assertThat(chunks).extracting(Completion::id).containsOnly(chunks.get(0).id());
    }

    @Test
    void streamedCompletionEndsWithUsageChunkWhenIncludeUsageIsSet() {
        List<Completion> chunks = streamCompletion(completion(PROMPT).maxTokens(6)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());

        Completion last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertConsistent(usage);
        assertThat(usage.completionTokens()).isEqualTo(6);
        List<Completion> content = chunks.subList(0, chunks.size() - 1);
        assertThat(content).isNotEmpty().allSatisfy(chunk -> {
            assertThat(chunk.usage()).isEmpty();
            assertThat(chunk.choices()).hasSize(1);
        });
        String text = content.stream().map(chunk -> chunk.choices().get(0).text()).collect(Collectors.joining());
        assertThat(text).isNotBlank();
        assertFinishReasonOnlyAtEnd(content.stream().map(chunk -> finishReason(chunk.choices().get(0))).toList(),
                "length");
    }

    // ---- chat ---------------------------------------------------------------------------------------

    @Test
    void chatReturnsAssistantMessageUsageAndFinishReason() {
        ChatCompletion chat = client.chat().completions().create(chat(PROMPT).maxCompletionTokens(20).build());

        assertThat(chat.model()).isEqualTo(target.baseModel());
        assertThat(chat.choices()).hasSize(1);
        ChatCompletion.Choice choice = chat.choices().get(0);
        assertThat(choice.message()._role()).isEqualTo(JsonValue.from("assistant"));
        assertThat(choice.message().content()).hasValueSatisfying(content -> assertThat(content).isNotBlank());
        CompletionUsage usage = chat.usage().orElseThrow();
        assertConsistent(usage);
        assertThat(usage.completionTokens()).isBetween(1L, 20L);
        assertThat(choice.finishReason()).isEqualTo(usage.completionTokens() == 20
                ? ChatCompletion.Choice.FinishReason.LENGTH
                : ChatCompletion.Choice.FinishReason.STOP);
    }

    @Test
    void chatWithIgnoreEosGeneratesExactlyMaxTokens() {
        // max_tokens rather than max_completion_tokens: the SDK deprecates it, but clients still send it.
        ChatCompletion chat = client.chat().completions().create(chat(PROMPT)
                .putAdditionalBodyProperty("max_tokens", JsonValue.from(5))
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());

        assertThat(chat.usage().orElseThrow().completionTokens()).isEqualTo(5);
        assertThat(chat.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
    }

    @Test
    void streamedChatStartsWithAssistantRoleAndHasNoUsageUnlessAsked() {
        List<ChatCompletionChunk> chunks = streamChat(chat(PROMPT).maxCompletionTokens(6)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());

        assertThat(chunks).allSatisfy(chunk -> {
            assertThat(chunk.model()).isEqualTo(target.baseModel());
            assertThat(chunk.usage()).isEmpty();
            assertThat(chunk.choices()).hasSize(1);
        });
        assertThat(chunks.get(0).choices().get(0).delta().role())
                .contains(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT);
        List<String> pieces = chunks.stream()
                .map(chunk -> chunk.choices().get(0).delta().content().orElse(""))
                .filter(piece -> !piece.isEmpty())
                .toList();
        assertThat(pieces).hasSize(6);
        assertFinishReasonOnlyAtEnd(chunks.stream()
                .map(chunk -> finishReason(chunk.choices().get(0)))
                .toList(), "length");
    }

    @Test
    void streamedChatEndsWithUsageChunkWhenIncludeUsageIsSet() {
        List<ChatCompletionChunk> chunks = streamChat(chat(PROMPT).maxCompletionTokens(20)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());

        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertConsistent(usage);
        List<ChatCompletionChunk> content = chunks.subList(0, chunks.size() - 1);
        assertThat(content).isNotEmpty().allSatisfy(chunk -> assertThat(chunk.usage()).isEmpty());
        String text = content.stream()
                .map(chunk -> chunk.choices().get(0).delta().content().orElse(""))
                .collect(Collectors.joining());
        assertThat(text).isNotBlank();
        String expectedFinish = usage.completionTokens() == 20 ? "length" : "stop";
        assertFinishReasonOnlyAtEnd(content.stream()
                .map(chunk -> finishReason(chunk.choices().get(0)))
                .toList(), expectedFinish);
    }

    @Test
    void sseStreamIsDataFramesEndingWithDone() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"Hi there"}],"max_tokens":4,"stream":true}
                """.formatted(target.baseModel()));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/event-stream"));
        List<String> events = List.of(response.body().split("\n\n"));
        assertThat(events).isNotEmpty().allSatisfy(event -> assertThat(event).startsWith("data: "));
        assertThat(events.get(events.size() - 1)).isEqualTo("data: [DONE]");
        assertThat(events.subList(0, events.size() - 1)).isNotEmpty()
                .allSatisfy(event -> assertThat(event).startsWith("data: {"));
    }

    // ---- server identity, models, health -----------------------------------------------------------

    @Test
    void responsesNameThePodAndPortThatServedThem() throws Exception {
        HttpResponse<String> response = post("/v1/completions", """
                {"model":"%s","prompt":"Hi","max_tokens":2}
                """.formatted(target.baseModel()));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-pod")).contains(target.podName());
        assertThat(response.headers().firstValue("x-inference-port")).contains(Integer.toString(target.port()));
    }

    @Test
    void modelsListsTheBaseModelAndTheLoraAdapter() {
        List<Model> models = client.models().list().data();

        assertThat(models).extracting(Model::id).containsExactlyInAnyOrder(target.baseModel(), target.loraAdapter());
        assertThat(models).extracting(Model::ownedBy).containsOnly("vllm");
    }

    @Test
    void healthIsOk() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/health"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void loraRequestIsServedUnderTheAdapterName() {
        String lora = target.loraAdapter();
        ChatCompletion chat = client.chat().completions().create(
                chat(PROMPT).model(lora).maxCompletionTokens(8).build());
        Completion completion = client.completions().create(completion(PROMPT).model(lora).maxTokens(8).build());

        assertThat(chat.model()).isEqualTo(lora);
        assertThat(chat.choices().get(0).message().content()).hasValueSatisfying(c -> assertThat(c).isNotBlank());
        assertThat(completion.model()).isEqualTo(lora);
        assertThat(completion.choices().get(0).text()).isNotBlank();
    }

    @Test
    void repeatedLongPromptIsServedFromThePrefixCache() {
        // A unique head keeps other tests' prompts from sharing its first block.
        String prompt = UUID.randomUUID() + " " + IntStream.rangeClosed(1, 80)
                .mapToObj(i -> "word" + i).collect(Collectors.joining(" "));
        CompletionCreateParams params = completion(prompt).maxTokens(3).build();

        CompletionUsage first = client.completions().create(params).usage().orElseThrow();
        CompletionUsage second = client.completions().create(params).usage().orElseThrow();

        assertThat(first.promptTokens()).isGreaterThan(3L * BLOCK_SIZE);
        assertThat(second.promptTokens()).isEqualTo(first.promptTokens());
        assertThat(cachedTokens(first)).isZero();
        assertThat(cachedTokens(second)).isPositive().isLessThanOrEqualTo(second.promptTokens());
    }

    // ---- errors --------------------------------------------------------------------------------------

    @Test
    void unknownModelIsNotFound() {
        assertStatus(() -> client.chat().completions().create(chat(PROMPT).model("no-such-model").build()),
                NotFoundException.class, 404);
        assertStatus(() -> client.completions().create(completion(PROMPT).model("no-such-model").build()),
                NotFoundException.class, 404);
        assertStatus(() -> streamChat(chat(PROMPT).model("no-such-model").build()), NotFoundException.class, 404);
    }

    @Test
    void malformedJsonIsBadRequest() throws Exception {
        String truncated = "{\"model\": \"" + target.baseModel() + "\", \"messages\": [";
        assertThat(post("/v1/chat/completions", truncated).statusCode()).isEqualTo(400);
        assertThat(post("/v1/completions", "not json at all").statusCode()).isEqualTo(400);
    }

    @Test
    void nonPositiveMaxTokensIsBadRequest() {
        assertStatus(() -> client.completions().create(completion(PROMPT).maxTokens(0).build()),
                BadRequestException.class, 400);
        assertStatus(() -> client.chat().completions().create(chat(PROMPT).maxCompletionTokens(0).build()),
                BadRequestException.class, 400);
        assertStatus(() -> client.chat().completions().create(chat(PROMPT)
                        .putAdditionalBodyProperty("max_tokens", JsonValue.from(-1)).build()),
                BadRequestException.class, 400);
    }

    @Test
    void promptPlusMaxTokensBeyondMaxModelLenIsBadRequest() {
        assertStatus(() -> client.completions().create(completion(PROMPT).maxTokens(MAX_MODEL_LEN).build()),
                BadRequestException.class, 400);
        assertStatus(() -> client.chat().completions().create(chat(PROMPT).maxCompletionTokens(MAX_MODEL_LEN).build()),
                BadRequestException.class, 400);
    }

    @Test
    void xReturnErrorHeaderForcesThatStatus() {
        assertStatus(() -> client.chat().completions().create(chat(PROMPT)
                        .putAdditionalHeader("X-Return-Error", "429").build()),
                RateLimitException.class, 429);
        assertStatus(() -> streamCompletion(completion(PROMPT)
                        .putAdditionalHeader("X-Return-Error", "429").build()),
                RateLimitException.class, 429);
        assertStatus(() -> client.completions().create(completion(PROMPT)
                        .putAdditionalHeader("X-Return-Error", "503").build()),
                InternalServerException.class, 503);
    }

    @Test
    void getOnACompletionEndpointIsMethodNotAllowed() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(405);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    /** Completion parameters for the base model. */
    protected CompletionCreateParams.Builder completion(String prompt) {
        return CompletionCreateParams.builder().model(target.baseModel()).prompt(prompt);
    }

    /** Chat parameters for the base model with one user message. */
    protected ChatCompletionCreateParams.Builder chat(String userMessage) {
        return ChatCompletionCreateParams.builder().model(target.baseModel()).addUserMessage(userMessage);
    }

    protected List<Completion> streamCompletion(CompletionCreateParams params) {
        try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
            return stream.stream().toList();
        }
    }

    protected List<ChatCompletionChunk> streamChat(ChatCompletionCreateParams params) {
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            return stream.stream().toList();
        }
    }

    protected HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    protected URI uri(String path) {
        return URI.create(target.baseUrl() + path);
    }

    /** Asserts that {@code call} fails with exception type {@code type} carrying HTTP status {@code status}. */
    protected static void assertStatus(Runnable call, Class<? extends OpenAIServiceException> type, int status) {
        assertThatThrownBy(call::run)
                .isInstanceOf(type)
                .satisfies(e -> assertThat(((OpenAIServiceException) e).statusCode()).isEqualTo(status));
    }

    private static void assertConsistent(CompletionUsage usage) {
        assertThat(usage.promptTokens()).isPositive();
        assertThat(usage.completionTokens()).isPositive();
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
    }

    private static long cachedTokens(CompletionUsage usage) {
        return usage.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
    }

    /** A streamed choice's finish reason, empty while it is null ({@code finishReason()} throws on null). */
    private static Optional<String> finishReason(CompletionChoice choice) {
        return choice._finishReason().asKnown().map(CompletionChoice.FinishReason::asString);
    }

    private static Optional<String> finishReason(ChatCompletionChunk.Choice choice) {
        return choice.finishReason().map(ChatCompletionChunk.Choice.FinishReason::asString);
    }

    /** The last chunk carries {@code expected}; no chunk before it carries any finish reason. */
    private static void assertFinishReasonOnlyAtEnd(List<Optional<String>> finishReasons, String expected) {
        assertThat(finishReasons).isNotEmpty();
        assertThat(finishReasons.get(finishReasons.size() - 1)).contains(expected);
        assertThat(finishReasons.subList(0, finishReasons.size() - 1)).allSatisfy(
                reason -> assertThat(reason).isEmpty());
    }
}
