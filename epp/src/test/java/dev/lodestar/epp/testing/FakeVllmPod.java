package dev.lodestar.epp.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A pool endpoint for hermetic tests: a model server that only serves vLLM's gauges on
 * {@code 127.0.9.<index+1>:8000/metrics}, for the real datalayer to scrape.
 *
 * @param index        the pod's number; its address is {@code 127.0.9.<index+1>} and its name {@code pod-<index>}
 * @param queue        {@code vllm:num_requests_waiting}
 * @param kv           {@code vllm:kv_cache_usage_perc}
 * @param activeModels the running LoRA adapters of {@code vllm:lora_requests_info}
 * @param extraMetrics more exposition text appended as is (e.g. {@code vllm:cache_config_info}), may be empty
 */
public record FakeVllmPod(int index, int queue, double kv, List<String> activeModels, String extraMetrics) {
    public FakeVllmPod {
        activeModels = List.copyOf(activeModels);
    }

    public static FakeVllmPod pod(int index, int queue, double kv, String... activeModels) {
        return new FakeVllmPod(index, queue, kv, List.of(activeModels), "");
    }

    public FakeVllmPod withExtraMetrics(String text) {
        return new FakeVllmPod(index, queue, kv, activeModels, text);
    }

    public String name() {
        return "pod-" + index;
    }

    public String address() {
        return "127.0.9." + (index + 1);
    }

    public String hostPort() {
        return address() + ":8000";
    }

    /** The Prometheus text the pod serves. */
    public String metricsText() {
        return """
                # TYPE vllm:num_requests_waiting gauge
                vllm:num_requests_waiting{model_name="m"} %d
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{model_name="m"} 0
                # TYPE vllm:kv_cache_usage_perc gauge
                vllm:kv_cache_usage_perc{model_name="m"} %s
                # TYPE vllm:lora_requests_info gauge
                vllm:lora_requests_info{max_lora="0",running_lora_adapters="%s",waiting_lora_adapters=""} 1.7e9
                """.formatted(queue, Double.toString(kv), String.join(",", activeModels)) + extraMetrics;
    }

    /** Starts serving {@link #metricsText()}; close the result to stop. */
    public Server serve() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address(), 8000), 0);
        byte[] body = metricsText().getBytes(StandardCharsets.UTF_8);
        server.createContext("/metrics", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return new Server(server);
    }

    /** A running pod's metrics server. */
    public static final class Server implements AutoCloseable {
        private final HttpServer server;

        private Server(HttpServer server) {
            this.server = server;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
