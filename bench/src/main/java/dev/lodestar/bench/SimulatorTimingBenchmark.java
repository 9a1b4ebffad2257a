package dev.lodestar.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Timing fidelity of the simulator under load: a fleet of simulated servers in one process, each kept
 * at a fixed number of concurrent streaming requests (closed loop), on this machine. Compares the mean
 * time to first token and inter-token latency seen by clients with what the latency model predicts,
 * and reports the simulator process's CPU use.
 *
 * <p>Prediction, with {@code n} = concurrency per server = max-num-seqs (every request is admitted at
 * once and runs with a full batch): {@code factor = time-factor-under-load};
 * TTFT = factor x (prefill-overhead + (prompt - cached) x prefill-time-per-token), with prompt and
 * cached tokens taken from each response's usage; ITL = factor x inter-token-latency.
 */
public final class SimulatorTimingBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final MediaType JSON_MEDIA_TYPE = MediaType.get("application/json");
    private static final String[] WORDS = ("route cache block token batch queue prefix decode prefill model "
            + "server gateway adapter weight tensor layer kernel memory stream answer prompt system user quick "
            + "brown fox jumps over lazy dog river stone cloud light sound water field north south east west "
            + "alpha beta gamma delta omega spring summer autumn winter paper glass metal wood fire earth").split(" ");

    private final Settings settings;
    // One pool big enough to keep every stream's connection alive between its requests.
    private final OkHttpClient http = new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(4096, 5, TimeUnit.MINUTES))
            .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(120))
            .retryOnConnectionFailure(false).build();
    private final ConcurrentLinkedQueue<RequestRecord> records = new ConcurrentLinkedQueue<>();
    private final AtomicLong failures = new AtomicLong();
    private final LongAdder tokensInWindow = new LongAdder();
    private volatile long measureFrom = Long.MAX_VALUE;
    private volatile long measureTo = Long.MAX_VALUE;
    private volatile boolean stopping;

    private SimulatorTimingBenchmark(Settings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(args);
        new SimulatorTimingBenchmark(settings).run();
    }

    private void run() throws Exception {
        Files.createDirectories(settings.results);
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < settings.servers; i++) {
            hosts.add("127.0.3." + (i + 1));
        }
        Process simulator = startSimulator();
        try {
            for (String host : hosts) {
                awaitHealthy(simulator, host);
            }
            System.out.printf("fleet of %d servers up (pid %d); %d streams each, warm-up %ds, measuring %ds%n",
                    settings.servers, simulator.pid(), settings.concurrency, settings.warmup.toSeconds(),
                    settings.measure.toSeconds());
            long start = System.nanoTime();
            measureFrom = start + settings.warmup.toNanos();
            measureTo = measureFrom + settings.measure.toNanos();
            ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
            for (int i = 0; i < settings.servers * settings.concurrency; i++) {
                int server = i / settings.concurrency;
                String url = "http://" + hosts.get(server) + ":8000/v1/completions";
                long seed = i;
                // Spread the first requests over a second so streams do not move in lockstep.
                long delayNanos = (long) (new SplittableRandom(seed).nextDouble() * 1e9);
                clients.submit(() -> clientLoop(url, server, seed, delayNanos));
            }
            sleepUntil(measureFrom);
            EngineTimes engineStart = engineTimes(hosts);
            CpuSample simulatorStart = CpuSample.of(simulator.pid());
            long clientCpuStart = processCpuNanos();
            progress(start);
            CpuSample simulatorEnd = CpuSample.of(simulator.pid());
            long clientCpuEnd = processCpuNanos();
            EngineTimes engineEnd = engineTimes(hosts);
            stopping = true;
            clients.shutdown();
            if (!clients.awaitTermination(60, TimeUnit.SECONDS)) {
                clients.shutdownNow();
            }
            report(simulatorStart, simulatorEnd, clientCpuEnd - clientCpuStart, engineEnd.minus(engineStart));
        } finally {
            simulator.destroy();
            if (!simulator.waitFor(10, TimeUnit.SECONDS)) {
                simulator.destroyForcibly();
            }
        }
    }

    private Process startSimulator() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (!settings.simulatorJavaOptions.isBlank()) {
            command.addAll(List.of(settings.simulatorJavaOptions.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", settings.simulatorJar.toString(),
                "--host", "127.0.3.1", "--fleet-size", Integer.toString(settings.servers), "--port", "8000",
                "--max-num-seqs", Integer.toString(settings.concurrency),
                "--max-model-len", "4096", "--kv-cache-size", "8192", "--block-size", "16",
                "--mode", "random", "--latency-calculator", "per-token",
                "--prefill-overhead", settings.prefillOverheadMs + "ms",
                "--prefill-time-per-token", settings.prefillPerTokenUs + "us",
                "--inter-token-latency", settings.interTokenMs + "ms",
                "--time-factor-under-load", Double.toString(settings.timeFactor)));
        Path log = settings.results.resolve("simulator.log");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private void awaitHealthy(Process simulator, String host) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!simulator.isAlive()) {
                throw new IllegalStateException("the simulator exited; see " + settings.results.resolve("simulator.log"));
            }
            try {
                try (Response response = http.newCall(new Request.Builder()
                        .url("http://" + host + ":8000/health").build()).execute()) {
                    if (response.code() == 200) {
                        return;
                    }
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(host + ":8000 did not become healthy within 30 s");
    }

    private void clientLoop(String url, int server, long seed, long delayNanos) {
        SplittableRandom random = new SplittableRandom(seed);
        try {
            Thread.sleep(Duration.ofNanos(delayNanos));
            while (!stopping) {
                Request request = new Request.Builder().url(url)
                        .post(RequestBody.create(requestBody(random), JSON_MEDIA_TYPE)).build();
                long sent = System.nanoTime();
                long first = 0;
                long last = 0;
                int tokens = 0;
                JsonNode usage = null;
                try (Response response = http.newCall(request).execute()) {
                    if (response.code() != 200) {
                        failures.incrementAndGet();
                        continue;
                    }
                    BufferedSource body = response.body().source();
                    String line;
                    while ((line = body.readUtf8Line()) != null) {
                        if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
                            continue;
                        }
                        long now = System.nanoTime();
                        if (line.contains("\"usage\"")) {
                            usage = JSON.readTree(line.substring(6)).get("usage");
                            continue;
                        }
                        if (tokens == 0) {
                            first = now;
                        }
                        last = now;
                        tokens++;
                        if (now >= measureFrom && now < measureTo) {
                            tokensInWindow.increment();
                        }
                    }
                }
                if (usage == null || tokens != settings.outputTokens) {
                    failures.incrementAndGet();
                    continue;
                }
                records.add(new RequestRecord(server, sent, first, last, tokens,
                        usage.get("prompt_tokens").asInt(),
                        usage.path("prompt_tokens_details").path("cached_tokens").asInt()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            if (!stopping) {
                failures.incrementAndGet();
                System.err.println("client error: " + e);
            }
        }
    }

    /**
     * A prompt of one of {@code groups} shared system prompts followed by a unique question, so part of
     * every prompt hits the prefix cache, as in a shared-prefix workload.
     */
    private String requestBody(SplittableRandom random) {
        int group = random.nextInt(settings.prefixGroups);
        StringBuilder prompt = new StringBuilder();
        SplittableRandom prefix = new SplittableRandom(group);
        for (int i = 0; i < settings.sharedPrefixWords; i++) {
            prompt.append(WORDS[prefix.nextInt(WORDS.length)]).append(' ');
        }
        for (int i = 0; i < settings.questionWords; i++) {
            prompt.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        return "{\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"prompt\":\"" + prompt.toString().trim()
                + "\",\"max_tokens\":" + settings.outputTokens + ",\"ignore_eos\":true,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}";
    }

    private void progress(long start) throws InterruptedException {
        while (System.nanoTime() < measureTo) {
            Thread.sleep(Math.min(5_000, Math.max(1, (measureTo - System.nanoTime()) / 1_000_000)));
            System.out.printf("  %3ds elapsed, %d requests done, %d failed%n",
                    (System.nanoTime() - start) / 1_000_000_000, records.size(), failures.get());
        }
    }

    /**
     * Sums of the fleet's own TTFT and queue-time histograms, so the report can tell time spent in the
     * engine from time spent between the engine and the client.
     */
    private EngineTimes engineTimes(List<String> hosts) throws IOException {
        double ttftSum = 0;
        double ttftCount = 0;
        double queueSum = 0;
        for (String host : hosts) {
            String text;
            try (Response response = http.newCall(new Request.Builder()
                    .url("http://" + host + ":8000/metrics").build()).execute()) {
                text = response.body().string();
            }
            for (String line : text.split("\n")) {
                String[] parts = line.split(" ");
                if (line.startsWith("vllm:time_to_first_token_seconds_sum")) {
                    ttftSum += Double.parseDouble(parts[parts.length - 1]);
                } else if (line.startsWith("vllm:time_to_first_token_seconds_count")) {
                    ttftCount += Double.parseDouble(parts[parts.length - 1]);
                } else if (line.startsWith("vllm:request_queue_time_seconds_sum")) {
                    queueSum += Double.parseDouble(parts[parts.length - 1]);
                }
            }
        }
        return new EngineTimes(ttftSum, ttftCount, queueSum);
    }

    private record EngineTimes(double ttftSum, double ttftCount, double queueSum) {
        EngineTimes minus(EngineTimes earlier) {
            return new EngineTimes(ttftSum - earlier.ttftSum, ttftCount - earlier.ttftCount, queueSum - earlier.queueSum);
        }

        double meanTtftMs() {
            return ttftCount == 0 ? 0 : 1000 * ttftSum / ttftCount;
        }

        double meanQueueMs() {
            return ttftCount == 0 ? 0 : 1000 * queueSum / ttftCount;
        }
    }

    private void report(CpuSample simulatorStart, CpuSample simulatorEnd, long clientCpuNanos, EngineTimes engine)
            throws IOException {
        double factor = settings.timeFactor;
        Histogram ttft = new Histogram(3);
        Histogram itl = new Histogram(3);
        double measuredTtftSum = 0;
        double predictedTtftSum = 0;
        double measuredItlSum = 0;
        int counted = 0;
        for (RequestRecord record : records) {
            if (record.sent() < measureFrom || record.last() > measureTo) {
                continue;
            }
            counted++;
            double measuredTtft = (record.first() - record.sent()) / 1e6;
            double predictedTtft = factor * (settings.prefillOverheadMs
                    + (record.promptTokens() - record.cachedTokens()) * settings.prefillPerTokenUs / 1000.0);
            double measuredItl = (record.last() - record.first()) / 1e6 / (record.tokens() - 1);
            measuredTtftSum += measuredTtft;
            predictedTtftSum += predictedTtft;
            measuredItlSum += measuredItl;
            ttft.recordValue(Math.round(measuredTtft * 1000));
            itl.recordValue(Math.round(measuredItl * 1000));
        }
        if (counted == 0) {
            throw new IllegalStateException("no request completed inside the measurement window; failures="
                    + failures.get());
        }
        double seconds = (measureTo - measureFrom) / 1e9;
        long tokens = tokensInWindow.sum();
        double meanTtft = measuredTtftSum / counted;
        double predictedTtft = predictedTtftSum / counted;
        double meanItl = measuredItlSum / counted;
        double predictedItl = factor * settings.interTokenMs;
        double simulatorCores = (simulatorEnd.cpuSeconds() - simulatorStart.cpuSeconds()) / seconds;

        ObjectNode result = JSON.createObjectNode();
        result.put("servers", settings.servers).put("streamsPerServer", settings.concurrency)
                .put("measuredSeconds", seconds).put("requests", counted).put("failures", failures.get())
                .put("outputTokensPerSecond", tokens / seconds)
                .put("meanTtftMs", meanTtft).put("predictedMeanTtftMs", predictedTtft)
                .put("ttftErrorPercent", 100 * (meanTtft - predictedTtft) / predictedTtft)
                .put("engineMeanTtftMs", engine.meanTtftMs()).put("engineMeanQueueMs", engine.meanQueueMs())
                .put("ttftP50Ms", ttft.getValueAtPercentile(50) / 1000.0)
                .put("ttftP99Ms", ttft.getValueAtPercentile(99) / 1000.0)
                .put("meanItlMs", meanItl).put("predictedItlMs", predictedItl)
                .put("itlErrorPercent", 100 * (meanItl - predictedItl) / predictedItl)
                .put("itlP50Ms", itl.getValueAtPercentile(50) / 1000.0)
                .put("itlP99Ms", itl.getValueAtPercentile(99) / 1000.0)
                .put("simulatorCpuCores", simulatorCores)
                .put("simulatorCpuMicrosPerToken", 1e6 * simulatorCores * seconds / tokens)
                .put("clientCpuCores", clientCpuNanos / 1e9 / seconds)
                .put("machineCores", Runtime.getRuntime().availableProcessors());
        ObjectNode model = result.putObject("model");
        model.put("prefillOverheadMs", settings.prefillOverheadMs)
                .put("prefillTimePerTokenUs", settings.prefillPerTokenUs)
                .put("interTokenLatencyMs", settings.interTokenMs).put("timeFactorUnderLoad", factor)
                .put("outputTokens", settings.outputTokens)
                .put("promptWords", settings.sharedPrefixWords + settings.questionWords)
                .put("sharedPrefixWords", settings.sharedPrefixWords).put("prefixGroups", settings.prefixGroups);
        Files.writeString(settings.results.resolve("simulator-timing.json"), JSON.writeValueAsString(result));

        String markdown = String.format(Locale.ROOT, """
                # Simulator timing fidelity

                %d servers in one process, %d concurrent streaming requests each (closed loop), %d output tokens
                per request; measured over %.0f s after %d s of warm-up; %d requests, %d failed.

                | metric | measured (mean) | latency model | error | p50 | p99 |
                |---|---|---|---|---|---|
                | time to first token | %.2f ms | %.2f ms | %+.2f%% | %.1f ms | %.1f ms |
                | inter-token latency | %.3f ms | %.3f ms | %+.2f%% | %.2f ms | %.2f ms |

                Inside the engine (its own histograms, same window): mean TTFT %.2f ms, of which queueing %.2f ms.
                Output: %.0f tokens/s. Simulator process CPU: %.2f cores of %d (%.1f us per token).
                Load generator CPU (same machine): %.2f cores.
                """, settings.servers, settings.concurrency, settings.outputTokens, seconds, settings.warmup.toSeconds(),
                counted, failures.get(), meanTtft, predictedTtft, 100 * (meanTtft - predictedTtft) / predictedTtft,
                ttft.getValueAtPercentile(50) / 1000.0, ttft.getValueAtPercentile(99) / 1000.0,
                meanItl, predictedItl, 100 * (meanItl - predictedItl) / predictedItl,
                itl.getValueAtPercentile(50) / 1000.0, itl.getValueAtPercentile(99) / 1000.0,
                engine.meanTtftMs(), engine.meanQueueMs(), tokens / seconds, simulatorCores, Runtime.getRuntime().availableProcessors(),
                1e6 * simulatorCores * seconds / tokens, clientCpuNanos / 1e9 / seconds);
        Files.writeString(settings.results.resolve("simulator-timing.md"), markdown);
        System.out.println();
        System.out.print(markdown);
        System.out.println("\nresults: " + settings.results);
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(remaining);
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private record RequestRecord(int server, long sent, long first, long last, int tokens, int promptTokens,
                                 int cachedTokens) {
    }

    /** CPU time of a process from /proc/[pid]/stat (utime + stime). */
    private record CpuSample(double cpuSeconds) {
        static CpuSample of(long pid) throws IOException {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return new CpuSample(ticks / 100.0);
        }
    }

    /** Command-line settings; {@code --quick} shortens the run for a smoke test. */
    private record Settings(Path simulatorJar, String simulatorJavaOptions, Path results, int servers, int concurrency, Duration warmup,
                            Duration measure, int outputTokens, int sharedPrefixWords, int questionWords,
                            int prefixGroups, int prefillOverheadMs, int prefillPerTokenUs, int interTokenMs,
                            double timeFactor) {
        static Settings parse(String[] args) {
            Path jar = Path.of("simulator/target/lodestar-simulator.jar");
            String javaOptions = "";
            Path results = Path.of("bench/results", "simulator-timing-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            int servers = 8;
            int concurrency = 64;
            int warmup = 20;
            int measure = 60;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> {
                        warmup = 10;
                        measure = 20;
                    }
                    case "--simulator-jar" -> jar = Path.of(args[++i]);
                    case "--simulator-java-options" -> javaOptions = args[++i];
                    case "--results" -> results = Path.of(args[++i]);
                    case "--servers" -> servers = Integer.parseInt(args[++i]);
                    case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                    case "--warmup-seconds" -> warmup = Integer.parseInt(args[++i]);
                    case "--seconds" -> measure = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]
                            + " (known: --quick --simulator-jar --simulator-java-options --results --servers --concurrency"
                            + " --warmup-seconds --seconds)");
                }
            }
            return new Settings(jar, javaOptions, results, servers, concurrency, Duration.ofSeconds(warmup),
                    Duration.ofSeconds(measure), 64, 256, 256, 16, 20, 400, 25, 1.5);
        }
    }
}
