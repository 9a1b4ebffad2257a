package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.tls.ServingCertificate;
import io.helidon.common.tls.Tls;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * llm-d's P/D routing sidecar in front of the decode model server: {@code GET /health}; the OpenAI-style generation
 * routes ({@link ApiKind#BY_PATH}) run the NIXL v2 flow when the router named a prefill host in
 * {@code x-prefiller-host-port} (prefill leg to that host, then decode leg to the local model server carrying the
 * prefill's {@code kv_transfer_params}); everything else goes to the local model server unchanged.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(Sidecar.class.getName());
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String REQUEST_ID = "x-request-id";
    /** Headers of the P/D protocol, consumed here and never forwarded. */
    private static final Set<String> ROUTING_HEADERS = Set.of(PrefillTargets.HEADER, "x-kv-cache-source-host-port",
            "x-encoder-hosts-ports");
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");
    /** Headers the JDK client sets itself and refuses from callers. */
    private static final Set<String> SET_BY_CLIENT = Set.of("host", "content-length", "expect", "upgrade", "connection");
    /** How often the socket table is read while prefill legs wait: a hang-up is seen within this. */
    private static final Duration CLIENT_CHECK_PERIOD = Duration.ofMillis(250);
    private static final int READ_BUFFER = 8192;

    private final SidecarConfig config;
    private final PrefillAllowlist allowlist;
    private final IntUnaryOperator sampler;
    private final LegClient prefillClient;
    private final LegClient decodeClient;
    private final String decoderHostPort;
    private final Counters counters = new Counters();
    private final ClientHangupWatch hangups = new ClientHangupWatch(CLIENT_CHECK_PERIOD);
    private WebServer server;

    private Sidecar(SidecarConfig config, PrefillAllowlist allowlist, IntUnaryOperator sampler) {
        this.config = config;
        this.allowlist = allowlist;
        this.sampler = sampler;
        this.prefillClient = new LegClient(config.tls().contains(SidecarConfig.Stage.PREFILLER),
                config.insecureSkipVerify().contains(SidecarConfig.Stage.PREFILLER));
        this.decodeClient = new LegClient(config.tls().contains(SidecarConfig.Stage.DECODER),
                config.insecureSkipVerify().contains(SidecarConfig.Stage.DECODER));
        this.decoderHostPort = "localhost:" + config.modelServerPort();
    }

    /** Starts listening on {@code config.port()} (0: any free port). */
    public static Sidecar start(SidecarConfig config, PrefillAllowlist allowlist) {
        return start(config, allowlist, bound -> ThreadLocalRandom.current().nextInt(bound));
    }

    /** As {@link #start(SidecarConfig, PrefillAllowlist)}, with the prefill-host sampler chosen (tests). */
    static Sidecar start(SidecarConfig config, PrefillAllowlist allowlist, IntUnaryOperator sampler) {
        Sidecar sidecar = new Sidecar(config, allowlist, sampler);
        HttpRouting.Builder routing = HttpRouting.builder()
                .get("/health", (req, res) -> res.send());
        ApiKind.BY_PATH.forEach((path, api) -> routing.post(path, (req, res) -> sidecar.disaggregate(req, res, api)));
        routing.any(sidecar::passThrough);
        var builder = WebServer.builder()
                .host("0.0.0.0")
                .port(config.port())
                .idleConnectionTimeout(Duration.ofMinutes(5))
                .addProtocol(Http1Config.builder().maxHeadersSize(1 << 20).build())
                .routing(routing);
        if (config.secureProxy()) {
            ServingCertificate certificate = config.certPath().map(ServingCertificate::load)
                    .orElseGet(ServingCertificate::selfSigned);
            builder.tls(Tls.builder().privateKey(certificate.key()).privateKeyCertChain(certificate.chain()).build());
        }
        sidecar.server = builder.build().start();
        return sidecar;
    }

    public int port() {
        return server.port();
    }

    /** {@code http} or {@code https} ({@code --secure-proxy}). */
    public String scheme() {
        return config.secureProxy() ? "https" : "http";
    }

    /** What the sidecar did so far. */
    public Counters counters() {
        return counters;
    }

    private void disaggregate(ServerRequest req, ServerResponse res, ApiKind api) {
        List<String> targets = req.headers().contains(HeaderNames.create(PrefillTargets.HEADER))
                ? req.headers().get(HeaderNames.create(PrefillTargets.HEADER)).allValues()
                : List.of();
        Optional<String> prefillTarget = PrefillTargets.choose(targets, config.enablePrefillerSampling(), sampler);
        if (prefillTarget.isEmpty()) {
            passThrough(req, res);
            return;
        }
        if (!allowlist.allows(prefillTarget.get())) {
            LOGGER.warning(() -> "SSRF protection: prefill target " + prefillTarget.get() + " is not in the pool"
                    + " (client " + req.remotePeer().host() + ", path " + req.path().path() + ")");
            reply(res, SidecarErrors.ssrfForbidden());
            return;
        }
        nixlV2(req, res, api, prefillTarget.get());
    }

    /** The NIXL v2 flow: prefill leg, then decode leg with the prefill's KV transfer parameters. */
    private void nixlV2(ServerRequest req, ServerResponse res, ApiKind api, String prefillHostPort) {
        byte[] raw = req.content().hasEntity() ? req.content().as(byte[].class) : new byte[0];
        ObjectNode original;
        try {
            JsonNode parsed = MAPPER.readTree(raw);
            if (!(parsed instanceof ObjectNode object)) {
                reply(res, SidecarErrors.badRequest("invalid JSON: the body is not a JSON object"));
                return;
            }
            original = object;
        } catch (IOException e) {
            reply(res, SidecarErrors.badRequest("invalid JSON: " + jsonError(e)));
            return;
        }
        try (ClientHangupWatch.Watch client = hangups.watch(req.localPeer().address(), req.remotePeer().address())) {
            nixlV2(req, res, api, prefillHostPort, original, client);
        }
    }

    private void nixlV2(ServerRequest req, ServerResponse res, ApiKind api, String prefillHostPort, ObjectNode original,
                        ClientHangupWatch.Watch client) {
        String requestId = UUID.randomUUID().toString();
        Map<String, List<String>> headers = forwardedHeaders(req);
        headers.computeIfAbsent(REQUEST_ID, name -> new ArrayList<>()).add(requestId);
        String pathAndQuery = pathAndQuery(req);

        URI prefillUri;
        try {
            prefillUri = prefillClient.uri(prefillHostPort, pathAndQuery);
        } catch (IllegalArgumentException e) {
            reply(res, SidecarErrors.badGateway("invalid prefill target '" + prefillHostPort + "': " + e.getMessage()));
            return;
        }
        byte[] prefillBody = json(NixlV2Bodies.prefill(original, api));
        Optional<BufferedResponse> prefill = prefill(client, prefillUri, headers, prefillBody, requestId);
        if (prefill.isEmpty()) {
            replyToGoneClient(res);
            return;
        }
        BufferedResponse prefillResponse = prefill.get();
        if (prefillResponse.status() < 200 || prefillResponse.status() > 299) {
            LOGGER.warning(() -> "prefill " + requestId + " at " + prefillHostPort + " answered "
                    + prefillResponse.status() + ": " + new String(prefillResponse.body(),
                    StandardCharsets.UTF_8));
            copyHeaders(prefillResponse.headers(), res, true);
            res.status(prefillResponse.status()).send(prefillResponse.body());
            return;
        }
        JsonNode prefillJson;
        try {
            prefillJson = MAPPER.readTree(prefillResponse.body());
            if (prefillJson == null || !prefillJson.isObject()) {
                reply(res, SidecarErrors.badRequest("invalid JSON: the prefill response is not a JSON object"));
                return;
            }
        } catch (IOException e) {
            reply(res, SidecarErrors.badRequest("invalid JSON: " + jsonError(e)));
            return;
        }
        Optional<JsonNode> kvTransferParams = NixlV2Bodies.kvTransferParams(prefillJson);
        if (kvTransferParams.isEmpty()) {
            LOGGER.warning(() -> "prefill " + requestId + ": no kv_transfer_params in the prefill response");
        }
        int cachedTokens = CachedTokensRewriter.cachedTokens(prefillJson);

        if (client.hasHungUp()) {
            counters.clientGoneBeforeDecode.incrementAndGet();
            LOGGER.info(() -> "request " + requestId + ": the client left during the prefill; no decode leg");
            replyToGoneClient(res);
            return;
        }
        byte[] decodeBody = json(NixlV2Bodies.decode(original, kvTransferParams));
        counters.decodeLegs.incrementAndGet();
        relay(req, res, decodeClient.uri(decoderHostPort, pathAndQuery), "POST", headers, decodeBody,
                Optional.of(new CachedTokensRewriter(cachedTokens)));
    }

    /**
     * The prefill leg, retried on 502/503/504 as configured; a connection failure counts as 502 (as Go's reverse
     * proxy answers). Empty when the client left meanwhile (the leg is then aborted).
     */
    private Optional<BufferedResponse> prefill(ClientHangupWatch.Watch client, URI uri,
                                               Map<String, List<String>> headers, byte[] body, String requestId) {
        for (int attempt = 0; ; attempt++) {
            counters.prefillAttempts.incrementAndGet();
            CompletableFuture<HttpResponse<InputStream>> pending = prefillClient.send(uri, "POST", headers, body);
            BufferedResponse response;
            try {
                Optional<HttpResponse<InputStream>> answered = awaitWhileClientThere(client, pending);
                if (answered.isEmpty()) {
                    counters.clientGoneBeforeDecode.incrementAndGet();
                    LOGGER.info(() -> "request " + requestId + ": the client left during the prefill; aborted it");
                    return Optional.empty();
                }
                try (InputStream in = answered.get().body()) {
                    response = new BufferedResponse(answered.get().statusCode(), answered.get().headers().map(),
                            in.readAllBytes());
                }
            } catch (IOException e) {
                LOGGER.log(Level.WARNING, "prefill " + requestId + " to " + uri + " failed: " + e);
                response = new BufferedResponse(502, Map.of(), new byte[0]);
            }
            boolean retryable = response.status() == 502 || response.status() == 503 || response.status() == 504;
            if (!retryable || attempt >= config.prefillMaxRetries()) {
                return Optional.of(response);
            }
            int attemptNumber = attempt + 1;
            int previous = response.status();
            LOGGER.info(() -> "retrying prefill " + requestId + " to " + uri + " (attempt " + attemptNumber
                    + ", previous status " + previous + ")");
            try {
                client.hungUp().get(config.prefillRetryBackoff().toNanos(), TimeUnit.NANOSECONDS);
                counters.clientGoneBeforeDecode.incrementAndGet();
                return Optional.empty();
            } catch (TimeoutException backoffOver) {
                // the client is still there: next attempt
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of(response);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the hang-up future does not fail", e);
            }
        }
    }

    /** The response, or empty (and the exchange cancelled) once the client's connection is found closed. */
    private static Optional<HttpResponse<InputStream>> awaitWhileClientThere(
            ClientHangupWatch.Watch client, CompletableFuture<HttpResponse<InputStream>> pending) throws IOException {
        try {
            CompletableFuture.anyOf(pending, client.hungUp()).get();
            if (!pending.isDone()) {
                pending.cancel(true);
                return Optional.empty();
            }
            return Optional.of(pending.get());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (CancellationException e) {
            throw new IOException("cancelled", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.cancel(true);
            throw new IOException("interrupted", e);
        }
    }

    /** Everything that is not a disaggregated request: to the local model server as it came. */
    private void passThrough(ServerRequest req, ServerResponse res) {
        byte[] body = req.content().hasEntity() ? req.content().as(byte[].class) : new byte[0];
        relay(req, res, decodeClient.uri(decoderHostPort, pathAndQuery(req)), req.prologue().method().text(),
                forwardedHeaders(req), body, Optional.empty());
    }

    /**
     * Sends one request to the local model server and relays its answer: status and headers, then the body as it
     * arrives, each read flushed at once (with the cached-tokens rewrite for a decode leg).
     */
    private void relay(ServerRequest req, ServerResponse res, URI uri, String method,
                       Map<String, List<String>> headers, byte[] body, Optional<CachedTokensRewriter> rewriter) {
        HttpResponse<InputStream> response;
        try {
            response = decodeClient.send(uri, method, headers, body).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reply(res, SidecarErrors.badGateway("interrupted"));
            return;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConnectException) {
                LOGGER.warning(() -> "the decoder at " + decoderHostPort + " refused the connection: " + cause);
                reply(res, SidecarErrors.decoderNotReady());
            } else {
                LOGGER.warning(() -> "the decoder at " + decoderHostPort + " failed: " + cause);
                reply(res, SidecarErrors.badGateway(String.valueOf(cause.getMessage())));
            }
            return;
        }
        try (InputStream in = response.body()) {
            String contentType = response.headers().firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
            if (rewriter.isPresent() && contentType.contains("application/json")) {
                byte[] whole = in.readAllBytes();
                copyHeaders(response.headers().map(), res, true);
                res.status(response.statusCode()).send(rewriter.get().rewriteBody(whole));
                return;
            }
            copyHeaders(response.headers().map(), res, rewriter.isPresent());
            res.status(Status.create(response.statusCode()));
            stream(in, res, rewriter, contentType.contains("text/event-stream"));
        } catch (IOException | UncheckedIOException e) {
            // The client or the model server went away mid-response; closing the body aborts the other side.
            LOGGER.fine(() -> "relay of " + req.path().path() + " ended early: " + e);
        }
    }

    private static void stream(InputStream in, ServerResponse res, Optional<CachedTokensRewriter> rewriter,
                               boolean eventStream) throws IOException {
        byte[] buffer = new byte[READ_BUFFER];
        Boolean sse = rewriter.isPresent() ? (eventStream ? Boolean.TRUE : null) : Boolean.FALSE;
        try (OutputStream out = res.outputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if (read == 0) {
                    continue;
                }
                if (sse == null) {
                    // Upstream also treats a body that starts as an event stream as one, whatever its type says.
                    sse = read >= 5 && new String(buffer, 0, 5, StandardCharsets.US_ASCII)
                            .equals("data:");
                }
                if (sse) {
                    byte[] rewritten = rewriter.orElseThrow().rewriteStreamChunk(buffer, read);
                    out.write(rewritten);
                } else {
                    out.write(buffer, 0, read);
                }
                out.flush();
            }
            if (Boolean.TRUE.equals(sse)) {
                out.write(rewriter.orElseThrow().finish());
            }
        }
    }

    /** The client's headers minus hop-by-hop ones and the P/D routing headers, plus X-Forwarded-For. */
    private static Map<String, List<String>> forwardedHeaders(ServerRequest req) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Header header : req.headers()) {
            String name = header.headerName().lowerCase();
            if (HOP_BY_HOP.contains(name) || SET_BY_CLIENT.contains(name) || ROUTING_HEADERS.contains(name)) {
                continue;
            }
            headers.computeIfAbsent(name, key -> new ArrayList<>()).addAll(header.allValues());
        }
        String client = req.remotePeer().host();
        headers.merge("x-forwarded-for", new ArrayList<>(List.of(client)), (before, added) -> {
            List<String> joined = new ArrayList<>(List.of(String.join(", ", before) + ", " + client));
            return joined;
        });
        return headers;
    }

    private static void copyHeaders(Map<String, List<String>> headers, ServerResponse res, boolean dropLength) {
        headers.forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.startsWith(":") || HOP_BY_HOP.contains(lower) || (dropLength && lower.equals("content-length"))) {
                return;
            }
            res.headers().set(HeaderValues.create(name, values));
        });
    }

    private static String pathAndQuery(ServerRequest req) {
        String query = req.query().rawValue();
        return req.path().rawPath() + (query.isEmpty() ? "" : "?" + query);
    }

    /**
     * Ends the exchange of a client found gone, as upstream does (its reverse proxy answers 502 to a cancelled
     * request): the write usually fails, and that failure is expected.
     */
    private static void replyToGoneClient(ServerResponse res) {
        try {
            reply(res, SidecarErrors.badGateway("the client closed the connection before the decode leg"));
        } catch (RuntimeException expected) {
            LOGGER.log(Level.FINE, "the reply to a client that left failed, as expected", expected);
        }
    }

    private static void reply(ServerResponse res, SidecarErrors.Reply error) {
        res.status(error.status()).header(HeaderNames.CONTENT_TYPE.defaultCase(), error.contentType())
                .send(error.body());
    }

    private static String jsonError(IOException e) {
        return e instanceof JsonProcessingException json ? json.getOriginalMessage()
                : String.valueOf(e.getMessage());
    }

    private static byte[] json(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop();
        }
        prefillClient.close();
        decodeClient.close();
        hangups.close();
    }

    /** A leg's whole answer. */
    private record BufferedResponse(int status, Map<String, List<String>> headers, byte[] body) {
    }

    /** Counts of what the flow did, for logs and tests. */
    public static final class Counters {
        private final AtomicLong prefillAttempts = new AtomicLong();
        private final AtomicLong decodeLegs = new AtomicLong();
        private final AtomicLong clientGoneBeforeDecode = new AtomicLong();

        /** Prefill requests sent, retries included. */
        public long prefillAttempts() {
            return prefillAttempts.get();
        }

        /** Decode legs of the NIXL v2 flow sent (not pass-through requests). */
        public long decodeLegs() {
            return decodeLegs.get();
        }

        /** Disaggregated requests dropped because the client left before the decode leg. */
        public long clientGoneBeforeDecode() {
            return clientGoneBeforeDecode.get();
        }
    }
}
