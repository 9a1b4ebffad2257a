package dev.lodestar.epp.plugins.vllmgrpcparser;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.testing.VllmEngineMessages;
import dev.lodestar.epp.testing.VllmEngineMessages.Writer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VllmGrpcParserTest {
    private static final String GENERATE = "/vllm.grpc.engine.VllmEngine/Generate";
    private static final String EMBED = "/vllm.grpc.engine.VllmEngine/Embed";

    private final VllmGrpcParser parser = new VllmGrpcParser("grpc");

    private LlmRequestBody parse(String path, byte[] body) {
        return parser.parseRequest(body, Map.of(":path", path, "hi", "mom"));
    }

    @Test
    void aGenerateRequestIsACompletionWithItsTextAsThePrompt() {
        byte[] body = VllmEngineMessages.generateText("test1", false).frame();

        LlmRequestBody parsed = parse(GENERATE, body);

        assertThat(parsed.apiType()).contains(ApiType.COMPLETIONS);
        assertThat(parsed.promptText()).isEqualTo("test1");
        assertThat(parsed.prefixHashInput()).isEqualTo("test1".getBytes(StandardCharsets.UTF_8));
        assertThat(parsed.stream()).isFalse();
        assertThat(parsed.raw()).isSameAs(body);
        assertThat(parsed.payload().orElseThrow().has("model")).isFalse();
        assertThat(parsed.cacheSalt()).isEmpty();
    }

    @Test
    void theStreamFlagComesFromTheMessage() {
        assertThat(parse(GENERATE, VllmEngineMessages.generateText("test-stream", true).frame()).stream()).isTrue();
    }

    @Test
    void aTokenizedGenerateRequestPromptsWithTheOriginalText() {
        LlmRequestBody parsed = parse(GENERATE, VllmEngineMessages.generateTokenized("hello there", true, 1, 2).frame());

        assertThat(parsed.promptText()).isEqualTo("hello there");
        assertThat(parsed.stream()).isTrue();
    }

    @Test
    void anEmbedRequestIsAnEmbeddingOfTheOriginalText() {
        byte[] body = VllmEngineMessages.embed("embed me", 3, 4).frame();

        LlmRequestBody parsed = parse(EMBED, body);

        assertThat(parsed.apiType()).contains(ApiType.EMBEDDINGS);
        assertThat(parsed.payload().orElseThrow().path("input").asText()).isEqualTo("embed me");
        assertThat(parsed.prefixHashInput()).isEqualTo("\"embed me\"".getBytes(StandardCharsets.UTF_8));
        assertThat(parsed.stream()).isFalse();
        assertThat(parsed.raw()).isSameAs(body);
    }

    @Test
    void onlyTheFirstFrameIsRead() {
        byte[] first = VllmEngineMessages.generateText("first", false).frame();
        byte[] second = VllmEngineMessages.generateText("second", true).frame();
        byte[] body = new byte[first.length + second.length];
        System.arraycopy(first, 0, body, 0, first.length);
        System.arraycopy(second, 0, body, first.length, second.length);

        assertThat(parse(GENERATE, body).promptText()).isEqualTo("first");
    }

    @Test
    void requestErrorsAreBadRequestsWordedAsUpstream() {
        Map<String, byte[]> generateFailures = new HashMap<>();
        generateFailures.put("parsing gRPC payload for Generate: not able to parse payload",
                "plain text not grpc payload style".getBytes(StandardCharsets.UTF_8));
        generateFailures.put("parsing gRPC payload for Generate: compressed vllmgrpc payload is not supported",
                Writer.frame(true, VllmEngineMessages.generateText("x", false).bytes()));
        generateFailures.put("parsing gRPC payload for Generate: proto: cannot parse invalid wire-format data",
                Writer.frame(false, new byte[] {0x1A, 0x09, 'x'}));
        generateFailures.put("parsing gRPC payload for Generate: string field contains invalid UTF-8",
                Writer.frame(false, new byte[] {0x1A, 0x01, (byte) 0xFF}));
        generateFailures.put("parsing gRPC payload for Generate: not supported request inputType",
                Writer.create().bool(5, true).frame());
        generateFailures.forEach((message, body) -> assertBadRequest(GENERATE, body, message));

        assertBadRequest(EMBED, new byte[] {0, 0}, "parsing gRPC payload for Embed: not able to parse payload");
        assertBadRequest(EMBED, Writer.frame(true, new byte[0]),
                "parsing gRPC payload for Embed: compressed vllmgrpc payload is not supported");
        assertBadRequest(EMBED, Writer.create().string(1, "id").frame(),
                "parsing gRPC payload for Embed: missing tokenized input in EmbedRequest");
        assertBadRequest(EMBED, Writer.frame(false, new byte[] {0x12, 0x01}),
                "parsing gRPC payload for Embed: proto: cannot parse invalid wire-format data");
    }

    @Test
    void anyOtherPathIsUnsupported() {
        byte[] body = Writer.frame(false, new byte[0]);

        assertBadRequest("unsupportedMethod", body, "unsupported gRPC path: unsupportedMethod");
        assertBadRequest("/vllm.grpc.engine.VllmEngine/HealthCheck", body,
                "unsupported gRPC path: /vllm.grpc.engine.VllmEngine/HealthCheck");
        assertBadRequest("/vllm.grpc.engine.VllmEngine/Generate/", body,
                "unsupported gRPC path: /vllm.grpc.engine.VllmEngine/Generate/");
        assertThatThrownBy(() -> parser.parseRequest(body, Map.of()))
                .isInstanceOf(InferenceException.class).hasMessage("unsupported gRPC path: ");
    }

    private void assertBadRequest(String path, byte[] body, String message) {
        assertThatThrownBy(() -> parse(path, body))
                .as(message)
                .isInstanceOfSatisfying(InferenceException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
                    assertThat(e.getMessage()).isEqualTo(message);
                });
    }

    @Test
    void usageComesFromACompletionWithCachedTokens() {
        byte[] body = VllmEngineMessages.complete("stop", 7, 10, 3).frame();

        assertThat(parser.parseResponse(body, false)).contains(new Usage(7, 10, 17, 3));
        assertThat(parser.parseResponse(body, true)).contains(new Usage(7, 10, 17, 3));
    }

    @Test
    void aChunkCountsOnlyWhenItCarriesPromptOrCompletionTokens() {
        assertThat(parser.parseResponse(VllmEngineMessages.chunk(0, 0, 0, 1, 2, 3).frame(), true)).isEmpty();
        assertThat(parser.parseResponse(VllmEngineMessages.chunk(0, 0, 4, 1).frame(), true)).isEmpty();
        assertThat(parser.parseResponse(VllmEngineMessages.chunk(0, 2, 0, 1).frame(), true))
                .contains(new Usage(0, 2, 2, 0));
        assertThat(parser.parseResponse(VllmEngineMessages.complete("stop", 0, 0, 0).frame(), false)).isEmpty();
    }

    @Test
    void anEmbedResponseCountsItsPromptTokens() {
        assertThat(parser.parseResponse(VllmEngineMessages.embedResponse(5, 0.5f, 0.25f).frame(), false))
                .contains(new Usage(5, 0, 5, 0));
        assertThat(parser.parseResponse(VllmEngineMessages.embedResponse(6).frame(), false))
                .contains(new Usage(6, 0, 6, 0));
        assertThat(parser.parseResponse(VllmEngineMessages.embedResponse(0, 1f).frame(), false)).isEmpty();
    }

    @Test
    void aResponseThatIsNotAnUncompressedMessageHasNoUsage() {
        assertThat(parser.parseResponse("no healthy upstream".getBytes(StandardCharsets.UTF_8), false)).isEmpty();
        assertThat(parser.parseResponse(new byte[0], true)).isEmpty();
        assertThat(parser.parseResponse(Writer.frame(true, VllmEngineMessages.complete("stop", 7, 10, 0).bytes()),
                false)).isEmpty();
        assertThat(parser.parseResponse(Writer.frame(false, new byte[] {0x0A, 0x07}), false)).isEmpty();
        // Half a frame, as a streamed chunk may be.
        byte[] frame = VllmEngineMessages.complete("stop", 7, 10, 0).frame();
        assertThat(parser.parseResponse(java.util.Arrays.copyOf(frame, frame.length / 2), true)).isEmpty();
    }

    @Test
    void itNeverRewritesTheModel() {
        assertThat(parser.rewritesModel()).isFalse();
    }

    @Test
    void theFactoryNamesThePluginAndTakesNoParameters() {
        assertThat(VllmGrpcParser.TYPE).isEqualTo("vllmgrpc-parser");
        assertThat(VllmGrpcParser.FACTORY.create("grpc", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("vllmgrpc-parser", "grpc"));
        assertThat(Fixtures.create(VllmGrpcParser.FACTORY, "grpc", "{}")).isInstanceOf(VllmGrpcParser.class);
        assertThatThrownBy(() -> Fixtures.create(VllmGrpcParser.FACTORY, "grpc", "{\"compression\":\"gzip\"}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("plugin 'grpc'").hasMessageContaining("unknown parameter 'compression'");
    }
}
