package dev.lodestar.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The HTTP face of one simulated server: vLLM's OpenAI-compatible API, health, and metrics.
 *
 * <p>A completion request is handled in this order, as llm-d-inference-sim does: parse and validate
 * the body, the {@code X-Return-Error} header, failure injection, model lookup, context-length check,
 * then the engine. Every answer of the completion endpoints names the server in
 * {@code x-inference-pod} and {@code x-inference-port}.
 */
final class OpenAiApi {
    static final HeaderName INFERENCE_POD = HeaderNames.create("x-inference-pod");
    static final HeaderName INFERENCE_PORT = HeaderNames.create("x-inference-port");
    static final HeaderName INFERENCE_NAMESPACE = HeaderNames.create("x-inference-namespace");
    static final HeaderName REQUEST_ID = HeaderNames.create("x-request-id");
    static final HeaderName RETURN_ERROR = HeaderNames.create("X-Return-Error");

    private static final Logger LOGGER = Logger.getLogger(OpenAiApi.class.getName());
    private static final byte[] SSE_DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SSE_END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SSE_DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final List<String> API_PATHS = List.of("/v1/completions", "/v1/chat/completions", "/v1/models",
            "/health", "/health/ready", "/metrics");

    private final SimulatorConfig config;
    private final Engine engine;
    private final EngineMetrics metrics;
    private final Tokenizer tokenizer = Tokenizer.create();
    private final TextGenerator textGenerator;
    private final ResponseBodies bodies = new ResponseBodies();
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, SimulatorConfig.LoraModule> loraModules;
    private final Random failureRandom;
    private final long createdSeconds = System.currentTimeMillis() / 1000;
    private final boolean kvTransferEnabled;
    private volatile int boundPort;

    OpenAiApi(SimulatorConfig config, Engine engine, EngineMetrics metrics) {
        this.config = config;
        this.engine = engine;
        this.metrics = metrics;
        this.textGenerator = new TextGenerator(config.mode(), config.seed(), tokenizer);
        this.loraModules = config.loraModules().stream()
                .collect(Collectors.toUnmodifiableMap(SimulatorConfig.LoraModule::name, Function.identity()));
        this.failureRandom = new Random(config.seed());
        this.boundPort = config.port();
        this.kvTransferEnabled = config.kvTransfer().isPresent();
    }

    /** The port the server actually listens on, reported in {@code x-inference-port}. */
    void boundPort(int port) {
        this.boundPort = port;
    }

    void routing(HttpRouting.Builder routing) {
        routing.post("/v1/completions", (req, res) -> completion(CompletionRequest.Kind.COMPLETION, req, res))
                .post("/v1/chat/completions", (req, res) -> completion(CompletionRequest.Kind.CHAT, req, res))
                .get("/v1/models", this::models)
                .get("/health", (req, res) -> emptyJson(res))
                .get("/health/ready", (req, res) -> emptyJson(res))
                .get("/metrics", this::metrics)
                .any(this::notFound);
    }

