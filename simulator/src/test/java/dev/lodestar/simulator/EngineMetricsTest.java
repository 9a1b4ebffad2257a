package dev.lodestar.simulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** Scrapes a real server's {@code /metrics}, parses the text back and checks it series by series. */
class EngineMetricsTest {
    private static final String MODEL = "org/model";
    private static final Map<String, String> MODEL_LABEL = Map.of("model_name", MODEL);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Fleet fleet;
    private SimulatedServer server;

    @BeforeEach
    void start() {
        fleet = Fleet.start(List.of(SimulatorConfig.builder().host("127.0.0.1").port(0).model(MODEL)
                .maxNumSeqs(2).kvCacheSize(64).blockSize(16).maxLoras(2).mode(SimulatorConfig.Mode.ECHO)
                .loraModules(List.of(new SimulatorConfig.LoraModule("food-review-1", "/a")))
                .timeToFirstToken(Duration.ofMillis(30)).interTokenLatency(Duration.ofMillis(15)).build()));
        server = fleet.servers().get(0);
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    private PrometheusText scrape() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        return PrometheusText.parse(response.body());
    }

    private CompletableFuture<HttpResponse<String>> complete(String model, String prompt, int maxTokens) {
        String body = "{\"model\":\"" + model + "\",\"prompt\":\"" + prompt + "\",\"max_tokens\":" + maxTokens + "}";
        return http.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/completions"))
                .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void nixlTransferMetricsExistOnlyWithKvTransferAndCountPulls() throws Exception {
        SimulatorConfig plain = SimulatorConfig.builder().servedModelNames(List.of("m")).build();
        assertThat(scrape(new EngineMetrics(plain)).types()).doesNotContainKeys("vllm:nixl_xfer_time_seconds",
                "vllm:nixl_bytes_transferred", "vllm:nixl_num_failed_transfers_total");

        EngineMetrics metrics = new EngineMetrics(plain.toBuilder().kvTransfer(true).build());
        metrics.kvPulled(new NixlKvTransfer.Pulled(3, 3 * 4096, 7_000_000, true));
        metrics.kvPullFailed();
        PrometheusText text = scrape(metrics);

        assertThat(text.types()).containsEntry("vllm:nixl_xfer_time_seconds", "histogram")
                .containsEntry("vllm:nixl_bytes_transferred", "histogram")
                .containsEntry("vllm:nixl_num_failed_transfers_total", "counter");
        Map<String, String> model = Map.of("model_name", "m");
        assertThat(text.value("vllm:nixl_xfer_time_seconds_count", model)).contains(1.0);
        assertThat(text.value("vllm:nixl_xfer_time_seconds_sum", model)).contains(0.007);
        assertThat(text.value("vllm:nixl_bytes_transferred_sum", model)).contains(3.0 * 4096);
        assertThat(text.value("vllm:nixl_num_failed_transfers_total", model)).contains(1.0);
    }

    private static PrometheusText scrape(EngineMetrics metrics) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        metrics.write(out);
        return PrometheusText.parse(out.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void anIdleServerExposesVllmFamiliesWithTheirTypes() throws Exception {
        PrometheusText metrics = scrape();
        assertThat(metrics.types()).containsEntry("vllm:num_requests_running", "gauge")
                .containsEntry("vllm:num_requests_waiting", "gauge")
                .containsEntry("vllm:kv_cache_usage_perc", "gauge")
                .containsEntry("vllm:cache_config_info", "gauge")
                .containsEntry("vllm:lora_requests_info", "gauge")
                .containsEntry("vllm:prefix_cache_queries_total", "counter")
                .containsEntry("vllm:prefix_cache_hits_total", "counter")
                .containsEntry("vllm:prompt_tokens_total", "counter")
                .containsEntry("vllm:generation_tokens_total", "counter")
                .containsEntry("vllm:time_to_first_token_seconds", "histogram")
                .containsEntry("vllm:e2e_request_latency_seconds", "histogram");
        assertThat(metrics.value("vllm:num_requests_running", MODEL_LABEL)).contains(0.0);
        assertThat(metrics.value("vllm:num_requests_waiting", MODEL_LABEL)).contains(0.0);
        assertThat(metrics.value("vllm:kv_cache_usage_perc", MODEL_LABEL)).contains(0.0);
        assertThat(metrics.value("vllm:cache_config_info", Map.of("block_size", "16", "num_gpu_blocks", "64")))
                .contains(1.0);
        assertThat(metrics.all("vllm:lora_requests_info")).singleElement().satisfies(series -> {
            assertThat(series.labels()).containsExactlyInAnyOrderEntriesOf(
                    Map.of("max_lora", "2", "running_lora_adapters", "", "waiting_lora_adapters", ""));
            assertThat(series.value()).isCloseTo(System.currentTimeMillis() / 1000.0,
                    org.assertj.core.api.Assertions.within(120.0));
        });
        assertThat(metrics.all("vllm:time_to_first_token_seconds_bucket"))
                .extracting(sample -> sample.labels().get("le"))
                .containsExactly("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5",
                        "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0",
                        "2560.0", "+Inf");
    }

    @Test
    void seriesFollowTheEngineWhileRequestsRunAndAfterTheyEnd() throws Exception {
        String prompt = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
                + "sigma tau upsilon phi chi psi omega";
        List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        inFlight.add(complete(MODEL, prompt, 50));
        inFlight.add(complete("food-review-1", prompt, 50));
        inFlight.add(complete(MODEL, prompt + " again", 50));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (server.engine().waitingRequests() != 1 || server.engine().runningRequests() != 2) {
            assertThat(System.nanoTime()).as("three requests reach the engine").isLessThan(deadline);
            Thread.sleep(2);
        }

        PrometheusText busy = scrape();
        Engine.State state = server.engine().state();
        assertThat(busy.value("vllm:num_requests_running", MODEL_LABEL)).contains((double) state.running());
        assertThat(busy.value("vllm:num_requests_waiting", MODEL_LABEL)).contains((double) state.waiting());
        assertThat(busy.value("vllm:kv_cache_usage_perc", MODEL_LABEL)).contains(state.kvCacheUsage());
        assertThat(state.kvCacheUsage()).isGreaterThan(0.0);
        PrometheusText.Sample current = busy.all("vllm:lora_requests_info").stream()
                .max((a, b) -> Double.compare(a.value(), b.value())).orElseThrow();
        assertThat(current.labels().get("running_lora_adapters") + current.labels().get("waiting_lora_adapters"))
                .isEqualTo("food-review-1");

        int promptTokens = 0;
        int completionTokens = 0;
        for (CompletableFuture<HttpResponse<String>> response : inFlight) {
            HttpResponse<String> done = response.get();
            assertThat(done.statusCode()).isEqualTo(200);
            promptTokens += field(done.body(), "prompt_tokens");
            completionTokens += field(done.body(), "completion_tokens");
        }

        PrometheusText idle = scrape();
        assertThat(idle.value("vllm:num_requests_running", MODEL_LABEL)).contains(0.0);
        assertThat(idle.value("vllm:num_requests_waiting", MODEL_LABEL)).contains(0.0);
        assertThat(idle.value("vllm:kv_cache_usage_perc", MODEL_LABEL)).contains(0.0);
        assertThat(idle.value("vllm:prompt_tokens_total", MODEL_LABEL)).contains((double) promptTokens);
        assertThat(idle.value("vllm:generation_tokens_total", MODEL_LABEL)).contains((double) completionTokens);
        assertThat(idle.value("vllm:prefix_cache_queries_total", MODEL_LABEL)).contains((double) promptTokens);
        assertThat(idle.value("vllm:request_success_total", Map.of("model_name", MODEL, "finished_reason", "stop")))
                .contains(3.0);
        assertThat(idle.value("vllm:time_to_first_token_seconds_count", MODEL_LABEL)).contains(3.0);
        assertThat(idle.value("vllm:e2e_request_latency_seconds_count", MODEL_LABEL)).contains(3.0);
        assertThat(idle.value("vllm:request_queue_time_seconds_count", MODEL_LABEL)).contains(3.0);
        assertThat(idle.value("vllm:inter_token_latency_seconds_count", MODEL_LABEL))
                .contains((double) completionTokens - 3);
        assertThat(idle.value("vllm:time_to_first_token_seconds_sum", MODEL_LABEL)).hasValueSatisfying(
                sum -> assertThat(sum).as("one request queued behind a whole request").isGreaterThan(3 * 0.030 + 0.2));
        assertThat(idle.value("vllm:time_to_first_token_seconds_bucket", Map.of("model_name", MODEL, "le", "0.02")))
                .contains(0.0);
        assertThat(idle.value("vllm:time_to_first_token_seconds_bucket", Map.of("model_name", MODEL, "le", "+Inf")))
                .contains(3.0);
        PrometheusText.Sample latest = idle.all("vllm:lora_requests_info").stream()
                .max((a, b) -> Double.compare(a.value(), b.value())).orElseThrow();
        assertThat(latest.labels()).containsEntry("running_lora_adapters", "").containsEntry("waiting_lora_adapters", "");
    }

    private static int field(String json, String name) {
        int at = json.indexOf("\"" + name + "\":") + name.length() + 3;
        int end = at;
        while (Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Integer.parseInt(json.substring(at, end));
    }
}
