package dev.lodestar.epp.metrics;

import io.helidon.webserver.WebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsServerTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path directory;

    private final EppMetrics metrics = EppMetrics.builder().commit("abc123").buildRef("v0.1.0").build();
    private WebServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private WebServer start(MetricsAuth auth) {
        server = MetricsServer.start("127.0.0.1", 0, metrics.registry(), auth);
        return server;
    }

    private HttpResponse<String> get(String path, Optional<String> authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(20));
        authorization.ifPresent(value -> request.header("Authorization", value));
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesThePrometheusTextFormat() throws Exception {
        start(MetricsAuth.open());
        metrics.requestReceived("llama", "llama", 0);

        HttpResponse<String> response = get("/metrics", Optional.empty());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .contains("text/plain; version=0.0.4; charset=utf-8");
        PrometheusText text = PrometheusText.parse(response.body());
        assertThat(text.value("inference_extension_info", Map.of("commit", "abc123", "build_ref", "v0.1.0")))
                .contains(1.0);
        assertThat(text.value("inference_objective_request_total",
                Map.of("model_name", "llama", "target_model_name", "llama", "priority", "0"))).contains(1.0);
        assertThat(server.prototype().connectionOptions().tcpNoDelay()).isTrue();
    }

    @Test
    void otherPathsAreNotFound() throws Exception {
        start(MetricsAuth.open());

        assertThat(get("/", Optional.empty()).statusCode()).isEqualTo(404);
        assertThat(get("/metrics/x", Optional.empty()).statusCode()).isEqualTo(404);
    }

    @Test
    void bearerTokensFromTheTokenFile() throws Exception {
        Path tokens = directory.resolve("tokens");
        Files.writeString(tokens, "# scrapers\ns3cret-one\n\n  s3cret-two  \n");
        start(MetricsAuth.fromFlags(true, Optional.of(tokens)));

        HttpResponse<String> anonymous = get("/metrics", Optional.empty());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"metrics\"");
        assertThat(get("/metrics", Optional.of("Bearer wrong")).statusCode()).isEqualTo(401);
        assertThat(get("/metrics", Optional.of("Basic czNjcmV0LW9uZQ==")).statusCode()).isEqualTo(401);
        assertThat(get("/metrics", Optional.of("Bearer s3cret-one")).statusCode()).isEqualTo(200);
        assertThat(get("/metrics", Optional.of("bearer s3cret-two")).statusCode()).isEqualTo(200);
        assertThat(get("/metrics", Optional.of("Bearer # scrapers")).statusCode()).isEqualTo(401);
    }

    @Test
    void aRotatedTokenTakesEffectWithoutRestart() throws Exception {
        Path tokens = directory.resolve("tokens");
        Files.writeString(tokens, "old-token\n");
        start(MetricsAuth.fromFlags(true, Optional.of(tokens)));
        assertThat(get("/metrics", Optional.of("Bearer old-token")).statusCode()).isEqualTo(200);

        Files.writeString(tokens, "the-new-token\n");

        assertThat(get("/metrics", Optional.of("Bearer old-token")).statusCode()).isEqualTo(401);
        assertThat(get("/metrics", Optional.of("Bearer the-new-token")).statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenFileThatDisappearsIsAServerError() throws Exception {
        Path tokens = directory.resolve("tokens");
        Files.writeString(tokens, "token\n");
        start(MetricsAuth.fromFlags(true, Optional.of(tokens)));

        Files.delete(tokens);

        assertThat(get("/metrics", Optional.of("Bearer token")).statusCode()).isEqualTo(500);
    }

    @Test
    void authOnWithoutTokensRefusesEveryScrapeAndSaysWhy() throws Exception {
        start(MetricsAuth.fromFlags(true, Optional.empty()));

        HttpResponse<String> response = get("/metrics", Optional.of("Bearer anything"));

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).contains("--metrics-endpoint-auth").contains("no token is configured");
    }

    @Test
    void flagsAreCheckedAtStart() throws Exception {
        assertThat(MetricsAuth.fromFlags(false, Optional.of(directory.resolve("missing"))))
                .isInstanceOf(MetricsAuth.Open.class);
        assertThatThrownBy(() -> MetricsAuth.fromFlags(true, Optional.of(directory.resolve("missing"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot read metrics token file");
        Path empty = directory.resolve("empty");
        Files.writeString(empty, "# nothing yet\n");
        assertThatThrownBy(() -> MetricsAuth.fromFlags(true, Optional.of(empty)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lists no token");
    }
}
