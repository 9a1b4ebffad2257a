package dev.lodestar.epp.plugins.vllmgrpcparser;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.framework.ErrorCode;
import dev.lodestar.epp.framework.InferenceException;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.requesthandling.Parser;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.EmbedRequest;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.EmbedResponse;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.GenerateOutcome;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.GenerateRequest;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.MalformedMessage;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Text;
import dev.lodestar.epp.plugins.vllmgrpcparser.VllmEngineReader.Tokenized;

import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * {@code vllmgrpc-parser}: requests to vLLM's gRPC engine API ({@code vllm.grpc.engine.VllmEngine}) as
 * the proxy passes them on, one gRPC length-prefixed message per body (GIE v1.5.0).
 * <ul>
 *   <li>{@code :path} {@code /vllm.grpc.engine.VllmEngine/Generate}: the prompt is {@code text} or
 *       {@code tokenized.original_text}, the stream flag {@code stream};
 *       {@code .../Embed}: the input is {@code tokenized.original_text}; any other path is a BadRequest.</li>
 *   <li>Scheduling plugins see the request as its OpenAI equivalent ({@code {"prompt", "stream"}} for
 *       completions, {@code {"input"}} for embeddings); there is no model. The frame itself is
 *       forwarded unchanged.</li>
 *   <li>Usage comes from {@code GenerateStreamChunk} / {@code GenerateComplete} token counts, else from
 *       {@code EmbedResponse.prompt_tokens}; a response that reads as neither has none.</li>
 * </ul>
 * Compressed messages are refused, as upstream.
 */
public final class VllmGrpcParser implements Parser {
    public static final String TYPE = "vllmgrpc-parser";
    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        PluginParameters.decode(name, parameters, NoParameters.class);
        return new VllmGrpcParser(name);
    };

    static final String GENERATE_PATH = "/vllm.grpc.engine.VllmEngine/Generate";
    static final String EMBED_PATH = "/vllm.grpc.engine.VllmEngine/Embed";

    private static final Logger LOGGER = Logger.getLogger(VllmGrpcParser.class.getName());
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final String UNFRAMED = "not able to parse payload";
    private static final String COMPRESSED = "compressed vllmgrpc payload is not supported";

    private final TypedName typedName;

    public VllmGrpcParser(String name) {
        this.typedName = new TypedName(TYPE, name);
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    @Override
    public boolean rewritesModel() {
        return false;
    }

    @Override
    public LlmRequestBody parseRequest(byte[] body, Map<String, String> headers) {
        String path = headers.getOrDefault(":path", "");
        return switch (path) {
            case GENERATE_PATH -> generate(body);
            case EMBED_PATH -> embed(body);
            default -> throw badRequest("unsupported gRPC path: " + path);
        };
    }

    private static LlmRequestBody generate(byte[] body) {
        String failure = "parsing gRPC payload for Generate: ";
        GenerateRequest request;
        try {
            request = VllmEngineReader.generateRequest(message(body, failure));
        } catch (MalformedMessage e) {
            throw badRequest(failure + e.getMessage());
        }
        String prompt = switch (request.input().orElseThrow(() -> badRequest(failure + "not supported request inputType"))) {
            case Text text -> text.text();
            case Tokenized tokenized -> tokenized.input().originalText();
        };
        ObjectNode view = JSON.objectNode().put("prompt", prompt).put("stream", request.stream());
        return LlmRequestBody.parsed(ApiType.COMPLETIONS, view, body);
    }

    private static LlmRequestBody embed(byte[] body) {
        String failure = "parsing gRPC payload for Embed: ";
        EmbedRequest request;
        try {
            request = VllmEngineReader.embedRequest(message(body, failure));
        } catch (MalformedMessage e) {
            throw badRequest(failure + e.getMessage());
        }
        String input = request.tokenized()
                .orElseThrow(() -> badRequest(failure + "missing tokenized input in EmbedRequest"))
                .originalText();
        return LlmRequestBody.parsed(ApiType.EMBEDDINGS, JSON.objectNode().put("input", input), body);
    }

    /** The message of the body's first gRPC frame. */
    private static byte[] message(byte[] body, String failure) {
        GrpcFrame frame = GrpcFrame.first(body).orElseThrow(() -> badRequest(failure + UNFRAMED));
        if (frame.compressed()) {
            throw badRequest(failure + COMPRESSED);
        }
        return frame.message();
    }

    /**
     * As upstream: the body's first frame read as a {@code GenerateResponse}; when that fails or sets
     * no member, as an {@code EmbedResponse} with values or prompt tokens. {@code streaming} does not
     * matter: every chunk of a gRPC stream is a whole message.
     */
    @Override
    public Optional<Usage> parseResponse(byte[] body, boolean streaming) {
        Optional<GrpcFrame> frame = GrpcFrame.first(body).filter(f -> !f.compressed());
        if (frame.isEmpty()) {
            LOGGER.fine(() -> "response is not an uncompressed gRPC message (" + body.length + " bytes)");
            return Optional.empty();
        }
        byte[] message = frame.get().message();
        try {
            Optional<GenerateOutcome> outcome = VllmEngineReader.generateResponse(message).outcome();
            if (outcome.isPresent()) {
                return generateUsage(outcome.get());
            }
        } catch (MalformedMessage e) {
            // Not a GenerateResponse; an EmbedResponse, perhaps.
        }
        try {
            EmbedResponse embed = VllmEngineReader.embedResponse(message);
            if (embed.embeddingCount() > 0 || embed.promptTokens() > 0) {
                return embed.promptTokens() > 0
                        ? Optional.of(new Usage(tokens(embed.promptTokens()), 0, tokens(embed.promptTokens()), 0))
                        : Optional.empty();
            }
        } catch (MalformedMessage e) {
            // Neither message: logged below.
        }
        LOGGER.fine("failed to parse gRPC response payload as GenerateResponse or EmbedResponse");
        return Optional.empty();
    }

    /** Usage of a chunk or completion; only when it counts tokens (stream chunks usually do not until the last). */
    private static Optional<Usage> generateUsage(GenerateOutcome outcome) {
        int prompt = tokens(outcome.promptTokens());
        int completion = tokens(outcome.completionTokens());
        if (prompt == 0 && completion == 0) {
            return Optional.empty();
        }
        return Optional.of(new Usage(prompt, completion, tokens(outcome.promptTokens() + outcome.completionTokens()),
                tokens(outcome.cachedTokens())));
    }

    /** A uint32 token count as an int; counts past {@link Integer#MAX_VALUE} saturate. */
    private static int tokens(long count) {
        return (int) Math.min(count, Integer.MAX_VALUE);
    }

    private static InferenceException badRequest(String message) {
        return new InferenceException(ErrorCode.BAD_REQUEST, message);
    }

    /** The parser takes no parameters. */
    record NoParameters() {
    }
}
