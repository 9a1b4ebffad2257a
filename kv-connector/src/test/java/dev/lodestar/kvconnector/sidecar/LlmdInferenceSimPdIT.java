package dev.lodestar.kvconnector.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Interop: the sidecar between two real llm-d-inference-sim processes, one in the prefill role and one as the local
 * decoder, as in llm-d's P/D deployment. The simulator honours {@code kv_transfer_params}: it refuses a streamed
 * prefill, answers a prefill with {@code finish_reason} {@code remote_decode} and its own {@code kv_transfer_params},
 * and counts the prompt tokens it found cached.
 *
 * <p>The binary is named by {@value #BINARY_ENV} ({@code hack/install-llm-d-inference-sim.sh} prints it). Unset,
 * the class is skipped, unless {@value #REQUIRED_ENV} is set.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class LlmdInferenceSimPdIT {
    static final String BINARY_ENV = "LLMD_INFERENCE_SIM";
    static final String REQUIRED_ENV = "LODESTAR_REQUIRE_INTEROP";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String MODEL = "fake-model";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private int prefillPort;
    private int decodePort;
    private Sidecar sidecar;
    private HttpClient client;

    @BeforeAll
    void start() throws Exception {
        String binary = System.getenv(BINARY_ENV);
        if (binary == null || binary.isBlank()) {
            String reason = BINARY_ENV + " is not set: install llm-d-inference-sim with"
                    + " hack/install-llm-d-inference-sim.sh and set " + BINARY_ENV + " to the path it prints";
            if (System.getenv(REQUIRED_ENV) != null) {
                fail(reason + " (" + REQUIRED_ENV + " is set, so this is an error, not a skip)");
            }
            Assumptions.abort(reason);
        }
        Path path = Path.of(binary);
        if (!Files.isExecutable(path)) {
            fail(BINARY_ENV + "=" + binary + " is not an executable file");
        }
        prefillPort = freePort();
        decodePort = freePort();
        startSim(path, prefillPort, "prefill", true);
        // Without a KV cache the decoder reports 0 cached tokens: any other count the client sees is the prefill's.
        startSim(path, decodePort, "decode", false);
        sidecar = Sidecar.start(SidecarConfig.plain(0, decodePort), PrefillAllowlist.allowAll());
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    void stop() throws Exception {
        if (sidecar != null) {
            sidecar.close();
        }
        if (client != null) {
            client.close();
        }
        for (Process process : processes) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private void startSim(Path binary, int port, String role, boolean kvCache) throws Exception {
        Path log = Files.createTempFile("llmd-sim-" + role + "-", ".log");
        logs.add(log);
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--port", Integer.toString(port),
                "--model", MODEL, "--mode", "random", "--seed", "7", "--max-model-len", "2048",
                "--block-size", "16", "--force-dummy-tokenizer", "--enable-request-id-headers"));
        if (kvCache) {
            command.add("--enable-kvcache");
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("POD_IP", "127.0.0.1"); // --enable-kvcache needs it
        builder.environment().remove("SIM_MODEL");
        Process process = builder.start();
        processes.add(process);
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        try (HttpClient probe = HttpClient.newHttpClient()) {
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    if (probe.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
        }
        fail("llm-d-inference-sim (" + role + ") did not become healthy: " + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private HttpResponse<String> viaSidecar(String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
                .header("Content-Type", "application/json")
                .header(PrefillTargets.HEADER, "127.0.0.1:" + prefillPort)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The sum of a counter or gauge family of a simulator's /metrics. */
    private double metric(int port, String name) throws Exception {
        String text = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static String prompt(String seedWord) {
        return (seedWord + " lorem ipsum dolor sit amet consectetur adipiscing elit ").repeat(8);
    }

    @Test
    void aChatCompletionRunsPrefillOnOneSimulatorAndDecodeOnTheOther() throws Exception {
        double prefillRequestsBefore = metric(prefillPort, "vllm:request_success_total");
        double decodeRequestsBefore = metric(decodePort, "vllm:request_success_total");
        HttpResponse<String> response = viaSidecar("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":12}"""
                .formatted(MODEL, prompt("chat")));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode answer = MAPPER.readTree(response.body());
        assertThat(answer.at("/choices/0/message/content").asText()).isNotEmpty();
        assertThat(answer.at("/choices/0/finish_reason").asText())
                .as("the decoder's answer, not the prefill's remote_decode").isIn("stop", "length");
        assertThat(answer.at("/usage/completion_tokens").intValue()).isGreaterThan(1);
        // --enable-request-id-headers: the decoder used the sidecar's x-request-id as the completion id.
        assertThat(answer.path("id").asText()).matches("chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(metric(prefillPort, "vllm:request_success_total") - prefillRequestsBefore).isEqualTo(1);
        assertThat(metric(decodePort, "vllm:request_success_total") - decodeRequestsBefore).isEqualTo(1);
    }

    @Test
    void theClientSeesThePrefillsCachedTokens() throws Exception {
        String body = """
                {"model":"%s","prompt":"%s","max_tokens":4}""".formatted(MODEL, prompt("cache"));
        assertThat(viaSidecar("/v1/completions", body).statusCode()).isEqualTo(200);
        double hitsBefore = metric(prefillPort, "vllm:prefix_cache_hits");

        HttpResponse<String> second = viaSidecar("/v1/completions", body);

        assertThat(second.statusCode()).isEqualTo(200);
        int reported = MAPPER.readTree(second.body()).at("/usage/prompt_tokens_details/cached_tokens").intValue();
        double prefillHits = metric(prefillPort, "vllm:prefix_cache_hits") - hitsBefore;
        assertThat(reported).as("the second identical prompt hits the prefill's cache").isPositive();
        assertThat((double) reported).as("what the prefill simulator counted as cached").isEqualTo(prefillHits);
    }

    @Test
    void aStreamedRequestStreamsFromTheDecoderWhileThePrefillRanUnstreamed() throws Exception {
        // The simulator answers 400 to a streamed prefill: a 200 here means the prefill leg went unstreamed.
        HttpResponse<String> response = viaSidecar("/v1/chat/completions", """
                {"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":6,"stream":true,
                "stream_options":{"include_usage":true}}""".formatted(MODEL, prompt("stream")));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> events = response.body().lines().filter(line -> line.startsWith("data: ")).toList();
        assertThat(events.getLast()).isEqualTo("data: [DONE]");
        assertThat(events.size()).isGreaterThan(3);
        JsonNode usage = MAPPER.readTree(events.get(events.size() - 2).substring(6)).get("usage");
        assertThat(usage.at("/prompt_tokens_details/cached_tokens").isInt()).isTrue();
    }

    @Test
    void withoutThePrefillHeaderTheDecoderAnswersAlone() throws Exception {
        double prefillRequestsBefore = metric(prefillPort, "vllm:request_success_total");
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + sidecar.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"max_tokens\":3}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(metric(prefillPort, "vllm:request_success_total")).isEqualTo(prefillRequestsBefore);
        HttpResponse<String> models = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sidecar.port() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(MAPPER.readTree(models.body()).at("/data/0/id").asText()).isEqualTo(MODEL);
    }
}
