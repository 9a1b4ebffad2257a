package dev.lodestar.simulator;

import org.junit.jupiter.api.Assumptions;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;

/**
 * Interop check: the shared OpenAI scenarios against the public llm-d-inference-sim, so that Lodestar's
 * simulator and it stay interchangeable for clients.
 *
 * <p>The binary is named by the environment variable {@value #BINARY_ENV}. When it is unset the class is
 * skipped; when it is set but does not run, the class fails. The server runs as a child process on a free
 * port with the same model, LoRA adapter, latencies and cache settings as {@link SimulatorOpenAiTest}.
 */
class LlmdInferenceSimInteropIT extends OpenAiCompatibilityScenarios {
    static final String BINARY_ENV = "LLMD_INFERENCE_SIM";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;

    private Process process;
    private Path log;

    @Override
    protected Target startTarget() throws Exception {
        String binary = System.getenv(BINARY_ENV);
        Assumptions.assumeTrue(binary != null && !binary.isBlank(),
                BINARY_ENV + " is not set, so the interop check against llm-d-inference-sim is skipped. Install the"
                        + " simulator with hack/install-llm-d-inference-sim.sh and set " + BINARY_ENV
                        + " to the path of its binary.");
        Path path = Path.of(binary);
        if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
            fail(BINARY_ENV + "=" + binary + " is not an executable file");
        }
        for (int attempt = 1; ; attempt++) {
            int port = freePort();
            log = logFile(port);
            process = start(path, port);
            String baseUrl = "http://127.0.0.1:" + port;
            if (awaitHealthy(baseUrl)) {
                return new Target(baseUrl, MODEL, LORA, POD_NAME);
            }
            // The process exited. The free port may have been taken in the meantime; anything else is fatal.
            String output = output();
            if (attempt < START_ATTEMPTS && output.toLowerCase().contains("address already in use")) {
                continue;
            }
            fail("llm-d-inference-sim (" + path + ") exited with status " + process.exitValue()
                    + " before /health answered. Its output:\n" + output);
        }
    }

    @Override
    protected void stopTarget() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("llm-d-inference-sim (pid " + process.pid() + ") did not exit after SIGKILL");
            }
        }
    }

    private Process start(Path binary, int port) {
        List<String> command = List.of(binary.toString(),
                "--port", Integer.toString(port),
                "--model", MODEL,
                "--lora-modules", "{\"name\":\"" + LORA + "\",\"path\":\"" + LORA_PATH + "\"}",
                "--max-loras", "1",
                "--mode", "random",
                "--seed", Long.toString(SEED),
                "--max-model-len", Integer.toString(MAX_MODEL_LEN),
                "--block-size", Integer.toString(BLOCK_SIZE),
                "--time-to-first-token", goDuration(TIME_TO_FIRST_TOKEN),
                "--inter-token-latency", goDuration(INTER_TOKEN_LATENCY),
                "--force-dummy-tokenizer",
                "--enable-kvcache");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("POD_NAME", POD_NAME);
        builder.environment().put("POD_IP", "127.0.0.1"); // --enable-kvcache refuses to start without it
        builder.environment().remove("POD_NAMESPACE");
        builder.environment().remove("SIM_MODEL");
        try {
            return builder.start();
        } catch (IOException e) {
            return fail(BINARY_ENV + "=" + binary + " cannot be run: " + e.getMessage(), e);
        }
    }

    /**
     * Polls {@code /health} until it answers 200 (true) or the process exits (false). Fails, after killing
     * the process, when neither happens within {@link #STARTUP_TIMEOUT}.
     */
    private boolean awaitHealthy(String baseUrl) throws InterruptedException {
        HttpRequest health = HttpRequest.newBuilder(URI.create(baseUrl + "/health"))
                .timeout(Duration.ofSeconds(1)).GET().build();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        try (HttpClient probe = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    return false;
                }
                try {
                    if (probe.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return true;
                    }
                } catch (IOException notListeningYet) {
                    // retry below
                }
                Thread.sleep(50);
            }
        }
        stopTarget();
        return fail("llm-d-inference-sim did not answer 200 on " + baseUrl + "/health within "
                + STARTUP_TIMEOUT.toSeconds() + " s. Its output:\n" + output());
    }

    private String output() {
        try {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            return text.length() > 8000 ? "...\n" + text.substring(text.length() - 8000) : text;
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    private static Path logFile(int port) throws IOException {
        Path dir = Path.of("target");
        return Files.isDirectory(dir)
                ? Files.createTempFile(dir, "llm-d-inference-sim-" + port + "-", ".log")
                : Files.createTempFile("llm-d-inference-sim-" + port + "-", ".log");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** A Go duration string, as llm-d-inference-sim's flags require ("10ms"; a bare number is rejected). */
    private static String goDuration(Duration duration) {
        return duration.toMillis() + "ms";
    }
}
