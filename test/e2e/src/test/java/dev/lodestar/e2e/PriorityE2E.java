package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Priority under saturation (flow control off, GIE's legacy admission): while every server's waiting queue is
 * beyond the utilization-detector's {@code queueDepthThreshold}, a request whose InferenceObjective has a
 * negative priority is shed with 429, and a request of priority >= 0 is still served. Once the queues drain,
 * the sheddable objective is served again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(90)
@ExtendWith(DumpLogsOnFailure.class)
class PriorityE2E {
    private static final String OBJECTIVE_HEADER = "x-gateway-inference-objective";
    private static final String OBJECTS = """
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: batch, namespace: default}
            spec: {priority: -1, poolRef: {name: pool}}
            ---
            apiVersion: inference.networking.x-k8s.io/v1alpha2
            kind: InferenceObjective
            metadata: {name: interactive, namespace: default}
            spec: {priority: 1, poolRef: {name: pool}}
            """;
    // One request runs per server; the rest wait. 300 tokens at 5 ms: each stream holds a server ~1.5 s, so
    // 12 streams keep both queues at >= 1 for ~7 s.
    private static final String SIMULATOR = """
            model: meta-llama/Llama-3.1-8B-Instruct
            mode: random
            max-num-seqs: 1
            max-model-len: 2048
            latency-calculator: per-token
            prefill-overhead: 5ms
            prefill-time-per-token: 20us
            inter-token-latency: 5ms
            """;
    private static final int LOAD_STREAMS = 12;

    private LocalStack stack;
    private OpenAIClient client;
    private ExecutorService load;

    @BeforeAll
    void start() {
        stack = LocalStack.builder(PriorityE2E.class).subnet(25).servers(2).simulator(SIMULATOR).objects(OBJECTS)
                // Saturated = average over endpoints of max(queue / 1, kv / 0.8) >= 1: a waiting request each.
                .saturationDetector("{queueDepthThreshold: 1, kvCacheUtilThreshold: 0.8}")
                .start();
        client = stack.client();
        load = Executors.newFixedThreadPool(LOAD_STREAMS);
    }

    @AfterAll
    void stop() {
        if (load != null) {
            load.shutdownNow();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void sheddableRequestsAreRefusedWhileThePoolIsSaturatedAndOthersAreServed() throws Exception {
        List<CompletableFuture<Integer>> streams = new ArrayList<>();
        for (int i = 0; i < LOAD_STREAMS; i++) {
            int n = i;
            // Raw HTTP: the SDK's OkHttp client runs at most 5 requests per host at once.
            streams.add(CompletableFuture.supplyAsync(() -> longStream(n), load));
        }
        Wait.until("every server to have >= 2 waiting requests", Duration.ofSeconds(15),
                () -> stack.servers().stream().allMatch(s -> waiting(s) >= 2),
                () -> stack.servers().stream().map(s -> s.podName() + " waiting " + waiting(s)).toList().toString());
        Wait.sleep(200); // the EPP scrapes every 50 ms

        String before = loadState();
        assertThatThrownBy(() -> client.chat().completions().create(chat("batch")))
                .as(() -> "sheddable request while saturated; before: " + before + "; after: " + loadState())
                .isInstanceOfSatisfying(RateLimitException.class, e -> assertThat(e.statusCode()).isEqualTo(429));
        HttpResponse<String> raw = stack.post("/v1/chat/completions",
                "{\"model\":\"" + LocalStack.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"max_tokens\":2}", OBJECTIVE_HEADER, "batch");
        assertThat(raw.statusCode()).isEqualTo(429);
        assertThat(raw.body()).startsWith("inference error: ResourceExhausted - ");
        assertThat(stack.servers()).as("still saturated after the shed requests")
                .allSatisfy(s -> assertThat(waiting(s)).isGreaterThanOrEqualTo(1));

        // Priority >= 0 is admitted however saturated the pool is (it waits in a server queue).
        ChatCompletion interactive = client.chat().completions().create(chat("interactive"));
        assertThat(interactive.choices()).isNotEmpty();

        for (CompletableFuture<Integer> stream : streams) {
            assertThat(stream.get(30, TimeUnit.SECONDS)).as("tokens of a load stream").isPositive();
        }
        Wait.until("the queues to drain", Duration.ofSeconds(15),
                () -> stack.servers().stream().allMatch(s -> waiting(s) == 0));
        Wait.sleep(300);
        ChatCompletion batch = client.chat().completions().create(chat("batch"));
        assertThat(batch.choices()).as("sheddable request once the pool is not saturated").isNotEmpty();
    }

    private ChatCompletionCreateParams chat(String objective) {
        return ChatCompletionCreateParams.builder().model(LocalStack.MODEL).addUserMessage("short one")
                .maxCompletionTokens(2).putAdditionalHeader(OBJECTIVE_HEADER, objective).build();
    }

    /**
     * A 300-token stream over raw HTTP (so that an error shows its status and body); returns the number of
     * {@code data:} events with a JSON chunk.
     */
    private int longStream(int n) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + LocalStack.MODEL + "\",\"messages\":"
                        + "[{\"role\":\"user\",\"content\":\"load " + n + "\"}],\"max_tokens\":300,"
                        + "\"ignore_eos\":true,\"stream\":true}"))
                .build();
        try {
            HttpResponse<Stream<String>> response = stack.http().send(request, HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                if (response.statusCode() != 200) {
                    throw new AssertionError("load stream " + n + " answered " + response.statusCode() + " "
                            + response.headers().map() + ": " + lines.collect(Collectors.joining("\n")));
                }
                return (int) lines.filter(line -> line.startsWith("data: {")).count();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("load stream " + n, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The servers' queues and the EPP's view of them, for failure messages. */
    private String loadState() {
        return stack.servers().stream().map(s -> s.podName() + " waiting " + waiting(s)).toList()
                + ", EPP inference_pool_average_queue_size " + stack.eppMetrics().sum("inference_pool_average_queue_size");
    }

    private double waiting(LocalStack.Server server) {
        return stack.serverMetrics(server).sum("vllm:num_requests_waiting");
    }
}
