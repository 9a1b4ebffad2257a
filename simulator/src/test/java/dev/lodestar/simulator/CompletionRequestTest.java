package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompletionRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static CompletionRequest chat(String body) {
        return CompletionRequest.parse(CompletionRequest.Kind.CHAT, body.getBytes(StandardCharsets.UTF_8), JSON);
    }

    private static CompletionRequest completion(String body) {
        return CompletionRequest.parse(CompletionRequest.Kind.COMPLETION, body.getBytes(StandardCharsets.UTF_8), JSON);
    }

    @Test
    void chatMessagesAreRenderedThroughTheTemplate() {
        CompletionRequest request = chat("""
                {"model":"m","messages":[{"role":"system","content":"Be brief."},
                 {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]}],
                 "max_completion_tokens":7,"max_tokens":99,"stream":true,"stream_options":{"include_usage":true}}""");
        assertThat(request.prompt()).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi\nthere<|im_end|>\n<|im_start|>assistant\n");
        assertThat(request.echoSource()).isEqualTo("Hi\nthere");
        assertThat(request.maxTokens()).as("max_completion_tokens wins").contains(7);
        assertThat(request.stream()).isTrue();
        assertThat(request.includeUsage()).isTrue();
        assertThat(request.model()).contains("m");
    }

    @Test
    void completionAcceptsAStringOrASingleStringArray() {
        assertThat(completion("{\"prompt\":\"abc\",\"ignore_eos\":true}").prompt()).isEqualTo("abc");
        CompletionRequest request = completion("{\"prompt\":[\"abc\"],\"max_tokens\":3}");
        assertThat(request.prompt()).isEqualTo("abc");
        assertThat(request.maxTokens()).contains(3);
        assertThat(request.model()).isEmpty();
        assertThat(request.stream()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{bad                                        | Failed to parse request body as JSON",
            "[1,2]                                       | Request body must be a JSON object",
            "{}                                          | prompt is required",
            "{\"prompt\":\"\"}                           | prompt must not be an empty string",
            "{\"prompt\":[1,2,3]}                        | token-id prompts are not supported",
            "{\"prompt\":[\"a\",\"b\"]}                  | batched prompts (2) are not supported",
            "{\"prompt\":\"a\",\"max_tokens\":0}         | max_tokens must be at least 1, got 0",
            "{\"prompt\":\"a\",\"max_tokens\":\"5\"}     | max_tokens must be an integer",
            "{\"prompt\":\"a\",\"n\":2}                  | n=2 is not supported",
            "{\"prompt\":\"a\",\"n\":0}                  | n must be at least 1",
            "{\"prompt\":\"a\",\"stream\":\"yes\"}       | stream must be a boolean",
            "{\"prompt\":\"a\",\"model\":7}              | model must be a string",
            "{\"prompt\":\"a\",\"stream_options\":{}}    | Stream options can only be defined when `stream=True`."
    })
    void invalidCompletionRequestsAreRejectedWithTheReason(String body, String message) {
        assertThatThrownBy(() -> completion(body))
                .isInstanceOfSatisfying(ApiError.class, error -> assertThat(error.status()).isEqualTo(400))
                .hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{}                                                          | messages is required",
            "{\"messages\":[]}                                           | messages must not be empty",
            "{\"messages\":{}}                                           | messages must be an array",
            "{\"messages\":[{\"content\":\"x\"}]}                        | messages[0].role is required",
            "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}     | role must be one of",
            "{\"messages\":[{\"role\":\"user\",\"content\":5}]}          | content must be a string or an array",
            "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]} | only 'text'",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_completion_tokens\":-1} | max_tokens must be at least 1"
    })
    void invalidChatRequestsAreRejectedWithTheReason(String body, String message) {
        assertThatThrownBy(() -> chat(body))
                .isInstanceOfSatisfying(ApiError.class, error -> {
                    assertThat(error.status()).isEqualTo(400);
                    assertThat(error.type()).isEqualTo("BadRequestError");
                })
                .hasMessageContaining(message);
    }

    @Test
    void nullContentOfAnAssistantMessageIsEmpty() {
        CompletionRequest request = chat("{\"messages\":[{\"role\":\"assistant\",\"content\":null}]}");
        assertThat(request.echoSource()).isEmpty();
    }
}
