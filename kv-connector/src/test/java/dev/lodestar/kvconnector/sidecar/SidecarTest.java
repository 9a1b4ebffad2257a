package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.tls.ServingCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every branch of the sidecar's flow against real HTTP servers: the sidecar, and two {@link ModelServerTestDouble}s
 * as the prefill pod and the local decoder.
 */
@Timeout(60)
class SidecarTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String PREFILL_RESPONSE = """
            {"id":"cmpl-p","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"A"},
            "finish_reason":"length"}],"kv_transfer_params":{"do_remote_prefill":true,"do_remote_decode":false,
            "remote_block_ids":[1,2,3],"remote_engine_id":"engine-p","remote_request_id":"req-p",
            "remote_host":"10.0.0.5","remote_port":5600,"tp_size":1},
            "usage":{"prompt_tokens":40,"completion_tokens":1,"total_tokens":41,"prompt_tokens_details":{"cached_tokens":32}}}""";
    private static final String DECODE_RESPONSE = """
            {"id":"cmpl-d","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",
            "content":"A B C"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":40,"completion_tokens":3,"total_tokens":43,"prompt_tokens_details":{"cached_tokens":40}}}""";
    private static final String CHAT = """
            {"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"max_completion_tokens":60,
            "min_tokens":2,"stream":false,"kv_transfer_params":{"client":"ignored"}}""";

    private ModelServerTestDouble prefill;
    private ModelServerTestDouble decoder;
    private Sidecar sidecar;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void startServers() {
        prefill = ModelServerTestDouble.start()
                .answer((request, res) -> ModelServerTestDouble.json(res, 200, PREFILL_RESPONSE));
        decoder = ModelServerTestDouble.start()
                .answer((request, res) -> ModelServerTestDouble.json(res, 200, DECODE_RESPONSE));
    }

    @AfterEach
    void stopServers() {
        if (sidecar != null) {
            sidecar.close();
        }
        prefill.close();
        decoder.close();
        client.close();
    }

    private Sidecar start(SidecarConfig config) {
        sidecar = Sidecar.start(config, PrefillAllowlist.allowAll(), bound -> bound - 1);
        return sidecar;
    }

    private SidecarConfig plain() {
        return SidecarConfig.plain(0, decoder.port());
    }

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(String text) throws Exception {
        return MAPPER.readTree(text);
    }

    @Test
    void healthAnswers200WithoutTouchingTheDecoder() throws Exception {
        start(plain());
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sidecar.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void otherRoutesAreReverseProxiedToTheModelServerAsTheyCame() throws Exception {
        start(plain());
        decoder.answer((request, res) -> ModelServerTestDouble.json(res, 200, "{\"data\":[{\"id\":\"m\"}]}"));
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sidecar.port() + "/v1/models?limit=1")).header("x-custom", "v").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"data\":[{\"id\":\"m\"}]}");
        ModelServerTestDouble.Received received = decoder.next();
        assertThat(received.method()).isEqualTo("GET");
        assertThat(received.pathAndQuery()).isEqualTo("/v1/models?limit=1");
        assertThat(received.header("x-custom")).isEqualTo("v");
        assertThat(prefill.drain()).isEmpty();
    }

    @Test
    void withoutThePrefillHeaderAGenerationRequestGoesToTheDecoderUnchanged() throws Exception {
        start(plain());
        HttpResponse<String> response = post("/v1/chat/completions", CHAT);
        assertThat(response.statusCode()).isEqualTo(200);
        // No rewrite either: the decoder's own cached count stands.
        assertThat(json(response.body()).at("/usage/prompt_tokens_details/cached_tokens").intValue()).isEqualTo(40);
        assertThat(json(decoder.next().body())).isEqualTo(json(CHAT));
        assertThat(prefill.drain()).isEmpty();
        assertThat(sidecar.counters().prefillAttempts()).isZero();
    }

    @Test
    void chatCompletionsRunPrefillThenDecodeWithThePrefillsKvTransferParams() throws Exception {
        start(plain());
        HttpResponse<String> response = post("/v1/chat/completions?trace=1", CHAT,
                PrefillTargets.HEADER, prefill.hostPort(), "x-client", "c1");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode answer = json(response.body());
        assertThat(answer.path("id").asText()).isEqualTo("cmpl-d");
        assertThat(answer.at("/usage/prompt_tokens_details/cached_tokens").intValue())
                .as("the prefill's cached count replaces the decoder's").isEqualTo(32);

        ModelServerTestDouble.Received prefillLeg = prefill.next();
        assertThat(prefillLeg.pathAndQuery()).isEqualTo("/v1/chat/completions?trace=1");
        assertThat(prefillLeg.headers()).doesNotContainKey(PrefillTargets.HEADER);
        assertThat(prefillLeg.header("x-client")).isEqualTo("c1");
        JsonNode prefillBody = json(prefillLeg.body());
        assertThat(prefillBody.get("kv_transfer_params")).isEqualTo(json("""
                {"do_remote_decode":true,"do_remote_prefill":false,"remote_engine_id":null,"remote_block_ids":null,
                "remote_host":null,"remote_port":null}"""));
        assertThat(prefillBody.get("stream").booleanValue()).isFalse();
        assertThat(prefillBody.get("max_tokens").intValue()).isEqualTo(1);
        assertThat(prefillBody.get("max_completion_tokens").intValue()).isEqualTo(1);
        assertThat(prefillBody.get("min_tokens").intValue()).isEqualTo(1);
        assertThat(prefillBody.get("messages")).isEqualTo(json(CHAT).get("messages"));

        ModelServerTestDouble.Received decodeLeg = decoder.next();
        assertThat(decodeLeg.pathAndQuery()).isEqualTo("/v1/chat/completions?trace=1");
        assertThat(decodeLeg.headers()).doesNotContainKey(PrefillTargets.HEADER);
        JsonNode expectedDecode = ((ObjectNode) json(CHAT))
                .set("kv_transfer_params", json(PREFILL_RESPONSE).get("kv_transfer_params"));
        assertThat(json(decodeLeg.body())).isEqualTo(expectedDecode);

        String requestId = prefillLeg.header("x-request-id");
        assertThat(requestId).matches("[0-9a-f-]{36}");
        assertThat(decodeLeg.header("x-request-id")).isEqualTo(requestId);
        assertThat(sidecar.counters().decodeLegs()).isEqualTo(1);
    }

    @Test
    void streamingIsOffForThePrefillAndRestoredForTheDecode() throws Exception {
        start(plain());
        decoder.answer((request, res) -> {
            res.header("Content-Type", "text/event-stream");
            try (OutputStream out = res.outputStream()) {
                out.write("data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n".getBytes(StandardCharsets.UTF_8));
                out.write(("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":1,"
                        + "\"prompt_tokens_details\":null}}\n\ndata: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
            }
        });
        String body = """
                {"model":"m","prompt":"hi","max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}""";
        HttpResponse<String> response = post("/v1/completions", body, PrefillTargets.HEADER, prefill.hostPort());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
        assertThat(response.body()).isEqualTo("data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n"
                + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":1,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":32}}}\n\ndata: [DONE]\n\n");
        JsonNode prefillBody = json(prefill.next().body());
        assertThat(prefillBody.get("stream").booleanValue()).isFalse();
        assertThat(prefillBody.has("stream_options")).isFalse();
        JsonNode decodeBody = json(decoder.next().body());
        assertThat(decodeBody.get("stream").booleanValue()).isTrue();
        assertThat(decodeBody.get("stream_options")).isEqualTo(json("{\"include_usage\":true}"));
        assertThat(decodeBody.get("max_tokens").intValue()).isEqualTo(5);
        assertThat(decodeBody.has("max_completion_tokens")).as("limits the client did not set stay unset").isFalse();
        assertThat(decodeBody.has("min_tokens")).isFalse();
    }

    @Test
    void eachStreamedEventReachesTheClientBeforeTheDecoderSendsTheNext() throws Exception {
        start(plain());
        CountDownLatch firstEventSeenByClient = new CountDownLatch(1);
        decoder.answer((request, res) -> {
            res.header("Content-Type", "text/event-stream");
            try (OutputStream out = res.outputStream()) {
                out.write("data: {\"n\":1}\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                // The second event is only written once the client has read the first through the sidecar.
                if (!firstEventSeenByClient.await(20, TimeUnit.SECONDS)) {
                    throw new AssertionError("the first event did not reach the client on its own");
                }
                out.write("data: {\"n\":2}\n\ndata: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            }
        });
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port()
                        + "/v1/chat/completions"))
                .header(PrefillTargets.HEADER, prefill.hostPort())
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[],\"stream\":true}")).build();
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
                if (line.equals("data: {\"n\":1}")) {
                    firstEventSeenByClient.countDown();
                }
            }
        }
        assertThat(lines).containsExactly("data: {\"n\":1}", "", "data: {\"n\":2}", "", "data: [DONE]", "");
    }

    @Test
    void aClientThatLeavesMidStreamAbortsTheDecodeStream() throws Exception {
        start(plain());
        CountDownLatch clientLeft = new CountDownLatch(1);
        CountDownLatch decoderCutOff = new CountDownLatch(1);
        decoder.answer((request, res) -> {
            res.header("Content-Type", "text/event-stream");
            OutputStream out = res.outputStream();
            try {
                out.write("data: {\"n\":0}\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                clientLeft.await(20, TimeUnit.SECONDS);
                // Socket buffers on loopback take megabytes: write until the closed connection makes a write fail
                // (if the sidecar kept it open, writes would block, or run until this deadline, and the test fails).
                long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
                for (int n = 1; System.nanoTime() < deadline; n++) {
                    out.write(("data: {\"n\":" + n + "}\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                decoderCutOff.countDown(); // the sidecar closed the decode connection
                throw e;
            }
        });
        byte[] body = "{\"model\":\"m\",\"messages\":[],\"stream\":true}".getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", sidecar.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: sidecar\r\n" + PrefillTargets.HEADER + ": "
                    + prefill.hostPort() + "\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null && !line.contains("{\"n\":0}")) {
                // status line, headers, chunk sizes
            }
            assertThat(line).isNotNull();
        }
        clientLeft.countDown();
        assertThat(decoderCutOff.await(20, TimeUnit.SECONDS)).as("the decode stream was closed").isTrue();
    }

    @Test
    void responsesApiForcesMaxOutputTokens() throws Exception {
        start(plain());
        String body = "{\"model\":\"m\",\"input\":\"hi\",\"max_output_tokens\":100,\"max_tokens\":7}";
        assertThat(post("/v1/responses", body, PrefillTargets.HEADER, prefill.hostPort()).statusCode()).isEqualTo(200);
        JsonNode prefillBody = json(prefill.next().body());
        assertThat(prefillBody.get("max_output_tokens").intValue()).isEqualTo(1);
        assertThat(prefillBody.get("max_tokens").intValue()).as("not a Responses limit").isEqualTo(7);
        assertThat(json(decoder.next().body()).get("max_output_tokens").intValue()).isEqualTo(100);
    }

    @Test
    void generateApiForcesTheLimitsInSamplingParams() throws Exception {
        start(plain());
        String body = "{\"token_ids\":[1,2,3],\"sampling_params\":{\"max_tokens\":9,\"temperature\":0.5}}";
        assertThat(post("/inference/v1/generate", body, PrefillTargets.HEADER, prefill.hostPort()).statusCode())
                .isEqualTo(200);
        JsonNode prefillBody = json(prefill.next().body());
        assertThat(prefillBody.get("sampling_params")).isEqualTo(
                json("{\"max_tokens\":1,\"temperature\":0.5,\"min_tokens\":1}"));
        JsonNode decodeBody = json(decoder.next().body());
        assertThat(decodeBody.get("sampling_params")).isEqualTo(json("{\"max_tokens\":9,\"temperature\":0.5}"));
        assertThat(decodeBody.get("kv_transfer_params")).isEqualTo(json(PREFILL_RESPONSE).get("kv_transfer_params"));
    }

    @Test
    void anthropicMessagesAreDisaggregatedToo() throws Exception {
        start(plain());
        assertThat(post("/v1/messages", "{\"model\":\"m\",\"max_tokens\":20,\"messages\":[]}",
                PrefillTargets.HEADER, prefill.hostPort()).statusCode()).isEqualTo(200);
        assertThat(json(prefill.next().body()).get("max_tokens").intValue()).isEqualTo(1);
        assertThat(json(decoder.next().body()).get("max_tokens").intValue()).isEqualTo(20);
    }

    @Test
    void theFirstHostOfACommaListWithTheLegacyPrefixIsUsed() throws Exception {
        start(plain());
        assertThat(post("/v1/chat/completions", CHAT, PrefillTargets.HEADER,
                " http://" + prefill.hostPort() + " , 10.255.255.1:8000").statusCode()).isEqualTo(200);
        assertThat(prefill.drain()).hasSize(1);
    }

    @Test
    void withSamplingTheSamplerPicksAmongRepeatedHeaderValues() throws Exception {
        start(plain().withPrefillerSampling(true)); // the sampler of start() picks the last
        assertThat(post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, "10.255.255.1:8000",
                PrefillTargets.HEADER, prefill.hostPort()).statusCode()).isEqualTo(200);
        assertThat(prefill.drain()).hasSize(1);
    }

    @Test
    void aBodyThatIsNotJsonIs400WithAVllmStyleError() throws Exception {
        start(plain());
        HttpResponse<String> response = post("/v1/chat/completions", "{not json", PrefillTargets.HEADER,
                prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = json(response.body());
        assertThat(error.get("object").asText()).isEqualTo("error");
        assertThat(error.get("type").asText()).isEqualTo("BadRequestError");
        assertThat(error.get("code").intValue()).isEqualTo(400);
        assertThat(error.get("message").asText()).startsWith("invalid JSON: ");
        assertThat(prefill.drain()).isEmpty();
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void aPrefillTargetOutsideTheAllowlistIs403() throws Exception {
        sidecar = Sidecar.start(plain(), PrefillAllowlist.of(Set.of("10.1.2.3")), bound -> 0);
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEqualTo(SidecarErrors.SSRF_FORBIDDEN + "\n");
        assertThat(prefill.drain()).isEmpty();
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void anAllowedPrefillTargetPasses() throws Exception {
        sidecar = Sidecar.start(plain(), PrefillAllowlist.of(Set.of("127.0.0.1")), bound -> 0);
        assertThat(post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort()).statusCode())
                .isEqualTo(200);
        assertThat(prefill.drain()).hasSize(1);
    }

    @Test
    void aPrefillErrorIsReturnedAsItCameWithoutRetryOrDecode() throws Exception {
        start(plain().withPrefillRetries(3, Duration.ofMillis(1)));
        prefill.answer((request, res) -> {
            res.header("x-prefill-error", "yes");
            ModelServerTestDouble.json(res, 500, "{\"error\":\"boom\"}");
        });
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).isEqualTo("{\"error\":\"boom\"}");
        assertThat(response.headers().firstValue("x-prefill-error")).hasValue("yes");
        assertThat(prefill.drain()).as("500 is not retried").hasSize(1);
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void retryableStatusesAreRetriedThenReturned() throws Exception {
        start(plain().withPrefillRetries(2, Duration.ofMillis(1)));
        prefill.answer((request, res) -> ModelServerTestDouble.json(res, 503, "{\"error\":\"busy\"}"));
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).isEqualTo("{\"error\":\"busy\"}");
        List<ModelServerTestDouble.Received> attempts = prefill.drain();
        assertThat(attempts).hasSize(3);
        assertThat(attempts).extracting(attempt -> attempt.header("x-request-id")).containsOnly(
                attempts.getFirst().header("x-request-id"));
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void aRetryThatSucceedsGoesOnToTheDecode() throws Exception {
        start(plain().withPrefillRetries(2, Duration.ofMillis(1)));
        int[] calls = {0};
        prefill.answer((request, res) -> {
            if (calls[0]++ == 0) {
                ModelServerTestDouble.json(res, 504, "{}");
            } else {
                ModelServerTestDouble.json(res, 200, PREFILL_RESPONSE);
            }
        });
        assertThat(post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort()).statusCode())
                .isEqualTo(200);
        assertThat(prefill.drain()).hasSize(2);
        assertThat(decoder.drain()).hasSize(1);
    }

    @Test
    void anUnreachablePrefillHostIs502AfterTheRetries() throws Exception {
        start(plain().withPrefillRetries(1, Duration.ofMillis(1)));
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER,
                "127.0.0.1:" + closedPort);
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(sidecar.counters().prefillAttempts()).isEqualTo(2);
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void aPrefillTargetThatIsNoHostIs502() throws Exception {
        start(plain());
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, "bad host:80");
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(json(response.body()).get("type").asText()).isEqualTo("BadGateway");
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void aPrefillAnswerThatIsNotJsonIs400() throws Exception {
        start(plain());
        prefill.answer((request, res) -> res.status(200).send("not json"));
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(json(response.body()).get("type").asText()).isEqualTo("BadRequestError");
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void aPrefillAnswerWithoutKvTransferParamsStillDecodesWithNullParams() throws Exception {
        start(plain());
        prefill.answer((request, res) -> ModelServerTestDouble.json(res, 200, "{\"choices\":[]}"));
        assertThat(post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort()).statusCode())
                .isEqualTo(200);
        JsonNode decodeBody = json(decoder.next().body());
        assertThat(decodeBody.has("kv_transfer_params")).isTrue();
        assertThat(decodeBody.get("kv_transfer_params").isNull()).isTrue();
    }

    @Test
    void aDecoderThatIsDownIs503WithUpstreamsMessage() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        sidecar = Sidecar.start(SidecarConfig.plain(0, closedPort), PrefillAllowlist.allowAll(), bound -> 0);
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(503);
        JsonNode error = json(response.body());
        assertThat(error.get("message").asText()).isEqualTo(SidecarErrors.DECODER_NOT_READY);
        assertThat(error.get("type").asText()).isEqualTo("ServiceUnavailable");
        assertThat(error.get("code").intValue()).isEqualTo(503);
        HttpResponse<String> passThrough = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sidecar.port() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(passThrough.statusCode()).isEqualTo(503);
    }

    @Test
    void aDecodeErrorStatusIsRelayed() throws Exception {
        start(plain());
        decoder.answer((request, res) -> ModelServerTestDouble.json(res, 429, "{\"error\":\"rate\"}"));
        HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER, prefill.hostPort());
        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.body()).isEqualTo("{\"error\":\"rate\"}");
    }

    @Test
    void aClientThatLeavesDuringThePrefillGetsNoDecodeLeg() throws Exception {
        start(plain());
        CountDownLatch prefillReceived = new CountDownLatch(1);
        CountDownLatch clientGone = new CountDownLatch(1);
        prefill.answer((request, res) -> {
            prefillReceived.countDown();
            clientGone.await(20, TimeUnit.SECONDS);
            ModelServerTestDouble.json(res, 200, PREFILL_RESPONSE);
        });
        byte[] body = CHAT.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", sidecar.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
                    + PrefillTargets.HEADER + ": " + prefill.hostPort() + "\r\nContent-Length: " + body.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            assertThat(prefillReceived.await(10, TimeUnit.SECONDS)).isTrue();
        }
        // The sidecar sees the hang-up within a period of its socket-table watch and abandons the held prefill.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sidecar.counters().clientGoneBeforeDecode() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        clientGone.countDown();
        assertThat(sidecar.counters().clientGoneBeforeDecode()).isEqualTo(1);
        assertThat(sidecar.counters().decodeLegs()).isZero();
        assertThat(decoder.drain()).isEmpty();
    }

    @Test
    void overTlsTheSidecarServesHttpsAndReachesAnHttpsPrefillWithoutVerification() throws Exception {
        try (ModelServerTestDouble tlsPrefill = ModelServerTestDouble.startTls()) {
            tlsPrefill.answer((request, res) -> ModelServerTestDouble.json(res, 200, PREFILL_RESPONSE));
            sidecar = Sidecar.start(plain().withTls(true, Set.of(SidecarConfig.Stage.PREFILLER),
                    Set.of(SidecarConfig.Stage.PREFILLER)), PrefillAllowlist.allowAll(), bound -> 0);
            assertThat(sidecar.scheme()).isEqualTo("https");
            try (HttpClient tlsClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(TrustAll.context()).build()) {
                HttpResponse<String> response = tlsClient.send(HttpRequest.newBuilder(
                                URI.create("https://127.0.0.1:" + sidecar.port() + "/v1/chat/completions"))
                        .header(PrefillTargets.HEADER, tlsPrefill.hostPort())
                        .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(json(response.body()).at("/usage/prompt_tokens_details/cached_tokens").intValue())
                        .isEqualTo(32);
            }
            assertThat(tlsPrefill.drain()).hasSize(1);
        }
    }

    @Test
    void withCertPathTheSidecarServesThatCertificate(@TempDir Path certs)
            throws Exception {
        ServingCertificate certificate = ServingCertificate.selfSigned();
        Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(certs.resolve("tls.crt"), "-----BEGIN CERTIFICATE-----\n"
                + pem.encodeToString(certificate.leaf().getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Files.writeString(certs.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\n"
                + pem.encodeToString(certificate.key().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        sidecar = Sidecar.start(plain().withTls(true, Set.of(), Set.of()).withCertPath(certs),
                PrefillAllowlist.allowAll(), bound -> 0);
        try (HttpClient tlsClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(TrustAll.context()).build()) {
            HttpResponse<String> response = tlsClient.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + sidecar.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.sslSession().orElseThrow().getPeerCertificates()[0]).isEqualTo(certificate.leaf());
        }
    }

    @Test
    void aVerifiedTlsLegToAnUntrustedCertificateFailsAs502() throws Exception {
        try (ModelServerTestDouble tlsPrefill = ModelServerTestDouble.startTls()) {
            tlsPrefill.answer((request, res) -> ModelServerTestDouble.json(res, 200, PREFILL_RESPONSE));
            start(plain().withTls(false, Set.of(SidecarConfig.Stage.PREFILLER), Set.of()));
            HttpResponse<String> response = post("/v1/chat/completions", CHAT, PrefillTargets.HEADER,
                    tlsPrefill.hostPort());
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(decoder.drain()).isEmpty();
        }
    }
}
