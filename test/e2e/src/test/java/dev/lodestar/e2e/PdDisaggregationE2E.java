package dev.lodestar.e2e;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * P/D disaggregation through the whole path: OpenAI SDK -> dev gateway -> EPP (llm-d's P/D configuration)
 * -> routing sidecar of the decode pod -> prefill simulator, then decode simulator, which pulls the prompt's
 * KV blocks from the prefill simulator over UCX and checks them byte for byte. Echo mode makes answers
 * checkable: a chat answers its last message. A long uncached prompt goes prefill-decode; a short prompt and
 * a prompt the decode pod already holds go decode-only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
@ExtendWith(DumpLogsOnFailure.class)
class PdDisaggregationE2E {
    private static final String SIMULATOR = """
            model: meta-llama/Llama-3.1-8B-Instruct
            mode: echo
            max-num-seqs: 8
            max-model-len: 8192
            kv-cache-size: 2048
            block-size: 16
            latency-calculator: per-token
            prefill-overhead: 5ms
            prefill-time-per-token: 100us
            inter-token-latency: 1ms
            """;
    private static final String PREFILL_DECODE = PromText.label("decision_type", "prefill-decode");
    private static final String DECODE_ONLY = PromText.label("decision_type", "decode-only");
    private static final String QUESTION = "Please repeat this sentence back to me.";

    private PdStack stack;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        stack = PdStack.start(PdDisaggregationE2E.class, 27, SIMULATOR);
        client = stack.client();
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aLongPromptIsPrefilledOnThePrefillPodAndDecodedAfterAUcxPull() {
        Counts before = counts();

        HttpResponseFor<ChatCompletion> raw = client.chat().completions().withRawResponse()
                .create(chat(longSystemPrompt(1)));
        ChatCompletion answer = raw.parse();

        assertThat(answer.choices().get(0).message().content()).contains(QUESTION);
        assertThat(raw.headers().values("x-inference-pod")).containsExactly(stack.decode().name());
        Counts after = counts();
        assertThat(after.prefillDecode - before.prefillDecode).isEqualTo(1);
        assertThat(after.decodeOnly - before.decodeOnly).isZero();
        assertThat(after.prefills - before.prefills).as("prefill legs the prefill simulator answered").isEqualTo(1);
        assertThat(after.pulls - before.pulls).as("UCX pulls the decode simulator made").isEqualTo(1);
        assertThat(after.pulledBytes - before.pulledBytes).isPositive();
    }

    @Test
    void aStreamedLongPromptTakesBothLegsAndStreamsTheDecodersAnswer() {
        Counts before = counts();

        Streams streamed = Streams.chat(client, chat(longSystemPrompt(2)));

        assertThat(streamed.text()).isEqualTo(QUESTION);
        assertThat(streamed.pod()).isEqualTo(stack.decode().name());
        assertThat(streamed.chunks().size()).as("token by token").isGreaterThan(3);
        Counts after = counts();
        assertThat(after.prefillDecode - before.prefillDecode).isEqualTo(1);
        assertThat(after.prefills - before.prefills).isEqualTo(1);
        assertThat(after.pulls - before.pulls).isEqualTo(1);
    }

    @Test
    void aShortPromptAndAPromptTheDecodePodHoldsGoDecodeOnly() {
        Counts before = counts();
        ChatCompletion shortAnswer = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(LocalStack.MODEL).addUserMessage("Hi").maxCompletionTokens(5).build());
        assertThat(shortAnswer.choices().get(0).message().content()).contains("Hi");
        Counts afterShort = counts();
        assertThat(afterShort.decodeOnly - before.decodeOnly).isEqualTo(1);
        assertThat(afterShort.prefills - before.prefills).isZero();
        assertThat(afterShort.pulls - before.pulls).isZero();

        ChatCompletionCreateParams repeated = chat(longSystemPrompt(3));
        client.chat().completions().create(repeated);
        Counts afterFirst = counts();
        assertThat(afterFirst.prefillDecode - afterShort.prefillDecode).isEqualTo(1);

        ChatCompletion again = client.chat().completions().create(repeated);

        assertThat(again.choices().get(0).message().content()).contains(QUESTION);
        Counts afterSecond = counts();
        assertThat(afterSecond.decodeOnly - afterFirst.decodeOnly).as("cached on the decode pod").isEqualTo(1);
        assertThat(afterSecond.prefills - afterFirst.prefills).isZero();
        assertThat(afterSecond.pulls - afterFirst.pulls).isZero();
    }

    private ChatCompletionCreateParams chat(String system) {
        return ChatCompletionCreateParams.builder().model(LocalStack.MODEL)
                .addSystemMessage(system).addUserMessage(QUESTION).maxCompletionTokens(50).build();
    }

    /** About 1,200 tokens, different per seed (so each test's prompt is uncached). */
    private static String longSystemPrompt(long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder("You are a careful assistant. Context " + seed + ":");
        for (int i = 0; i < 1200; i++) {
            text.append(' ').append(Integer.toString(random.nextInt(1 << 20), 36));
        }
        return text.toString();
    }

    private Counts counts() {
        PromText epp = stack.eppMetrics();
        PromText prefill = stack.prefillMetrics();
        PromText decode = stack.decodeMetrics();
        return new Counts(epp.sum("llm_d_epp_disagg_decision_total", PREFILL_DECODE),
                epp.sum("llm_d_epp_disagg_decision_total", DECODE_ONLY),
                prefill.sum("vllm:request_success_total"),
                decode.sum("vllm:nixl_xfer_time_seconds_count"),
                decode.sum("vllm:nixl_bytes_transferred_sum"));
    }

    private record Counts(double prefillDecode, double decodeOnly, double prefills, double pulls, double pulledBytes) {
    }
}