    private void completion(CompletionRequest.Kind kind, ServerRequest req, ServerResponse res) {
        long arrivedAt = System.nanoTime();
        identify(req, res);
        CompletionRequest request;
        ResolvedRequest resolved;
        try {
            byte[] body = req.content().inputStream().readAllBytes();
            request = CompletionRequest.parse(kind, body, json);
            Optional<ApiError> refusal = forcedError(req).or(this::injectedFailure);
            if (refusal.isPresent()) {
                throw refusal.get();
            }
            resolved = resolve(request, req);
        } catch (ApiError error) {
            sendError(res, error);
            return;
        } catch (IOException e) {
            sendError(res, ApiError.badRequest("Failed to read request body: " + e.getMessage()));
            return;
        }
        Engine.Sequence sequence;
        try {
            sequence = engine.submit(resolved.spec(), arrivedAt, resolved.id());
        } catch (EngineOverloadedException e) {
            sendError(res, new ApiError(429, "Failed to enqueue request, " + e.getMessage(), null));
            return;
        }
        try {
            if (request.stream()) {
                stream(request, resolved, sequence, res);
            } else {
                Engine.Outcome outcome;
                try {
                    outcome = engine.run(sequence, index -> {
                    });
                } catch (ApiError error) {
                    sendError(res, error);
                    return;
                }
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(bodies.completion(resolved, outcome.cachedTokens(), outcome.handoff()));
            }
        } catch (IOException | UncheckedIOException e) {
            LOGGER.log(Level.FINE, "client went away during " + resolved.id(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stream(CompletionRequest request, ResolvedRequest resolved, Engine.Sequence sequence,
                        ServerResponse res) throws IOException, InterruptedException {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        List<String> pieces = resolved.generated().pieces();
        int last = pieces.size() - 1;
        TokenChunks chunks = new TokenChunks(resolved.id(), resolved.model(), resolved.created(), resolved.chat(),
                resolved.generated().finishReason());
        try (OutputStream out = res.outputStream()) {
            Engine.Outcome outcome;
            try {
                outcome = engine.run(sequence, index -> {
                    if (index == 0 && resolved.chat()) {
                        event(out, bodies.roleChunk(resolved));
                    }
                    chunks.write(out, pieces.get(index), index == last);
                    out.flush();
                });
            } catch (ApiError error) {
                // The failure came before the first token (a KV load); the status is already 200, so the
                // error travels as an event, as llm-d-inference-sim sends errors from inside its engine.
                event(out, bodies.streamError(error));
                out.write(SSE_DONE);
                out.flush();
                return;
            }
            if (request.includeUsage()) {
                event(out, bodies.usageChunk(resolved, outcome.cachedTokens()));
            }
            out.write(SSE_DONE);
            out.flush();
        }
    }

    private ResolvedRequest resolve(CompletionRequest request, ServerRequest req) {
        KvTransferRole kvTransfer = kvTransferEnabled
                ? KvTransferRole.parse(request.kvTransferParams().orElse(null))
                : KvTransferRole.LOCAL;
        boolean prefillOnly = kvTransfer instanceof KvTransferRole.PrefillForRemoteDecode;
        if (prefillOnly && request.stream()) {
            throw ApiError.badRequest("Prefill does not support streaming");
        }
        String requested = request.model().orElse(config.servedModelNames().get(0));
        Optional<String> adapter;
        if (config.servedModelNames().contains(requested)) {
            adapter = Optional.empty();
        } else if (loraModules.containsKey(requested)) {
            adapter = Optional.of(requested);
        } else {
            throw ApiError.modelNotFound(requested);
        }
        int[] promptTokens = tokenizer.encode(request.prompt());
        int maxModelLen = config.maxModelLen();
        if (request.maxTokens().isPresent()) {
            int maxTokens = request.maxTokens().get();
            if (promptTokens.length + maxTokens > maxModelLen) {
                throw ApiError.badRequest("This model's maximum context length is " + maxModelLen
                        + " tokens. However, you requested " + (promptTokens.length + maxTokens) + " tokens ("
                        + promptTokens.length + " in the messages, " + maxTokens
                        + " in the completion). Please reduce the length of the messages or completion.");
            }
        } else if (promptTokens.length >= maxModelLen) {
            throw ApiError.badRequest("This model's maximum context length is " + maxModelLen
                    + " tokens. However, your request has " + promptTokens.length
                    + " input tokens. Please reduce the length of the input messages.");
        }
        // A prefill for a remote decoder stops after its first token, as vLLM's does under the sidecar's
        // max_tokens=1 (vLLM hands the blocks off only when length-capped).
        int limit = prefillOnly ? 1 : request.maxTokens().orElse(maxModelLen - promptTokens.length);
        TextGenerator.Generated generated = textGenerator.generate(request.echoSource(), promptTokens, limit,
                prefillOnly || request.maxTokens().isPresent(), request.ignoreEos());
        SequenceSpec spec = new SequenceSpec(promptTokens, tokenizer.ids(generated.pieces()), adapter,
                KvCache.seed(config.model(), adapter.orElse(null)), generated.finishReason(), kvTransfer);
        boolean chat = request.kind() == CompletionRequest.Kind.CHAT;
        String baseId = req.headers().first(REQUEST_ID).orElseGet(OpenAiApi::randomId);
        return new ResolvedRequest((chat ? "chatcmpl-" : "cmpl-") + baseId, chat, requested,
                System.currentTimeMillis() / 1000, spec, generated);
    }

    // 128 random bits in hex, like vLLM's ids; UUID.randomUUID() would take SecureRandom's lock per request.
    private static String randomId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
    }

    private Optional<ApiError> forcedError(ServerRequest req) {
        Optional<String> value = req.headers().first(RETURN_ERROR);
        if (value.isEmpty()) {
            return Optional.empty();
        }
        int status;
        try {
            status = Integer.parseInt(value.get().trim());
        } catch (NumberFormatException e) {
            return Optional.of(ApiError.badRequest(
                    "Invalid X-Return-Error header value \"" + value.get() + "\": must be an integer"));
        }
        if (status < 400 || status > 599) {
            return Optional.of(ApiError.badRequest(
                    "Invalid X-Return-Error header value \"" + value.get() + "\": must be an error status (400-599)"));
        }
        return Optional.of(new ApiError(status,
                "Simulated error triggered by X-Return-Error header (code " + status + ")", null));
    }

    private Optional<ApiError> injectedFailure() {
        if (config.failureInjectionRate() == 0 || failureRandom.nextInt(100) >= config.failureInjectionRate()) {
            return Optional.empty();
        }
        List<FailureType> types = config.failureTypes().isEmpty() ? List.of(FailureType.values()) : config.failureTypes();
        return Optional.of(types.get(failureRandom.nextInt(types.size())).toError(config.model()));
    }

    private void identify(ServerRequest req, ServerResponse res) {
        res.header(INFERENCE_POD, config.podName());
        res.header(INFERENCE_PORT, Integer.toString(boundPort));
        config.namespace().ifPresent(namespace -> res.header(INFERENCE_NAMESPACE, namespace));
        req.headers().first(REQUEST_ID).ifPresent(id -> res.header(REQUEST_ID, id));
    }

    private void models(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bodies.models(config, createdSeconds));
    }

    private void metrics(ServerRequest req, ServerResponse res) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        metrics.write(out);
        res.header(HeaderNames.CONTENT_TYPE, EngineMetrics.CONTENT_TYPE);
        res.send(out.toByteArray());
    }

    private static void emptyJson(ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send();
    }

    private void notFound(ServerRequest req, ServerResponse res) {
        boolean knownPath = API_PATHS.contains(req.path().path());
        res.status(knownPath ? Status.METHOD_NOT_ALLOWED_405 : Status.NOT_FOUND_404);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(knownPath ? "{\"detail\":\"Method Not Allowed\"}" : "{\"detail\":\"Not Found\"}");
    }

    private void sendError(ServerResponse res, ApiError error) {
        res.status(Status.create(error.status()));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bodies.error(error));
    }

    private static void event(OutputStream out, byte[] json) throws IOException {
        out.write(SSE_DATA);
        out.write(json);
        out.write(SSE_END);
    }
}
