package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.simulator.Fleet;
import dev.lodestar.simulator.SimulatedServer;
import dev.lodestar.simulator.SimulatorConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static dev.lodestar.epp.datalayer.PrometheusTextParserTest.fixture;
import static dev.lodestar.epp.testing.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsScraperTest {
    private static final Duration INTERVAL = Duration.ofMillis(20);

    private final Datastore datastore = new Datastore();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final MetricsScraper scraper = closing(MetricsScraper.builder().refreshInterval(INTERVAL).build());

    {
        datastore.addListener(scraper);
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : closeables.reversed()) {
            closeable.close();
        }
    }

    private static EndpointMetadata endpoint(String pod, String metricsHost, Map<String, String> labels) {
        int colon = metricsHost.lastIndexOf(':');
        return new EndpointMetadata(EndpointKey.ofRank("default", pod, 0), pod, metricsHost.substring(0, colon),
                Integer.parseInt(metricsHost.substring(colon + 1)), metricsHost, labels);
    }

    private EndpointMetrics metrics(EndpointKey key) {
        return datastore.endpoint(key).map(EndpointState::metrics).orElseThrow();
    }

    @Test
    void metricsArriveInTheDatastore() throws Exception {
        FixedMetricsServer server = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        EndpointMetadata endpoint = endpoint("vllm-0", server.hostPort(), Map.of());

        datastore.upsertEndpoint(endpoint);

        await("first scrape", () -> !metrics(endpoint.key()).updateTime().equals(EndpointMetrics.EMPTY.updateTime()));
        EndpointMetrics metrics = metrics(endpoint.key());
        assertThat(metrics.waitingQueueSize()).isEqualTo(7);
        assertThat(metrics.runningRequestsSize()).isEqualTo(4);
        assertThat(metrics.activeModels()).containsOnlyKeys("sql-lora", "tweet-summary");
        assertThat(metrics.kvCacheMaxTokenCapacity()).isEqualTo(16 * 27153);
        assertThat(scraper.scrapedEndpoints()).containsExactly(endpoint.key());

        server.body(fixture("vllm-metrics.txt").replace("} 7.0", "} 2.0"));
        await("a later scrape sees the new queue", () -> metrics(endpoint.key()).waitingQueueSize() == 2);
    }

    @Test
    void engineIsChosenByThePodLabel() throws Exception {
        FixedMetricsServer vllm = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        FixedMetricsServer sglang = closing(FixedMetricsServer.http(fixture("sglang-metrics.txt")));
        FixedMetricsServer triton = closing(FixedMetricsServer.http(fixture("triton-tensorrt-llm-metrics.txt")));
        String engineLabel = CoreMetricsExtractor.DEFAULT_ENGINE_LABEL_KEY;
        EndpointMetadata a = endpoint("a", vllm.hostPort(), Map.of());
        EndpointMetadata b = endpoint("b", sglang.hostPort(), Map.of(engineLabel, "sglang"));
        EndpointMetadata c = endpoint("c", triton.hostPort(), Map.of(engineLabel, "triton-tensorrt-llm"));

        datastore.replaceEndpoints(List.of(a, b, c));

        await("vllm metrics", () -> metrics(a.key()).waitingQueueSize() == 7);
        await("sglang metrics", () -> metrics(b.key()).waitingQueueSize() == 11);
        await("triton metrics", () -> metrics(c.key()).waitingQueueSize() == 9);
        assertThat(metrics(b.key()).cacheNumBlocks()).isEqualTo(8192);
        assertThat(metrics(c.key()).kvCacheMaxTokenCapacity()).isEqualTo(25600);
    }

    @Test
    void failedScrapesKeepTheLastMetrics() throws Exception {
        FixedMetricsServer server = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        EndpointMetadata endpoint = endpoint("vllm-0", server.hostPort(), Map.of());
        datastore.upsertEndpoint(endpoint);
        await("first scrape", () -> metrics(endpoint.key()).waitingQueueSize() == 7);

        for (Runnable failure : List.<Runnable>of(() -> server.status(500), () -> {
            server.status(200);
            server.body("not { exposition");
        }, () -> server.body("unrelated_metric 1\n"))) {
            failure.run();
            // Three more requests: the last two were answered after the change.
            int seen = server.requests();
            await("failing scrapes", () -> server.requests() >= seen + 3);
            EndpointMetrics kept = metrics(endpoint.key());
            int failed = server.requests();
            await("more failing scrapes", () -> server.requests() >= failed + 3);

            assertThat(metrics(endpoint.key())).isSameAs(kept);
            assertThat(kept.waitingQueueSize()).isEqualTo(7);
        }

        server.body(fixture("vllm-metrics.txt").replace("} 7.0", "} 1.0"));
        await("recovery", () -> metrics(endpoint.key()).waitingQueueSize() == 1);
    }

    @Test
    void removalStopsScrapingThatEndpointOnly() throws Exception {
        FixedMetricsServer removed = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        FixedMetricsServer kept = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        EndpointMetadata gone = endpoint("gone", removed.hostPort(), Map.of());
        EndpointMetadata stays = endpoint("stays", kept.hostPort(), Map.of());
        datastore.replaceEndpoints(List.of(gone, stays));
        await("both scraped", () -> removed.requests() > 0 && kept.requests() > 0);

        datastore.removeEndpoint(gone.key());

        await("scrape thread of the removed endpoint exits", () -> !scraper.scrapedEndpoints().contains(gone.key()));
        int afterRemoval = removed.requests();
        int keptSoFar = kept.requests();
        await("the other endpoint is scraped 5 more times", () -> kept.requests() >= keptSoFar + 5);
        assertThat(removed.requests()).isEqualTo(afterRemoval);
        assertThat(scraper.scrapedEndpoints()).containsExactly(stays.key());
    }

    @Test
    void movedMetricsHostIsFollowed() throws Exception {
        FixedMetricsServer first = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        FixedMetricsServer second = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt").replace("} 7.0", "} 3.0")));
        EndpointMetadata endpoint = endpoint("pod", first.hostPort(), Map.of());
        datastore.upsertEndpoint(endpoint);
        await("first host", () -> metrics(endpoint.key()).waitingQueueSize() == 7);

        datastore.upsertEndpoint(endpoint("pod", second.hostPort(), Map.of()));

        await("second host", () -> metrics(endpoint.key()).waitingQueueSize() == 3);
    }

    @Test
    void closeStopsEverything() throws Exception {
        FixedMetricsServer server = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        FixedMetricsServer hanging = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        hanging.hang();
        datastore.replaceEndpoints(List.of(endpoint("a", server.hostPort(), Map.of()),
                endpoint("b", hanging.hostPort(), Map.of())));
        await("scraping", () -> server.requests() > 0);

        scraper.close();

        assertThat(scraper.scrapedEndpoints()).isEmpty();
        datastore.upsertEndpoint(endpoint("c", server.hostPort(), Map.of()));
        assertThat(scraper.scrapedEndpoints()).isEmpty();
    }

    @Test
    void unansweredScrapesTimeOutAndLeaveMetricsUntouched() throws Exception {
        FixedMetricsServer hanging = closing(FixedMetricsServer.http(fixture("vllm-metrics.txt")));
        hanging.hang();
        MetricsScraper quick = closing(MetricsScraper.builder().refreshInterval(INTERVAL)
                .source(MetricsDataSource.builder().timeout(Duration.ofMillis(100)).build()).build());
        Datastore store = new Datastore();
        store.addListener(quick);
        EndpointMetadata endpoint = endpoint("slow", hanging.hostPort(), Map.of());
        store.upsertEndpoint(endpoint);

        // Scrapes of one endpoint are sequential: a third request means two timed out.
        await("several timed-out scrapes", () -> hanging.arrivals() >= 3);
        assertThat(store.endpoint(endpoint.key()).orElseThrow().metrics()).isSameAs(EndpointMetrics.EMPTY);
    }

    @Test
    void liveSimulatorQueueAndRunningCounts() throws Exception {
        SimulatorConfig config = SimulatorConfig.builder().host("127.0.0.1").port(0).podName("sim-0")
                .model("m1").maxNumSeqs(1).maxLoras(3).blockSize(32).kvCacheSize(512)
                .timeToFirstToken(Duration.ofMillis(600)).build();
        Fleet fleet = closing(Fleet.start(List.of(config)));
        SimulatedServer server = fleet.servers().getFirst();
        EndpointMetadata endpoint = endpoint("sim-0", "127.0.0.1:" + server.port(), Map.of());
        datastore.upsertEndpoint(endpoint);
        await("first scrape", () -> metrics(endpoint.key()).cacheBlockSize() == 32);
        assertThat(metrics(endpoint.key()).cacheNumBlocks()).isEqualTo(512);
        assertThat(metrics(endpoint.key()).maxActiveModels()).isEqualTo(3);
        assertThat(metrics(endpoint.key()).runningRequestsSize()).isZero();

        HttpClient client = closing(HttpClient.newHttpClient());
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m1\",\"prompt\":\"hello\",\"max_tokens\":2}"))
                .build();
        List<CompletableFuture<HttpResponse<String>>> responses = List.of(
                client.sendAsync(request, HttpResponse.BodyHandlers.ofString()),
                client.sendAsync(request, HttpResponse.BodyHandlers.ofString()));

        await("one running, one waiting", () -> metrics(endpoint.key()).runningRequestsSize() == 1
                && metrics(endpoint.key()).waitingQueueSize() == 1);
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new)).join();
        await("idle again", () -> metrics(endpoint.key()).runningRequestsSize() == 0
                && metrics(endpoint.key()).waitingQueueSize() == 0);
    }

    @Test
    void refreshIntervalMustBePositive() {
        assertThatThrownBy(() -> MetricsScraper.builder().refreshInterval(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("refresh interval must be positive, got PT0S");
    }
}
