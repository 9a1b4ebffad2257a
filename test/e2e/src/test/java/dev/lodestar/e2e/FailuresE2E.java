package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What goes wrong, end to end: bad requests, an empty pool, clients that go away, servers that die, an EPP that
 * dies. One simulator process per server so that one can be killed alone. The picker returns two endpoints
 * (the gateway's fallback list) and the utilization-detector also filters, so endpoints whose metrics are
 * stale leave the candidates. Two gateway pools share the EPP: {@code /v1/completions} goes to a FailClose
 * pool, everything else to a FailOpen pool.
 *
 * <p>The tests run in order; each leaves the stack as it found it except the last, which kills the EPP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(60)
@ExtendWith(DumpLogsOnFailure.class)
class FailuresE2E {
    private static final String CHAT = "/v1/chat/completions";

    private LocalStack stack;
    private OpenAIClient client;
    private final ExecutorService executor = Executors.newCachedThreadPool();

    @BeforeAll
    void start() {
        stack = LocalStack.builder(FailuresE2E.class).subnet(24).servers(3).processPerServer()
                .pickerEndpoints(2)
                .saturationFilter()
                .pool("open", LocalStack.FailureMode.FAIL_OPEN)
                .pool("closed", LocalStack.FailureMode.FAIL_CLOSE)
                .route(new LocalStack.Route("/v1/completions", null, "closed", List.of()))
                .route(LocalStack.Route.all("open"))
                .timeouts("5s", "1s", "30s")
                .start();
        client = stack.client(Duration.ofSeconds(15));
    }

    @AfterAll
    void stop() {
        executor.shutdownNow();
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void malformedJsonIsABadRequestFromTheEpp() {
        HttpResponse<String> truncated = stack.post(CHAT, "{\"model\": \"" + LocalStack.MODEL + "\", \"messages\": [");
        HttpResponse<String> notJson = stack.post(CHAT, "not json at all");

        assertThat(truncated.statusCode()).isEqualTo(400);
        assertThat(truncated.body()).startsWith("inference error: BadRequest - ");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).startsWith("inference error: BadRequest - ");
    }

    @Test
    @Order(2)
    void anEmptyPoolIsServiceUnavailable() {
        stack.setEndpoints(List.of());
        try {
            Wait.until("the EPP to drop every endpoint", Duration.ofSeconds(10), () -> {
                HttpResponse<String> response = stack.post(CHAT, chatBody("anyone there?", 2));
                return response.statusCode() == 503;
            });
            HttpResponse<String> response = stack.post(CHAT, chatBody("anyone there?", 2));
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.body()).startsWith("inference error: ServiceUnavailable - ");
            assertThat(stack.post("/v1/completions", completionBody("anyone?")).statusCode()).isEqualTo(503);
        } finally {
            stack.setEndpoints(stack.servers());
            stack.awaitReadyPods(stack.servers().size(), Duration.ofSeconds(15));
        }
        assertThat(stack.post(CHAT, chatBody("back again", 2)).statusCode()).isEqualTo(200);
    }

    @Test
    @Order(3)
    void aClientThatLeavesMidStreamReleasesItsInFlightRequest() {
        assertThat(inFlight()).isZero();
        // ~10 s of output at 2 ms a token unless the request is cancelled.
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(LocalStack.MODEL)
                .addUserMessage("a very long story").maxCompletionTokens(5000)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build();
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw =
                client.chat().completions().withRawResponse().createStreaming(params);
        LocalStack.Server server = stack.serverByPod(raw.headers().values("x-inference-pod").get(0));
        try (StreamResponse<ChatCompletionChunk> stream = raw.parse()) {
            Iterator<ChatCompletionChunk> chunks = stream.stream().iterator();
            for (int i = 0; i < 5; i++) {
                assertThat(chunks.hasNext()).isTrue();
                chunks.next();
            }
            assertThat(inFlight()).as("in flight while streaming").isEqualTo(1.0);
        } // closing the stream mid-way drops the client's connection

        Wait.until("inference_objective_running_requests to return to 0", Duration.ofSeconds(10),
                () -> inFlight() == 0.0, () -> "in flight " + inFlight());
        Wait.until(server.podName() + " to stop generating for the departed client", Duration.ofSeconds(5),
                () -> stack.serverMetrics(server).sum("vllm:num_requests_running") == 0.0,
                () -> "running " + stack.serverMetrics(server).sum("vllm:num_requests_running"));
    }

    @Test
    @Order(4)
    void aServerThatDiesIsAvoidedAndNoRequestHangs() throws Exception {
        // A long shared prefix: the prefix scorer keeps choosing the server that cached it.
        String system = "You are the support agent of shop " + System.nanoTime() + ". "
                + IntStream.range(0, 400).mapToObj(i -> "rule" + i).collect(Collectors.joining(" "));
        HttpResponseFor<ChatCompletion> first = client.chat().completions().withRawResponse()
                .create(chat(system, "first", 2));
        LocalStack.Server victim = stack.serverByPod(first.headers().values("x-inference-pod").get(0));
        for (int i = 0; i < 3; i++) {
            assertThat(client.chat().completions().withRawResponse().create(chat(system, "again " + i, 2))
                    .headers().values("x-inference-pod")).as("affinity before the crash").containsExactly(victim.podName());
        }
        // A stream in flight on the victim when it dies.
        OpenAIClient streamClient = stack.client(Duration.ofSeconds(15));
        CompletableFuture<Object> inFlight = CompletableFuture.supplyAsync(() -> {
            try (StreamResponse<ChatCompletionChunk> stream = streamClient.chat().completions()
                    .createStreaming(chat(system, "long answer", 4000).toBuilder()
                            .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build())) {
                return stream.stream().count();
            } catch (RuntimeException e) {
                return e;
            }
        }, executor);
        Wait.until("the stream to run on " + victim.podName(), Duration.ofSeconds(10),
                () -> stack.serverMetrics(victim).sum("vllm:num_requests_running") >= 1);

        stack.crash(victim);
        long crashedAt = System.nanoTime();

        // Right after the crash the EPP still knows the victim; requests must still complete, elsewhere.
        List<CompletableFuture<HttpResponseFor<ChatCompletion>>> after = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int n = i;
            OpenAIClient c = stack.client(Duration.ofSeconds(15));
            after.add(CompletableFuture.supplyAsync(() -> c.chat().completions().withRawResponse()
                    .create(chat(system, "after the crash " + n, 2)), executor));
        }
        for (CompletableFuture<HttpResponseFor<ChatCompletion>> request : after) {
            HttpResponseFor<ChatCompletion> response = request.get(20, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().values("x-inference-pod")).doesNotContain(victim.podName());
            assertThat(response.parse().choices()).isNotEmpty();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - crashedAt)).isLessThan(Duration.ofSeconds(20));
        // The stream on the victim ends (with an error or truncated), it does not hang.
        assertThat(inFlight.get(20, TimeUnit.SECONDS)).isNotNull();

        // Once its metrics are stale the EPP stops choosing it at all.
        stack.awaitReadyPods(stack.servers().size() - 1, Duration.ofSeconds(10));
        double pickedBefore = picked(victim);
        for (int i = 0; i < 5; i++) {
            assertThat(client.chat().completions().withRawResponse().create(chat(system, "later " + i, 2))
                    .headers().values("x-inference-pod")).doesNotContain(victim.podName());
        }
        assertThat(picked(victim)).as("EPP picks of the dead server").isEqualTo(pickedBefore);

        stack.restart(victim);
    }

    @Test
    @Order(5)
    void withTheEppDeadAFailOpenPoolServesAndAFailClosePoolRefuses() {
        stack.crashEpp();

        for (int i = 0; i < 4; i++) {
            HttpResponseFor<ChatCompletion> open = client.chat().completions().withRawResponse()
                    .create(chat(null, "fail open " + i, 2));
            assertThat(open.statusCode()).isEqualTo(200);
            assertThat(open.parse().choices()).isNotEmpty();
        }
        Streams streamed = Streams.chat(client, chat(null, "fail open stream", 4));
        assertThat(streamed.text()).isNotBlank();

        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder()
                .model(LocalStack.MODEL).prompt("fail close").maxTokens(2).build()))
                .isInstanceOfSatisfying(OpenAIServiceException.class,
                        e -> assertThat(e.statusCode()).isBetween(500, 599));
        HttpResponse<String> raw = stack.post("/v1/completions", completionBody("fail close"));
        assertThat(raw.statusCode()).isBetween(500, 599);
    }

    private double inFlight() {
        return stack.eppMetrics().sum("inference_objective_running_requests");
    }

    private double picked(LocalStack.Server server) {
        return stack.eppMetrics().sum("inference_extension_scheduler_attempts_total",
                PromText.label("status", "success"), PromText.label("pod_name", server.podName()));
    }

    private static ChatCompletionCreateParams chat(String system, String user, int maxTokens) {
        ChatCompletionCreateParams.Builder builder = ChatCompletionCreateParams.builder().model(LocalStack.MODEL);
        if (system != null) {
            builder.addSystemMessage(system);
        }
        return builder.addUserMessage(user).maxCompletionTokens(maxTokens).build();
    }

    private static String chatBody(String user, int maxTokens) {
        return "{\"model\":\"" + LocalStack.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + user
                + "\"}],\"max_tokens\":" + maxTokens + "}";
    }

    private static String completionBody(String prompt) {
        return "{\"model\":\"" + LocalStack.MODEL + "\",\"prompt\":\"" + prompt + "\",\"max_tokens\":2}";
    }
}
