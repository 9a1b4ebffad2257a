package dev.lodestar.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import dev.lodestar.simulator.Fleet;
import dev.lodestar.simulator.SimulatedServer;
import dev.lodestar.simulator.SimulatorConfig;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway end to end: real simulators upstream, a scripted ext_proc server as the EPP, java.net.http clients.
 */
class ProxyHandlerIT {
    private static final String MODEL = "meta-llama/Llama-3.1-8B-Instruct";
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static Fleet fleet;
    private static String sim0;
    private static String sim1;
    private static String refused;
    private static HttpClient client;

    private ScriptedEndpointPicker epp;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void startUpstreams() throws IOException {
        SimulatorConfig.Builder base = SimulatorConfig.builder().host("127.0.0.1").port(0).model(MODEL)
                .timeToFirstToken(Duration.ofMillis(5)).interTokenLatency(Duration.ofMillis(5));
        fleet = Fleet.start(List.of(base.podName("sim-0").build(), base.podName("sim-1").build()));
        sim0 = address(fleet.servers().get(0));
        sim1 = address(fleet.servers().get(1));
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            refused = "127.0.0.1:" + socket.getLocalPort();
        }
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterAll
    static void stopUpstreams() {
        client.close();
        fleet.close();
    }

    @BeforeEach
    void startEpp() {
        epp = ScriptedEndpointPicker.start();
        closeables.add(epp);
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable closeable : closeables.reversed()) {
            closeable.close();
        }
    }

    private static String address(SimulatedServer server) {
        return "127.0.0.1:" + server.port();
    }

    private Gateway gateway(String yaml) {
        Gateway gateway = Gateway.start(GatewayConfig.parse(yaml));
        closeables.add(gateway);
        return gateway;
    }

    private Gateway gateway() {
        return gateway(pool("main", epp.address(), "") + "routes:\n  - pool: main\n");
    }

    private static String pool(String name, String eppAddress, String extra) {
        return """
                listen: {port: 0}
                timeouts: {messageTimeout: 2s, connectTimeout: 2s, responseTimeout: 30s}
                pools:
                  - name: %s
                    endpointPicker: {address: "%s", tls: false}
                %s""".formatted(name, eppAddress, extra.indent(4));
    }

    private static HttpRequest.Builder post(Gateway gateway, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .timeout(WAIT).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chat(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],"
                + "\"max_tokens\":3}";
    }

    private static Map<String, String> headers(HttpHeaders headers) {
        Map<String, String> map = new LinkedHashMap<>();
        for (HeaderValue header : headers.getHeaders().getHeadersList()) {
            assertThat(header.getValue()).as("value of %s (Envoy sends raw_value)", header.getKey()).isEmpty();
            map.merge(header.getKey(), header.getRawValue().toStringUtf8(), (a, b) -> a + "," + b);
        }
        return map;
    }

    private static List<ProcessingRequest> of(List<ProcessingRequest> requests, ProcessingRequest.RequestCase kind) {
        return requests.stream().filter(request -> request.getRequestCase() == kind).toList();
    }

    private static String served(ProcessingRequest responseHeaders) {
        return responseHeaders.getMetadataContext().getFilterMetadataMap().get("envoy.lb").getFieldsMap()
                .get("x-gateway-destination-endpoint-served").getStringValue();
    }

    /** Waits (bounded) for the EPP to have seen the response's last body message. */
    private static List<ProcessingRequest> awaitResponseEnd(ScriptedEndpointPicker.RecordedStream stream)
            throws Exception {
        stream.halfClosed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return stream.requests();
    }

    @Test
    void routedRequestReachesTheChosenEndpointWithTheEppsBodyAndHeaders() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim1)
                .rewriteRequestBody(body -> body.replace("\"model\":\"alias\"", "\"model\":\"" + MODEL + "\""))
                .setRequestHeader("x-request-id", "set-by-epp")
                .removeRequestHeader("x-return-error")
                .setResponseHeader("x-went-into-resp-headers", "true"));
        Gateway gateway = gateway();
        String body = chat("alias");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions?trace=1", body)
                .header("x-request-id", "from-client").header("X-Return-Error", "500"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-port"))
                .contains(Integer.toString(fleet.servers().get(1).port()));
        assertThat(response.headers().firstValue("x-request-id")).contains("set-by-epp");
        assertThat(response.headers().firstValue("x-went-into-resp-headers")).contains("true");
        assertThat(response.body()).contains("\"model\":\"" + MODEL + "\"");

        List<ProcessingRequest> sent = awaitResponseEnd(epp.onlyStream());
        ProcessingRequest first = sent.getFirst();
        assertThat(first.hasRequestHeaders()).isTrue();
        assertThat(first.getRequestHeaders().getEndOfStream()).isFalse();
        Map<String, String> requestHeaders = headers(first.getRequestHeaders());
        assertThat(requestHeaders).containsEntry(":method", "POST")
                .containsEntry(":path", "/v1/chat/completions?trace=1")
                .containsEntry(":authority", "127.0.0.1:" + gateway.port())
                .containsEntry(":scheme", "http")
                .containsEntry("content-type", "application/json")
                .containsEntry("x-request-id", "from-client")
                .containsEntry("x-return-error", "500")
                .doesNotContainKeys("host", "connection");
        assertThat(List.copyOf(requestHeaders.keySet()).subList(0, 4))
                .containsExactly(":method", ":path", ":authority", ":scheme");
        assertThat(first.getMetadataContext().getFilterMetadataMap()).doesNotContainKey("envoy.lb.subset_hint");

        List<ProcessingRequest> bodies = of(sent, ProcessingRequest.RequestCase.REQUEST_BODY);
        assertThat(bodies).isNotEmpty();
        assertThat(bodies.getLast().getRequestBody().getEndOfStream()).isTrue();
        assertThat(bodies.stream().map(b -> b.getRequestBody().getBody().toStringUtf8()).reduce("", String::concat))
                .isEqualTo(body);

        List<ProcessingRequest> responseHeaders = of(sent, ProcessingRequest.RequestCase.RESPONSE_HEADERS);
        assertThat(responseHeaders).hasSize(1);
        assertThat(headers(responseHeaders.getFirst().getResponseHeaders())).containsEntry(":status", "200")
                .containsEntry("content-type", "application/json");
        assertThat(served(responseHeaders.getFirst())).isEqualTo(sim1);
        assertThat(sent.getLast().hasResponseBody()).isTrue();
        assertThat(sent.getLast().getResponseBody().getEndOfStream()).isTrue();
        assertThat(of(sent, ProcessingRequest.RequestCase.RESPONSE_BODY).stream()
                .map(b -> b.getResponseBody().getBody().toStringUtf8()).reduce("", String::concat))
                .isEqualTo(response.body());
    }

    @Test
    void largeBodyGoesToTheEppInChunksAndComesBackWhole() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        Gateway gateway = gateway();
        String body = "{\"model\":\"" + MODEL + "\",\"prompt\":\"" + "word ".repeat(40_000) + "\",\"max_tokens\":1}";
        // The prompt exceeds the simulator's context; its 400 proves the whole body arrived as JSON.

        HttpResponse<String> response = send(post(gateway, "/v1/completions", body));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.body()).contains("maximum context length");
        List<ProcessingRequest> bodies = of(awaitResponseEnd(epp.onlyStream()),
                ProcessingRequest.RequestCase.REQUEST_BODY);
        assertThat(bodies).hasSizeGreaterThan(1);
        assertThat(bodies.subList(0, bodies.size() - 1))
                .allSatisfy(chunk -> assertThat(chunk.getRequestBody().getEndOfStream()).isFalse());
        assertThat(bodies.getLast().getRequestBody().getEndOfStream()).isTrue();
        assertThat(bodies.stream().mapToInt(b -> b.getRequestBody().getBody().size()).sum()).isEqualTo(body.length());
    }

    @Test
    void fallbackListIsWalkedWhenTheFirstEndpointRefusesConnections() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(refused + "," + sim0));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-port"))
                .contains(Integer.toString(fleet.servers().get(0).port()));
        List<ProcessingRequest> sent = awaitResponseEnd(epp.onlyStream());
        assertThat(served(of(sent, ProcessingRequest.RequestCase.RESPONSE_HEADERS).getFirst())).isEqualTo(sim0);
    }

    @Test
    void destinationInMetadataOnlyIsEnough() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim1).metadataOnly());
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-port"))
                .contains(Integer.toString(fleet.servers().get(1).port()));
    }

    @Test
    void noDestinationIs503AndTheEppSeesTheLocalReply() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0).noDestination());
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(503);
        List<ProcessingRequest> sent = epp.onlyStream().requests();
        List<ProcessingRequest> responseHeaders = of(sent, ProcessingRequest.RequestCase.RESPONSE_HEADERS);
        assertThat(responseHeaders).hasSize(1);
        assertThat(headers(responseHeaders.getFirst().getResponseHeaders())).containsEntry(":status", "503");
    }

    @Test
    void immediateResponseReachesTheClient() throws Exception {
        epp.script((request, stream) -> {
            if (request.hasRequestBody() && request.getRequestBody().getEndOfStream()) {
                stream.reply(ProcessingResponse.newBuilder().setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.TooManyRequests))
                        .setHeaders(HeaderMutation.newBuilder()
                                .addSetHeaders(ScriptedEndpointPicker.setHeader("content-type", "text/plain"))
                                .addSetHeaders(ScriptedEndpointPicker.setHeader("retry-after", "3")))
                        .setBody(ByteString.copyFromUtf8(
                                "inference error: ResourceExhausted - system saturated, sheddable request dropped")))
                        .build());
            }
        });
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("retry-after")).contains("3");
        assertThat(response.headers().firstValue("content-type")).contains("text/plain");
        assertThat(response.body())
                .isEqualTo("inference error: ResourceExhausted - system saturated, sheddable request dropped");
        assertThat(of(epp.onlyStream().requests(), ProcessingRequest.RequestCase.RESPONSE_HEADERS)).isEmpty();
    }

    @Test
    void bodyModelRouteSendsItsSubsetHint() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        Gateway gateway = gateway(pool("main", epp.address(), "") + """
                routes:
                  - model: restricted
                    pool: main
                    endpointSubset: ["%s", "%s"]
                  - pool: main
                """.formatted(sim0, refused));

        HttpResponse<String> restricted = send(post(gateway, "/v1/chat/completions", chat("restricted")));
        HttpResponse<String> open = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(restricted.statusCode()).isEqualTo(404); // the simulator does not serve "restricted"
        assertThat(open.statusCode()).isEqualTo(200);
        List<ScriptedEndpointPicker.RecordedStream> streams = epp.streams();
        assertThat(streams).hasSize(2);
        for (ProcessingRequest request : of(streams.get(0).requests(), ProcessingRequest.RequestCase.REQUEST_HEADERS)) {
            Metadata hint = request.getMetadataContext();
            assertThat(hint.getFilterMetadataMap().get("envoy.lb.subset_hint").getFieldsMap()
                    .get("x-gateway-destination-endpoint-subset").getListValue().getValuesList())
                    .extracting(Value::getStringValue).containsExactly(sim0, refused);
        }
        assertThat(streams.get(1).requests())
                .allSatisfy(request -> assertThat(request.getMetadataContext().getFilterMetadataMap())
                        .doesNotContainKey("envoy.lb.subset_hint"));
    }

    @Test
    void pathPrefixPicksThePoolAndNoRouteIs404() throws Exception {
        ScriptedEndpointPicker other = ScriptedEndpointPicker.start();
        closeables.add(other);
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        other.script(ScriptedEndpointPicker.routeTo(sim1));
        Gateway gateway = gateway("""
                listen: {port: 0}
                pools:
                  - name: chat
                    endpointPicker: {address: "%s", tls: false}
                  - name: completions
                    endpointPicker: {address: "%s", tls: false}
                routes:
                  - pathPrefix: /v1/chat
                    pool: chat
                  - pathPrefix: /v1/completions
                    pool: completions
                """.formatted(epp.address(), other.address()));

        HttpResponse<String> completion = send(post(gateway, "/v1/completions",
                "{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"max_tokens\":2}"));
        HttpResponse<String> none = send(post(gateway, "/v2/other", "{}"));

        assertThat(completion.statusCode()).as(completion.body()).isEqualTo(200);
        assertThat(completion.headers().firstValue("x-inference-port"))
                .contains(Integer.toString(fleet.servers().get(1).port()));
        assertThat(other.streams()).hasSize(1);
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(epp.streams()).isEmpty();
    }

    @Test
    void streamedResponsePassesEachChunkThroughTheEppAndReachesTheClientBeforeTheEnd() throws Exception {
        CountDownLatch clientHasFirstToken = new CountDownLatch(1);
        CompletableFuture<Boolean> endHeldUntilClientRead = new CompletableFuture<>();
        ScriptedEndpointPicker.Router router = ScriptedEndpointPicker.routeTo(sim0)
                .rewriteResponseChunks(ProxyHandlerIT::upperCase);
        epp.script((request, stream) -> {
            if (request.hasResponseBody() && request.getResponseBody().getEndOfStream()) {
                try {
                    endHeldUntilClientRead.complete(clientHasFirstToken.await(WAIT.toSeconds(), TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            router.onRequest(request, stream);
        });
        Gateway gateway = gateway();
        String body = "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"max_tokens\":8,\"ignore_eos\":true,\"stream\":true}";

        HttpResponse<InputStream> response = client.send(post(gateway, "/v1/chat/completions", body).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/event-stream"));
        StringBuilder received = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                received.append(line).append('\n');
                if (line.startsWith("DATA: {")) {
                    clientHasFirstToken.countDown();
                }
            }
        }

        assertThat(endHeldUntilClientRead.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .as("the client read a token while the EPP still held the end of the response").isTrue();
        List<ProcessingRequest> chunks = of(awaitResponseEnd(epp.onlyStream()),
                ProcessingRequest.RequestCase.RESPONSE_BODY);
        assertThat(chunks.stream().filter(chunk -> !chunk.getResponseBody().getBody().isEmpty()).count())
                .isGreaterThan(2);
        String upstream = chunks.stream().map(chunk -> chunk.getResponseBody().getBody().toStringUtf8())
                .reduce("", String::concat);
        assertThat(upstream).contains("data: [DONE]");
        assertThat(received.toString()).isEqualTo(upperCase(ByteString.copyFromUtf8(upstream)).toStringUtf8()
                .replace("\r\n", "\n"));
    }

    private static ByteString upperCase(ByteString chunk) {
        byte[] bytes = chunk.toByteArray();
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] >= 'a' && bytes[i] <= 'z') {
                bytes[i] -= 'a' - 'A';
            }
        }
        return ByteString.copyFrom(bytes);
    }

    @Test
    void eppDownFailsClosedWith500() throws Exception {
        Gateway gateway = gateway(pool("main", refused, "") + "routes:\n  - pool: main\n");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(500);
    }

    @Test
    void eppDownFailsOpenToAPoolEndpoint() throws Exception {
        Gateway gateway = gateway(pool("main", refused, """
                failureMode: FailOpen
                endpoints: ["%s", "%s"]
                """.formatted(sim0, sim1)) + "routes:\n  - pool: main\n");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-pod")).hasValueSatisfying(
                pod -> assertThat(pod).isIn("sim-0", "sim-1"));
    }

    @Test
    void silentEppFailsClosedAfterTheMessageTimeout() throws Exception {
        Gateway gateway = gateway(pool("main", epp.address(), "").replace("messageTimeout: 2s",
                "messageTimeout: 300ms") + "routes:\n  - pool: main\n");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(epp.onlyStream().error().get(WAIT.toSeconds(), TimeUnit.SECONDS).getCode())
                .isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void silentEppFailsOpenAfterTheMessageTimeout() throws Exception {
        Gateway gateway = gateway(pool("main", epp.address(), """
                failureMode: FailOpen
                endpoints: ["%s"]
                """.formatted(sim1)).replace("messageTimeout: 2s", "messageTimeout: 300ms")
                + "routes:\n  - pool: main\n");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-pod")).contains("sim-1");
    }

    @Test
    void clientDisconnectMidStreamCancelsTheExtProcStream() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        Gateway gateway = gateway();
        byte[] body = ("{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"max_tokens\":800,\"ignore_eos\":true,"
                + "\"stream\":true}").getBytes(StandardCharsets.UTF_8);

        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null && !line.startsWith("data: {")) {
                assertThat(line).doesNotStartWith("data: [DONE]");
            }
            assertThat(line).as("a first token").isNotNull();
            socket.setSoLinger(true, 0);
        }

        ScriptedEndpointPicker.RecordedStream stream = epp.onlyStream();
        assertThat(stream.error().get(WAIT.toSeconds(), TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(stream.requests()).noneSatisfy(request -> assertThat(
                request.hasResponseBody() && request.getResponseBody().getEndOfStream()).isTrue());
    }

    @Test
    void requestWithoutBodySendsHeadersWithEndOfStream() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/v1/models")).timeout(WAIT).GET());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains(MODEL);
        List<ProcessingRequest> sent = awaitResponseEnd(epp.onlyStream());
        assertThat(sent.getFirst().getRequestHeaders().getEndOfStream()).isTrue();
        assertThat(headers(sent.getFirst().getRequestHeaders())).containsEntry(":method", "GET")
                .containsEntry(":path", "/v1/models");
        assertThat(of(sent, ProcessingRequest.RequestCase.REQUEST_BODY)).isEmpty();
        assertThat(served(of(sent, ProcessingRequest.RequestCase.RESPONSE_HEADERS).getFirst())).isEqualTo(sim0);
    }

    @Test
    void eppFailingOnTheResponsePathFailsOpenWithTheUpstreamResponse() throws Exception {
        ScriptedEndpointPicker.Router router = ScriptedEndpointPicker.routeTo(sim0);
        epp.script((request, stream) -> {
            if (request.hasResponseHeaders()) {
                stream.fail(Status.INTERNAL.withDescription("scripted failure"));
            } else {
                router.onRequest(request, stream);
            }
        });
        Gateway gateway = gateway(pool("main", epp.address(), """
                failureMode: FailOpen
                endpoints: ["%s"]
                """.formatted(sim1)) + "routes:\n  - pool: main\n");

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-pod")).contains("sim-0");
        assertThat(response.body()).contains("\"choices\"");
    }

    @Test
    void eppFailingOnTheResponsePathFailsClosedWith500() throws Exception {
        ScriptedEndpointPicker.Router router = ScriptedEndpointPicker.routeTo(sim0);
        epp.script((request, stream) -> {
            if (request.hasResponseHeaders()) {
                stream.fail(Status.INTERNAL.withDescription("scripted failure"));
            } else {
                router.onRequest(request, stream);
            }
        });
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(500);
    }

    @Test
    void eppGrpcErrorOnTheRequestPathAppliesTheFailureMode() throws Exception {
        epp.script((request, stream) -> {
            if (request.hasRequestBody() && request.getRequestBody().getEndOfStream()) {
                stream.fail(Status.INTERNAL.withDescription("no endpoints"));
            }
        });
        Gateway closed = gateway();
        Gateway open = gateway(pool("main", epp.address(), """
                failureMode: FailOpen
                endpoints: ["%s"]
                """.formatted(sim1)) + "routes:\n  - pool: main\n");

        assertThat(send(post(closed, "/v1/chat/completions", chat(MODEL))).statusCode()).isEqualTo(500);
        HttpResponse<String> opened = send(post(open, "/v1/chat/completions", chat(MODEL)));
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
        assertThat(opened.headers().firstValue("x-inference-pod")).contains("sim-1");
    }

    @Test
    void clientSentDestinationIsOverwrittenByTheEpps() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim1));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL))
                .header("x-gateway-destination-endpoint", refused));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-inference-pod")).contains("sim-1");
    }

    @Test
    void noReachableEndpointIs503AndTheEppSeesTheLocalReply() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(refused));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL)));

        assertThat(response.statusCode()).isEqualTo(503);
        List<ProcessingRequest> responseHeaders = of(epp.onlyStream().requests(),
                ProcessingRequest.RequestCase.RESPONSE_HEADERS);
        assertThat(responseHeaders).hasSize(1);
        assertThat(headers(responseHeaders.getFirst().getResponseHeaders())).containsEntry(":status", "503");
        assertThat(responseHeaders.getFirst().getResponseHeaders().getEndOfStream()).isTrue();
    }

    @Test
    void echoedPseudoHeadersAreToleratedAndAPathMutationIsFollowed() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0)
                .setRequestHeader(":method", "GET")
                .setRequestHeader(":authority", "echoed.example")
                .setRequestHeader(":path", "/v1/models"));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/anything")).timeout(WAIT).GET());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains(MODEL);
    }

    @Test
    void upstreamErrorStatusAndBodyPassThrough() throws Exception {
        epp.script(ScriptedEndpointPicker.routeTo(sim0));
        Gateway gateway = gateway();

        HttpResponse<String> response = send(post(gateway, "/v1/chat/completions", chat(MODEL))
                .header("X-Return-Error", "429"));

        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.body()).contains("X-Return-Error");
        List<ProcessingRequest> sent = awaitResponseEnd(epp.onlyStream());
        assertThat(headers(of(sent, ProcessingRequest.RequestCase.RESPONSE_HEADERS).getFirst()
                .getResponseHeaders())).containsEntry(":status", "429");
    }
}
