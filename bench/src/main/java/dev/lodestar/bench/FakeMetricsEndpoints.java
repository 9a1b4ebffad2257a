package dev.lodestar.bench;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * A pool of fake model servers for {@code bench/epp-overhead.sh}: each serves only vLLM gauges on
 * {@code <prefix><i>:<port>/metrics} (one JDK HttpServer per address, {@code 127.0.5.1-100:8000} by default),
 * for an EPP to scrape. The values differ from server to server (waiting 0-4, running 2-17, KV-cache use
 * 0.10-0.58) and are static between changes every {@code --change-seconds} (5; 0 = never), when each server
 * takes the next of 16 fixed value sets: the best-scored server changes over time, as under real load, and
 * every run sees the same sequence. The format is the one the EPP tests' {@code FakeVllmPod} serves, plus
 * {@code vllm:cache_config_info}.
 *
 * <pre>java -cp bench/target/lodestar-bench.jar dev.lodestar.bench.FakeMetricsEndpoints --count 100 --prefix 127.0.5. --port 8000</pre>
 * Runs until killed; prints {@code serving N endpoints} once every server listens.
 */
public final class FakeMetricsEndpoints {
    private FakeMetricsEndpoints() {
    }

    static final int VARIANTS = 16;

    /** The metrics text of server {@code index} (0-based) in value set {@code variant} (0-15). */
    static String metricsText(int index, int variant) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(index * 1_000L + variant);
        int waiting = random.nextInt(5);
        int running = 2 + random.nextInt(16);
        double kv = 0.10 + random.nextInt(49) / 100.0;
        return String.format(Locale.ROOT, """
                # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
                # TYPE vllm:num_requests_waiting gauge
                vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} %d.0
                # HELP vllm:num_requests_running Number of requests in model execution batches.
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} %d.0
                # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
                # TYPE vllm:kv_cache_usage_perc gauge
                vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} %.2f
                # HELP vllm:lora_requests_info Running stats on lora requests.
                # TYPE vllm:lora_requests_info gauge
                vllm:lora_requests_info{max_lora="4",running_lora_adapters="",waiting_lora_adapters=""} 1.7e+09
                # HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
                # TYPE vllm:cache_config_info gauge
                vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",num_gpu_blocks="27000"} 1.0
                """, waiting, running, kv);
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int count = 100;
        String prefix = "127.0.5.";
        int port = 8000;
        int changeSeconds = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--count" -> count = Integer.parseInt(args[++i]);
                case "--prefix" -> prefix = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--change-seconds" -> changeSeconds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --count --prefix --port --change-seconds)");
            }
        }
        if (count < 1 || count > 254) {
            throw new IllegalArgumentException("--count must be 1-254");
        }
        LongAdder scrapes = new LongAdder();
        List<HttpServer> servers = new ArrayList<>();
        long changeMillis = changeSeconds * 1000L;
        for (int i = 0; i < count; i++) {
            byte[][] bodies = new byte[VARIANTS][];
            for (int variant = 0; variant < VARIANTS; variant++) {
                bodies[variant] = metricsText(i, variant).getBytes(StandardCharsets.UTF_8);
            }
            HttpServer server = HttpServer.create(new InetSocketAddress(prefix + (i + 1), port), 64);
            server.createContext("/metrics", exchange -> {
                byte[] body = changeMillis == 0 ? bodies[0]
                        : bodies[(int) ((System.currentTimeMillis() / changeMillis) % VARIANTS)];
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
                scrapes.increment();
            });
            server.createContext("/health", exchange -> {
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
            servers.add(server);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> servers.forEach(server -> server.stop(0))));
        System.out.printf(Locale.ROOT, "serving %d endpoints: %s1-%d:%d (values change every %d s)%n", count, prefix,
                count, port, changeSeconds);
        // A scrape count now and then shows whether (and how often) the EPP scrapes.
        long last = 0;
        while (true) {
            Thread.sleep(30_000);
            long now = scrapes.sum();
            System.out.printf(Locale.ROOT, "%d scrapes in the last 30 s (%.0f/s)%n", now - last, (now - last) / 30.0);
            last = now;
        }
    }
}
