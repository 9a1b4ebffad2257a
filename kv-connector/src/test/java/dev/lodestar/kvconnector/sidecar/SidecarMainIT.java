package dev.lodestar.kvconnector.sidecar;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The runnable jar ({@code target/lodestar-kv-connector.jar} with {@code target/libs}) as a process, with upstream's
 * defaults: HTTPS with a self-signed certificate. Catches what only the packaged class path shows.
 */
@Timeout(90)
class SidecarMainIT {
    @Test
    void theJarServesHttpsWithASelfSignedCertificateAndAnswersForAnAbsentDecoder() throws Exception {
        Path jar = Path.of("target", "lodestar-kv-connector.jar");
        assertThat(jar).as("built by the package phase").isRegularFile();
        int port = freePort();
        int decoderPort = freePort();
        Path log = Files.createTempFile("sidecar-main-", ".log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "--port", Integer.toString(port), "--model-server-port",
                Integer.toString(decoderPort))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(TrustAll.context()).connectTimeout(Duration.ofSeconds(1)).build()) {
            URI health = URI.create("https://127.0.0.1:" + port + "/health");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                if (!process.isAlive()) {
                    fail("the sidecar exited with " + process.exitValue() + ":\n" + Files.readString(log));
                }
                try {
                    if (client.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.discarding())
                            .statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    fail("no /health within 60 s:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
            HttpResponse<String> models = client.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + port + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(models.statusCode()).isEqualTo(503);
            assertThat(models.body()).contains(SidecarErrors.DECODER_NOT_READY);
        } finally {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
