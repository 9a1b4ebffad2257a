package dev.lodestar.epp.testing;

import dev.lodestar.epp.EppOptions;
import dev.lodestar.epp.EppServer;
import dev.lodestar.epp.datalayer.MetricFamilies;
import dev.lodestar.epp.datalayer.PrometheusTextParser;
import dev.lodestar.epp.datalayer.Sample;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real EPP ({@link EppServer}) in plaintext on ephemeral ports, its pool a fixed list of
 * {@link FakeVllmPod}s ({@code --static-endpoints}), started only once every pod's metrics have been
 * scraped; with an ext_proc client over a grpc-java channel and a scraper for the EPP's own /metrics.
 */
public final class HermeticEpp implements AutoCloseable {
    /** How long {@link #exchange} waits for each stream event. */
    public static final Duration EVENT_TIMEOUT = Duration.ofSeconds(10);

    private final List<FakeVllmPod.Server> pods;
    private final EppServer server;
    private final ManagedChannel channel;

    private HermeticEpp(List<FakeVllmPod.Server> pods, EppServer server) {
        this.pods = pods;
        this.server = server;
        this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public EppServer server() {
        return server;
    }

    public Datastore datastore() {
        return server.datastore();
    }

    /** A plaintext channel to the ext_proc port, shared by every {@link #exchange}. */
    public ManagedChannel channel() {
        return channel;
    }

    /**
     * Sends {@code requests} on a new ext_proc stream and returns the first {@code expectedCount} events,
     * failing unless each is a {@link ProcessingResponse} arriving within {@link #EVENT_TIMEOUT}; then
     * half-closes the stream.
     */
    public List<ProcessingResponse> exchange(List<ProcessingRequest> requests, int expectedCount)
            throws InterruptedException {
        LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        StreamObserver<ProcessingRequest> stream = ExternalProcessorGrpc.newStub(channel)
                .process(new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingResponse response) {
                        received.add(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        received.add(error);
                    }

                    @Override
                    public void onCompleted() {
                        received.add("completed");
                    }
                });
        requests.forEach(stream::onNext);
        List<ProcessingResponse> responses = new ArrayList<>();
        while (responses.size() < expectedCount) {
            Object next = received.poll(EVENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(next).as("response %d of %d", responses.size() + 1, expectedCount).isNotNull();
            assertThat(next).as("stream event").isInstanceOf(ProcessingResponse.class);
            responses.add((ProcessingResponse) next);
        }
        stream.onCompleted();
        return responses;
    }

    /** The EPP's /metrics as {@code name{label="value",...}} (labels sorted by name; no braces without labels) -> value. */
    public Map<String, Double> scrapeMetrics() throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newHttpClient()) {
            String text = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            MetricFamilies families = PrometheusTextParser.create().parse(text);
            Map<String, Double> samples = new LinkedHashMap<>();
            families.families().forEach(family -> {
                for (Sample sample : family.samples()) {
                    String labels = sample.labels().asMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
                            .map(e -> e.getKey() + "=\"" + e.getValue() + "\"").reduce((a, b) -> a + "," + b)
                            .orElse("");
                    samples.put(sample.name() + (labels.isEmpty() ? "" : "{" + labels + "}"), sample.value());
                }
            });
            return samples;
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.close();
        pods.forEach(FakeVllmPod.Server::close);
    }

    private static boolean scraped(Datastore datastore, List<FakeVllmPod> expected) {
        for (FakeVllmPod pod : expected) {
            EndpointMetrics metrics = datastore.endpoints().stream()
                    .filter(state -> state.metadata().address().equals(pod.address()))
                    .map(EndpointState::metrics).findFirst().orElse(EndpointMetrics.EMPTY);
            if (metrics.updateTime().equals(Instant.EPOCH) || metrics.waitingQueueSize() != pod.queue()
                    || metrics.activeModels().size() != pod.activeModels().size()) {
                return false;
            }
        }
        return true;
    }

    public static final class Builder {
        private String configText = "";
        private Optional<Path> objectsFile = Optional.empty();
        private List<FakeVllmPod> pods = List.of();
        private Duration refreshMetricsInterval = Duration.ofMillis(20);

        private Builder() {
        }

        /** The EndpointPickerConfig ({@code --config-text}). */
        public Builder configText(String text) {
            this.configText = text;
            return this;
        }

        /** InferenceObjectives and InferenceModelRewrites ({@code --inference-objects-file}). */
        public Builder objectsFile(Path file) {
            this.objectsFile = Optional.of(file);
            return this;
        }

        /** The pool; when empty, the EPP starts with one placeholder endpoint and its datastore is then emptied. */
        public Builder pods(List<FakeVllmPod> pods) {
            this.pods = List.copyOf(pods);
            return this;
        }

        public Builder refreshMetricsInterval(Duration interval) {
            this.refreshMetricsInterval = interval;
            return this;
        }

        /** Starts the pods and the EPP and waits (bounded) until every pod's metrics are in the datastore. */
        public HermeticEpp start() throws IOException {
            List<FakeVllmPod.Server> servers = new ArrayList<>();
            EppServer server = null;
            try {
                for (FakeVllmPod pod : pods) {
                    servers.add(pod.serve());
                }
                // --static-endpoints needs at least one endpoint: an empty pool starts with a placeholder.
                List<FakeVllmPod> pool = pods.isEmpty() ? List.of(FakeVllmPod.pod(0, 0, 0)) : pods;
                List<String> flags = new ArrayList<>(List.of("--grpc-port=0", "--grpc-health-port=0",
                        "--metrics-port=0", "--secure-serving=false", "--metrics-endpoint-auth=false",
                        "--refresh-metrics-interval=" + refreshMetricsInterval.toMillis() + "ms",
                        "--config-text=" + configText,
                        "--static-endpoints=" + String.join(",", pool.stream()
                                .map(pod -> pod.name() + "=" + pod.hostPort()).toList())));
                objectsFile.ifPresent(file -> flags.add("--inference-objects-file=" + file));
                server = EppServer.start(EppOptions.parse(flags.toArray(String[]::new)));
                if (pods.isEmpty()) {
                    server.datastore().replaceEndpoints(List.of());
                } else {
                    Datastore datastore = server.datastore();
                    Eventually.await("the pods' metrics are scraped", () -> scraped(datastore, pods));
                }
                return new HermeticEpp(servers, server);
            } catch (IOException | RuntimeException | Error e) {
                if (server != null) {
                    server.close();
                }
                servers.forEach(FakeVllmPod.Server::close);
                throw e;
            }
        }
    }
}
