package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prefix-cache affinity through the whole path: requests that share a long system prompt follow the first one
 * to its server (GIE's default profile: prefix-cache-scorer 3, queue 2, kv-cache 2), where the simulator
 * serves the shared part from its prefix cache, so time to first token drops and usage reports cached tokens.
 * Unrelated prompts have no affinity and spread over the pool.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(90)
@ExtendWith(DumpLogsOnFailure.class)
class PrefixAffinityE2E {
    // Prefill of ~1,000 uncached tokens takes ~150 ms; a cached system prompt leaves a few ms.
    private static final String SIMULATOR = """
            model: meta-llama/Llama-3.1-8B-Instruct
            mode: random
            seed: 7
            max-num-seqs: 8
            max-model-len: 8192
            kv-cache-size: 2048
            block-size: 16
            latency-calculator: per-token
            prefill-overhead: 5ms
            prefill-time-per-token: 150us
            inter-token-latency: 2ms
            """;

    private LocalStack stack;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        stack = LocalStack.builder(PrefixAffinityE2E.class).subnet(22).servers(4).simulator(SIMULATOR).start();
        client = stack.client();
        // Warm the path (JIT, connections) so that the first measured request is not slow for other reasons.
        for (int i = 0; i < 4; i++) {
            Streams.chat(client, chat(null, "warm-up " + i).maxCompletionTokens(2).build());
        }
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void requestsSharingALongSystemPromptStayOnTheFirstOnesServerAndHitItsCache() {
        String system = systemPrompt(new Random(42));
        assertThat(system.length()).isGreaterThan(4000);

        Streams first = Streams.chat(client, chat(system, "What is the first step?").maxCompletionTokens(4).build());
        assertThat(first.pod()).isNotNull();
        assertThat(first.cachedTokens()).isZero();

        List<Streams> followers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            followers.add(Streams.chat(client, chat(system, "Question " + i + ": and then?")
                    .maxCompletionTokens(4).build()));
        }
        // Cold requests of the same size: fresh system prompts nobody has cached.
        List<Streams> cold = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            cold.add(Streams.chat(client, chat(systemPrompt(new Random(100 + i)), "What is the first step?")
                    .maxCompletionTokens(4).build()));
        }

        assertThat(followers).extracting(Streams::pod).as("servers of the followers").containsOnly(first.pod());
        assertThat(followers).allSatisfy(follower -> assertThat(follower.cachedTokens())
                .as("cached tokens").isGreaterThan(first.usage().promptTokens() / 2));
        assertThat(cold).allSatisfy(c -> assertThat(c.cachedTokens()).isLessThan(64));
        Duration warm = median(followers.stream().map(Streams::timeToFirstToken).toList());
        Duration coldTtft = median(cold.stream().map(Streams::timeToFirstToken).toList());
        assertThat(warm).as("median TTFT with the prefix cached, vs. cold %s", coldTtft)
                .isLessThan(coldTtft.minusMillis(50));
    }

    @Test
    void unrelatedPromptsSpreadOverThePool() {
        Set<String> pods = new HashSet<>();
        for (int i = 0; i < 16; i++) {
            String prompt = UUID.randomUUID() + " " + IntStream.range(0, 40).mapToObj(j -> "w" + j)
                    .collect(Collectors.joining(" "));
            pods.add(Streams.chat(client, chat(null, prompt).maxCompletionTokens(2).build()).pod());
        }

        assertThat(pods).doesNotContainNull().hasSizeGreaterThanOrEqualTo(2);
    }

    private static ChatCompletionCreateParams.Builder chat(String system, String user) {
        ChatCompletionCreateParams.Builder builder = ChatCompletionCreateParams.builder().model(LocalStack.MODEL);
        if (system != null) {
            builder.addSystemMessage(system);
        }
        return builder.addUserMessage(user);
    }

    /** About 5 KB (~1,000 simulator tokens) of words, different for each seed from the first word on. */
    private static String systemPrompt(Random random) {
        String[] words = {"policy", "customer", "refund", "order", "shipping", "warranty", "account", "billing",
                "review", "product", "support", "escalate", "verify", "identity", "address", "invoice"};
        StringBuilder text = new StringBuilder("You are agent " + random.nextLong() + ". Rules: ");
        while (text.length() < 5000) {
            text.append(words[random.nextInt(words.length)]).append(' ');
        }
        return text.toString();
    }

    private static Duration median(List<Duration> durations) {
        List<Duration> sorted = durations.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
