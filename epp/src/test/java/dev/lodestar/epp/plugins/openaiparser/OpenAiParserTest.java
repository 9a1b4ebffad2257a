package dev.lodestar.epp.plugins.openaiparser;

import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OpenAiParserTest {
    private final OpenAiParser parser = new OpenAiParser(OpenAiParser.TYPE);

    private LlmRequestBody parse(String path, String body) {
        Map<String, String> headers = path == null ? Map.of() : Map.of(":path", path);
        return parser.parseRequest(body.getBytes(StandardCharsets.UTF_8), headers);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v1/completions            | {\"model\":\"m\",\"prompt\":\"hi\"}                                   | COMPLETIONS",
            "/v1/chat/completions       | {\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]} | CHAT_COMPLETIONS",
            "/v1/responses              | {\"model\":\"m\",\"input\":\"hi\"}                                    | RESPONSES",
            "/v1/conversations          | {\"model\":\"m\",\"items\":[{\"type\":\"message\"}]}                  | CONVERSATIONS",
            "/v1/embeddings             | {\"model\":\"m\",\"input\":[\"a\",\"b\"]}                             | EMBEDDINGS",
            "/v1/chat/completions?x=1   | {\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]} | CHAT_COMPLETIONS",
            "/something/else            | {\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}                            | COMPLETIONS"})
    void theApiComesFromThePathSuffix(String path, String body, ApiType expected) {
        assertThat(parse(path.trim(), body.trim()).apiType()).contains(expected);
    }

    @Test
    void pathFallsBackToForwardedHeadersThenCompletions() {
        LlmRequestBody body = parser.parseRequest("{\"model\":\"m\",\"input\":\"x\"}".getBytes(StandardCharsets.UTF_8),
                Map.of("x-forwarded-path", "/v1/embeddings"));
        assertThat(body.apiType()).contains(ApiType.EMBEDDINGS);
        assertThat(OpenAiParser.requestPath(Map.of())).isEqualTo("/v1/completions");
        assertThat(OpenAiParser.requestPath(Map.of("x-original-path", "/a/responses", "x-forwarded-path", "/b")))
                .isEqualTo("/a/responses");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v1/completions      | no healthy upstream                       | error unmarshaling request bodyMap:",
            "/v1/completions      | [1,2]                                     | error unmarshaling request bodyMap:",
            "/v1/completions      | {\"model\":\"m\"}                         | invalid completions request: must have prompt field",
            "/v1/completions      | {\"model\":\"m\",\"prompt\":\"\"}         | invalid completions request: must have prompt field",
            "/v1/completions      | {\"model\":\"m\",\"prompt\":[1,2]}        | invalid completions request: must have prompt field",
            "/v1/chat/completions | {\"model\":\"m\",\"messages\":[]}         | invalid chat completions request: must have valid messages field",
            "/v1/chat/completions | {\"model\":\"m\",\"messages\":[{\"content\":5}]} | invalid chat completions request: must have valid messages field",
            "/v1/responses        | {\"model\":\"m\"}                         | invalid responses request: must have input field",
            "/v1/conversations    | {\"model\":\"m\",\"items\":[]}            | invalid conversations request: must have items field",
            "/v1/embeddings       | {\"model\":\"m\",\"input\":null}          | invalid embeddings request: must have input field"})
    void invalidBodiesAreBadRequests(String path, String body, String message) {
        assertThatThrownBy(() -> parse(path.trim(), body.trim()))
                .isInstanceOfSatisfying(InferenceException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST))
                .hasMessageStartingWith(message.trim());
    }

    @Test
    void streamFlagAndPromptViews() {
        LlmRequestBody chat = parse("/v1/chat/completions", "{\"model\":\"m\",\"stream\":true,\"cache_salt\":\"s\","
                + "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hello\"},{\"type\":\"image_url\"}]}]}");
        assertThat(chat.stream()).isTrue();
        assertThat(chat.cacheSalt()).isEqualTo("s");
        assertThat(chat.promptText()).isEqualTo("be brief hello  ");
        assertThat(new String(chat.prefixHashInput(), StandardCharsets.UTF_8)).startsWith("[{\"role\":\"system\"");
        LlmRequestBody completion = parse("/v1/completions", "{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}");
        assertThat(completion.stream()).isFalse();
        assertThat(completion.promptText()).isEqualTo("a b");
        assertThat(new String(completion.prefixHashInput(), StandardCharsets.UTF_8)).isEqualTo("a b");
    }

    @Test
    void usageOfBufferedResponsesByObjectType() {
        assertThat(parser.parseResponse(("{\"object\":\"chat.completion\",\"usage\":{\"prompt_tokens\":7,"
                + "\"completion_tokens\":10,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}}")
                .getBytes(StandardCharsets.UTF_8), false)).contains(new Usage(7, 10, 17, 4));
        assertThat(parser.parseResponse(("{\"object\":\"response\",\"usage\":{\"input_tokens\":3,\"output_tokens\":5,"
                + "\"total_tokens\":8}}").getBytes(StandardCharsets.UTF_8), false)).contains(new Usage(3, 5, 8, 0));
        assertThat(parser.parseResponse("no healthy upstream".getBytes(StandardCharsets.UTF_8), false)).isEmpty();
        assertThat(parser.parseResponse(new byte[0], false)).isEmpty();
    }

    @Test
    void usageOfStreamsComesFromDataLines() {
        String chunk = "data: {}\n\ndata: {\"usage\":{\"prompt_tokens\":7,\"total_tokens\":17,\"completion_tokens\":10}}"
                + "\ndata: [DONE]\n";
        assertThat(parser.parseResponse(chunk.getBytes(StandardCharsets.UTF_8), true)).contains(new Usage(7, 10, 17, 0));
        String responsesApi = "data: {\"type\":\"response.completed\",\"response\":{\"object\":\"response\","
                + "\"usage\":{\"input_tokens\":2,\"output_tokens\":3,\"total_tokens\":5}}}\n";
        assertThat(parser.parseResponse(responsesApi.getBytes(StandardCharsets.UTF_8), true))
                .contains(new Usage(2, 3, 5, 0));
        assertThat(parser.parseResponse("data: {\"choices\":[]}\n".getBytes(StandardCharsets.UTF_8), true)).isEmpty();
    }
}
