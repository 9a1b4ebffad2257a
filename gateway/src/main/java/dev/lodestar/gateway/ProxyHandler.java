package dev.lodestar.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.Struct;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.helidon.http.Header;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Proxies one HTTP request through the pool's EPP, as Envoy's ext_proc filter configured by GIE: request headers
 * and body go to the EPP; its header mutation (with {@code x-gateway-destination-endpoint}) and streamed body
 * replace the request's; the request goes to the first endpoint of the destination list that accepts a connection;
 * the response's headers and each body chunk go through the EPP on their way to the client, chunk by chunk.
 */
final class ProxyHandler implements Handler {
    private static final Logger LOGGER = Logger.getLogger(ProxyHandler.class.getName());
    private static final JsonFactory JSON = new JsonFactory();
    /** Size of the request-body chunks sent to the EPP (Envoy forwards what it has buffered, up to its buffer). */
    private static final int REQUEST_CHUNK = 64 * 1024;
    private static final int RESPONSE_READ = 16 * 1024;

    private final GatewayConfig config;
    private final Map<String, EndpointPickerClient> pickers;
    private final Map<String, GatewayConfig.Pool> pools;
    private final UpstreamClient upstream;
    private final boolean routesByModel;

    ProxyHandler(GatewayConfig config, Map<String, EndpointPickerClient> pickers, UpstreamClient upstream) {
        this.config = config;
        this.pickers = pickers;
        this.pools = config.pools().stream().collect(java.util.stream.Collectors.toMap(
                GatewayConfig.Pool::name, pool -> pool));
        this.upstream = upstream;
        this.routesByModel = config.routes().stream().anyMatch(route -> route.model() != null);
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        try {
            proxy(req, res);
        } catch (ClientGone e) {
            LOGGER.fine(() -> "client went away: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | IOException e) {
            LOGGER.log(Level.WARNING, "proxying " + req.prologue().method().text() + " " + req.path().rawPath()
                    + " failed", e);
            if (!res.isSent()) {
                reply(res, 502, HeaderBlock.create(), "gateway error: " + e.getMessage());
            }
        }
    }

    private void proxy(ServerRequest req, ServerResponse res) throws IOException, InterruptedException {
        String method = req.prologue().method().text();
        String path = req.path().rawPath() + (req.query().rawValue().isEmpty() ? "" : "?" + req.query().rawValue());
        byte[] body = req.content().hasEntity() ? req.content().inputStream().readAllBytes() : new byte[0];
        Optional<String> bodyModel = routesByModel ? bodyModel(body) : Optional.empty();
        Optional<GatewayConfig.Route> matched = config.routes().stream()
                .filter(route -> route.matches(req.path().rawPath(), bodyModel)).findFirst();
        if (matched.isEmpty()) {
            reply(res, 404, HeaderBlock.create(), "no route for " + method + " " + req.path().rawPath());
            return;
        }
        GatewayConfig.Route route = matched.get();
        GatewayConfig.Pool pool = pools.get(route.pool());

        HeaderBlock headers = HeaderBlock.create()
                .add(":method", method)
                .add(":path", path)
                .add(":authority", req.authority())
                .add(":scheme", "http");
        for (Header header : req.headers()) {
            String name = header.headerName().lowerCase();
            if (!name.equals("host") && !HeaderBlock.HOP_BY_HOP.contains(name)) {
                header.allValues().forEach(value -> headers.add(name, value));
            }
        }

        Duration messageTimeout = config.timeouts().message();
        Metadata subsetHint = EnvoyMessages.subsetHint(route.subset());
        ExtProcStream epp = pickers.get(pool.name()).open();
        RequestDecision decision;
        try {
            decision = processRequest(epp, headers, body, subsetHint, messageTimeout);
        } catch (ExtProcStream.ExtProcException e) {
            epp.cancel(e.getMessage());
            if (pool.failureMode() == GatewayConfig.FailureMode.FailOpen) {
                LOGGER.warning("pool " + pool.name() + ": " + e.getMessage() + "; failing open");
                String endpoint = pool.endpoints().get(ThreadLocalRandom.current().nextInt(pool.endpoints().size()));
                forward(res, null, pool.failureMode(), List.of(endpoint), method, path, headers, body);
            } else {
                LOGGER.warning("pool " + pool.name() + ": " + e.getMessage() + "; failing closed");
                reply(res, 500, HeaderBlock.create(), "ext_proc error: " + e.getMessage());
            }
            return;
        }
        if (decision.immediate().isPresent()) {
            epp.finish();
            immediate(res, decision.immediate().get());
            return;
        }
        List<String> destinations = decision.headers().first(EnvoyMessages.DESTINATION)
                .or(() -> EnvoyMessages.metadataString(decision.metadata(), EnvoyMessages.LB_NAMESPACE,
                        EnvoyMessages.DESTINATION))
                .map(list -> Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList())
                .orElse(List.of());
        if (destinations.isEmpty()) {
            // Envoy's original-destination cluster with no destination header has no host to use.
            finishWithLocalReply(epp, res, 503, "no healthy upstream", messageTimeout);
            return;
        }
        String upstreamMethod = decision.headers().first(":method").orElse(method);
        String upstreamPath = decision.headers().first(":path").orElse(path);
        forward(res, epp, pool.failureMode(), destinations, upstreamMethod, upstreamPath, decision.headers(),
                decision.body());
    }

    /** What the EPP decided for the request: the mutated headers and body, or an immediate response. */
    private record RequestDecision(HeaderBlock headers, byte[] body, Struct metadata,
                                   Optional<ImmediateResponse> immediate) {
    }

    private RequestDecision processRequest(ExtProcStream epp, HeaderBlock headers, byte[] body, Metadata subsetHint,
                                           Duration timeout) throws InterruptedException {
        boolean bodyless = body.length == 0;
        epp.send(EnvoyMessages.requestHeaders(headers, bodyless, subsetHint));
        for (int offset = 0; offset < body.length; offset += REQUEST_CHUNK) {
            int length = Math.min(REQUEST_CHUNK, body.length - offset);
            epp.send(EnvoyMessages.requestBody(body, offset, length, offset + length == body.length, subsetHint));
        }
        Struct.Builder metadata = Struct.newBuilder();
        ProcessingResponse reply = epp.next(timeout);
        metadata.putAllFields(reply.getDynamicMetadata().getFieldsMap());
        if (reply.hasImmediateResponse()) {
            return new RequestDecision(headers, body, metadata.build(), Optional.of(reply.getImmediateResponse()));
        }
        if (!reply.hasRequestHeaders()) {
            throw new ExtProcStream.ExtProcException("expected a request_headers reply, got " + reply.getResponseCase());
        }
        HeaderBlock mutated = headers.copy();
        CommonResponse common = reply.getRequestHeaders().getResponse();
        EnvoyMessages.apply(common.getHeaderMutation(), mutated);
        if (bodyless) {
            return new RequestDecision(mutated, body, metadata.build(), Optional.empty());
        }
        ByteArrayOutputStream newBody = new ByteArrayOutputStream(body.length);
        boolean replaced = false;
        while (true) {
            reply = epp.next(timeout);
            metadata.putAllFields(reply.getDynamicMetadata().getFieldsMap());
            if (reply.hasImmediateResponse()) {
                return new RequestDecision(mutated, body, metadata.build(), Optional.of(reply.getImmediateResponse()));
            }
            if (!reply.hasRequestBody()) {
                throw new ExtProcStream.ExtProcException("expected a request_body reply, got "
                        + reply.getResponseCase());
            }
            CommonResponse bodyResponse = reply.getRequestBody().getResponse();
            EnvoyMessages.apply(bodyResponse.getHeaderMutation(), mutated);
            BodyMutation mutation = bodyResponse.getBodyMutation();
            if (mutation.hasStreamedResponse()) {
                newBody.writeBytes(mutation.getStreamedResponse().getBody().toByteArray());
                replaced = true;
                if (mutation.getStreamedResponse().getEndOfStream()) {
                    break;
                }
            } else if (mutation.hasBody()) {
                newBody.reset();
                newBody.writeBytes(mutation.getBody().toByteArray());
                replaced = true;
                break;
            } else {
                // No mutation: the EPP let the body through unchanged.
                break;
            }
        }
        return new RequestDecision(mutated, replaced ? newBody.toByteArray() : body, metadata.build(),
                Optional.empty());
    }

    /**
     * Sends the request upstream and the response back; with {@code epp} (null when failing open) the response's
     * headers and body chunks pass through the EPP. When the EPP fails on the response headers, the pool's failure
     * mode applies as on the request path: Envoy with {@code failure_mode_allow} lets the response through unchanged.
     */
    private void forward(ServerResponse res, ExtProcStream epp, GatewayConfig.FailureMode failureMode,
                         List<String> destinations, String method, String path, HeaderBlock headers, byte[] body)
            throws InterruptedException, IOException {
        Duration messageTimeout = config.timeouts().message();
        Duration responseTimeout = config.timeouts().response();
        UpstreamClient.Connected connected;
        try {
            connected = upstream.send(destinations, method, path, headers, body, responseTimeout);
        } catch (UpstreamClient.UpstreamFailure failure) {
            if (epp == null) {
                reply(res, failure.status(), HeaderBlock.create(), failure.getMessage());
            } else {
                finishWithLocalReply(epp, res, failure.status(), failure.getMessage(), messageTimeout);
            }
            return;
        }
        InputStream upstreamBody = connected.response().body();
        HeaderBlock responseHeaders = HeaderBlock.create().add(":status",
                Integer.toString(connected.response().statusCode()));
        connected.response().headers().map().forEach((name, values) -> {
            if (!name.startsWith(":") && !HeaderBlock.HOP_BY_HOP.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                values.forEach(value -> responseHeaders.add(name, value));
            }
        });
        boolean bodyless = method.equals("HEAD") || connected.response().statusCode() == 204
                || connected.response().statusCode() == 304
                || responseHeaders.first("content-length").filter("0"::equals).isPresent();
        try (upstreamBody) {
            if (epp == null) {
                writeHead(res, responseHeaders);
                pipe(upstreamBody, res);
                return;
            }
            epp.send(EnvoyMessages.responseHeaders(responseHeaders, bodyless, EnvoyMessages.served(connected.endpoint())));
            ProcessingResponse reply;
            try {
                reply = epp.next(messageTimeout);
            } catch (ExtProcStream.ExtProcException e) {
                if (failureMode == GatewayConfig.FailureMode.FailOpen) {
                    LOGGER.warning("response of " + connected.endpoint() + ": " + e.getMessage() + "; failing open");
                    writeHead(res, responseHeaders);
                    pipe(upstreamBody, res);
                } else {
                    LOGGER.warning("response of " + connected.endpoint() + ": " + e.getMessage() + "; failing closed");
                    reply(res, 500, HeaderBlock.create(), "ext_proc error: " + e.getMessage());
                }
                return;
            }
            if (reply.hasImmediateResponse()) {
                epp.finish();
                immediate(res, reply.getImmediateResponse());
                return;
            }
            if (!reply.hasResponseHeaders()) {
                LOGGER.warning("response of " + connected.endpoint() + ": the EPP answered the response headers with "
                        + reply.getResponseCase() + "; failing closed");
                epp.cancel("protocol error");
                reply(res, 500, HeaderBlock.create(), "ext_proc error: expected a response_headers reply, got "
                        + reply.getResponseCase());
                return;
            }
            EnvoyMessages.apply(reply.getResponseHeaders().getResponse().getHeaderMutation(), responseHeaders);
            writeHead(res, responseHeaders);
            if (bodyless) {
                epp.finish();
                res.send();
                return;
            }
            streamResponseBody(epp, upstreamBody, res, messageTimeout, responseTimeout);
        }
    }

    /**
     * Upstream chunks go to the EPP from a reader thread as they arrive; the EPP's streamed replies go to the client
     * from this thread, each flushed at once so that a token never waits for the next.
     */
    private static void streamResponseBody(ExtProcStream epp, InputStream upstreamBody, ServerResponse res,
                                           Duration messageTimeout, Duration responseTimeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + responseTimeout.toNanos();
        long[] upstreamDoneAt = {0};
        Thread reader = Thread.ofVirtual().name("gateway-upstream-reader").start(() -> {
            byte[] buffer = new byte[RESPONSE_READ];
            try {
                int read;
                while ((read = upstreamBody.read(buffer)) >= 0) {
                    if (read > 0) {
                        epp.send(EnvoyMessages.responseBody(buffer, read, false));
                    }
                }
                epp.send(EnvoyMessages.responseBody(buffer, 0, true));
                synchronized (upstreamDoneAt) {
                    upstreamDoneAt[0] = System.nanoTime();
                }
            } catch (IOException e) {
                // The model server reset the response (or we closed it): Envoy resets the ext_proc stream.
                epp.cancel("upstream reset: " + e.getMessage());
            }
        });
        OutputStream out = res.outputStream();
        try {
            while (true) {
                long now = System.nanoTime();
                long doneAt;
                synchronized (upstreamDoneAt) {
                    doneAt = upstreamDoneAt[0];
                }
                long limit = doneAt != 0 ? Math.min(deadline, doneAt + messageTimeout.toNanos()) : deadline;
                if (now >= limit) {
                    epp.cancel("response timeout");
                    throw new ClientGone("the response did not complete in time");
                }
                ProcessingResponse reply = epp.poll(Duration.ofNanos(Math.min(limit - now,
                        Duration.ofMillis(250).toNanos())));
                if (reply == null) {
                    continue;
                }
                if (!reply.hasResponseBody()) {
                    epp.cancel("protocol error");
                    throw new ClientGone("expected a response_body reply, got " + reply.getResponseCase());
                }
                BodyMutation mutation = reply.getResponseBody().getResponse().getBodyMutation();
                if (!mutation.hasStreamedResponse()) {
                    epp.cancel("protocol error");
                    throw new ClientGone("a response_body reply without streamed_response");
                }
                mutation.getStreamedResponse().getBody().writeTo(out);
                out.flush();
                if (mutation.getStreamedResponse().getEndOfStream()) {
                    break;
                }
            }
            epp.finish();
            out.close();
        } catch (ExtProcStream.ExtProcException e) {
            LOGGER.warning("the EPP failed mid-response, closing the client's connection: " + e.getMessage());
            epp.cancel("ext_proc failure: " + e.getMessage());
            throw new ClientGone(e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            epp.cancel("downstream failure: " + e.getMessage());
            throw new ClientGone(e.getMessage());
        } finally {
            try {
                upstreamBody.close();
            } catch (IOException ignored) {
                // closing only unblocks the reader
            }
            reader.join(Duration.ofSeconds(5));
        }
    }

    /** Envoy's local reply (no upstream response): the EPP sees it on the response path, then the client gets it. */
    private static void finishWithLocalReply(ExtProcStream epp, ServerResponse res, int status, String message,
                                             Duration timeout) {
        HeaderBlock headers = HeaderBlock.create().add(":status", Integer.toString(status))
                .add("content-type", "text/plain");
        try {
            epp.send(EnvoyMessages.responseHeaders(headers, true, Metadata.getDefaultInstance()));
            ProcessingResponse reply = epp.next(timeout);
            if (reply.hasResponseHeaders()) {
                EnvoyMessages.apply(reply.getResponseHeaders().getResponse().getHeaderMutation(), headers);
            }
            epp.finish();
        } catch (ExtProcStream.ExtProcException | InterruptedException e) {
            epp.cancel("local reply");
        }
        headers.remove(":status");
        reply(res, status, headers, message);
    }

    private static void immediate(ServerResponse res, ImmediateResponse immediate) {
        HeaderBlock headers = HeaderBlock.create();
        EnvoyMessages.apply(immediate.getHeaders(), headers);
        int status = immediate.getStatus().getCodeValue();
        res.status(status == 0 ? 200 : status);
        for (Map.Entry<String, String> header : headers.entries()) {
            if (!header.getKey().startsWith(":")) {
                res.header(header.getKey(), header.getValue());
            }
        }
        res.send(immediate.getBody().toByteArray());
    }

    private static void writeHead(ServerResponse res, HeaderBlock headers) {
        res.status(Integer.parseInt(headers.first(":status").orElse("200")));
        for (Map.Entry<String, String> header : headers.entries()) {
            String name = header.getKey();
            // The body may change length on its way through the EPP, so the client gets it chunked.
            if (!name.startsWith(":") && !name.equals("content-length")) {
                res.header(name, header.getValue());
            }
        }
    }

    private static void pipe(InputStream in, ServerResponse res) {
        byte[] buffer = new byte[RESPONSE_READ];
        try (OutputStream out = res.outputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGone(e.getMessage());
        }
    }

    private static void reply(ServerResponse res, int status, HeaderBlock headers, String message) {
        res.status(status);
        for (Map.Entry<String, String> header : headers.entries()) {
            if (!header.getKey().equals("content-length")) {
                res.header(header.getKey(), header.getValue());
            }
        }
        if (!headers.contains("content-type")) {
            res.header("content-type", "text/plain");
        }
        res.send(message.getBytes(StandardCharsets.UTF_8));
    }

    /** The top-level {@code model} string of a JSON body, if it has one. */
    static Optional<String> bodyModel(byte[] body) {
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return Optional.empty();
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("model")) {
                    return value == JsonToken.VALUE_STRING ? Optional.of(parser.getText()) : Optional.empty();
                }
                parser.skipChildren();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The client connection or the response stream broke; nothing more can be sent to the client. */
    private static final class ClientGone extends RuntimeException {
        ClientGone(String message) {
            super(message, null, false, false);
        }
    }
}
