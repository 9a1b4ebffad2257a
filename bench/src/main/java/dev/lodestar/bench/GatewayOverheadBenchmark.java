package dev.lodestar.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Overhead of the dev gateway and the EPP on the local stack: the latency clients see when they call a
 * fleet of simulated servers directly versus through the gateway (which asks the EPP over ext_proc where
 * each request goes), and the CPU time the gateway and EPP processes spend per request.
 *
 * <p>The processes are started by {@code bench/gateway-overhead.sh}, which passes their addresses and pids.
 * For each concurrency (50, then 200 streams) this runs two closed-loop phases with the same settings:
 * {@code direct} (round-robin over the servers) and {@code gateway}. The servers have fixed latencies and
 * room for every stream (no queueing), so the difference between the phases is what the gateway and EPP
 * add. Each phase has its own warm-up (new connections; the first gateway phase also warms the gateway's
 * and EPP's JITs), excluded from the numbers. A request counts in a phase when it completes inside the
 * measured window.
 */
public final class GatewayOverheadBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final MediaType JSON_MEDIA_TYPE = MediaType.get("application/json");
    private static final String[] WORDS = ("route cache block token batch queue prefix decode prefill model "
            + "server gateway adapter weight tensor layer kernel memory stream answer prompt system user quick "
            + "brown fox jumps over lazy dog river stone cloud light sound water field north south east west "
            + "alpha beta gamma delta omega spring summer autumn winter paper glass metal wood fire earth").split(" ");
    private static final int KEPT_ERROR_MESSAGES = 20;

    private final Settings settings;
    // One pool big enough to keep every stream's connection alive between its requests.
    private final OkHttpClient http = new OkHttpClient.Builder()
            .connectionPool(new ConnectionPool(4096, 5, TimeUnit.MINUTES))
            .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(60))
            .retryOnConnectionFailure(false).build();

    private GatewayOverheadBenchmark(Settings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(args);
        new GatewayOverheadBenchmark(settings).run();
        // OkHttp's connection pool threads would keep the JVM alive for a while.
        System.exit(0);
    }

    private void run() throws Exception {
        Files.createDirectories(settings.results);
        List<String> directUrls = new ArrayList<>();
        for (String server : settings.servers) {
            directUrls.add("http://" + server + "/v1/chat/completions");
        }
        List<String> gatewayUrls = List.of("http://" + settings.gateway + "/v1/chat/completions");
        // One request each way first: a broken setup fails here, before minutes of load.
        probe(directUrls.getFirst());
        probe(gatewayUrls.getFirst());
        int phases = 2 * settings.concurrencies.size();
        System.out.printf(Locale.ROOT, "%d phases (direct, gateway) x concurrency %s; warm-up %ds + measured %ds each%n",
                phases, settings.concurrencies, settings.warmup.toSeconds(), settings.measure.toSeconds());
        List<PhaseResult> results = new ArrayList<>();
        for (int concurrency : settings.concurrencies) {
            results.add(runPhase("direct", directUrls, concurrency));
            results.add(runPhase("gateway", gatewayUrls, concurrency));
        }
        report(results);
    }

    private void probe(String url) throws IOException {
        Request request = new Request.Builder().url(url)
                .post(RequestBody.create(requestBody(new SplittableRandom(-1)), JSON_MEDIA_TYPE)).build();
        try (Response response = http.newCall(request).execute()) {
            String body = response.body().string();
            if (response.code() != 200 || !body.contains("data: [DONE]")) {
                throw new IllegalStateException("probe of " + url + " failed: HTTP " + response.code() + ": "
                        + body.substring(0, Math.min(500, body.length())));
            }
        }
    }

    private PhaseResult runPhase(String target, List<String> urls, int concurrency) throws Exception {
        Phase phase = new Phase(target, urls, concurrency);
        String name = target + " x" + concurrency;
        long start = System.nanoTime();
        phase.measureFrom = start + settings.warmup.toNanos();
        phase.measureTo = phase.measureFrom + settings.measure.toNanos();
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        for (int i = 0; i < concurrency; i++) {
            long seed = concurrency * 1_000_000L + i;
            // Spread the first requests over half a second so streams do not move in lockstep.
            long delayNanos = (long) (new SplittableRandom(seed).nextDouble() * 0.5e9);
            clients.submit(() -> clientLoop(phase, seed, delayNanos));
        }
        while (System.nanoTime() < phase.measureFrom) {
            Thread.sleep(Math.min(5_000, Math.max(1, (phase.measureFrom - System.nanoTime()) / 1_000_000)));
            progress(name, "warm-up", start, phase);
        }
        Snapshot before = snapshot();
        while (System.nanoTime() < phase.measureTo) {
            Thread.sleep(Math.min(5_000, Math.max(1, (phase.measureTo - System.nanoTime()) / 1_000_000)));
            progress(name, "measure", start, phase);
        }
        Snapshot after = snapshot();
        phase.stopping = true;
        clients.shutdown();
        if (!clients.awaitTermination(60, TimeUnit.SECONDS)) {
            System.err.println(name + ": clients still busy 60 s after the phase ended; interrupting them");
            clients.shutdownNow();
        }
        // Let the servers' and the gateway's connections settle before the next phase.
        http.connectionPool().evictAll();
        Thread.sleep(1_000);
        return PhaseResult.of(phase, before, after, settings);
    }

    private void progress(String name, String stage, long start, Phase phase) {
        System.out.printf(Locale.ROOT, "  %-12s %-7s %3ds  %7d requests done (%d in window), %d errors%n",
                name, stage, (System.nanoTime() - start) / 1_000_000_000, phase.done.sum(), phase.ttft.getTotalCount(),
                phase.errors.get());
    }

    private static final AtomicLong ROUND_ROBIN = new AtomicLong();

    private void clientLoop(Phase phase, long seed, long delayNanos) {
        SplittableRandom random = new SplittableRandom(seed);
        try {
            Thread.sleep(Duration.ofNanos(delayNanos));
            while (!phase.stopping) {
                String url = phase.urls.get((int) (ROUND_ROBIN.getAndIncrement() % phase.urls.size()));
                Request request = new Request.Builder().url(url)
                        .post(RequestBody.create(requestBody(random), JSON_MEDIA_TYPE)).build();
                long sent = System.nanoTime();
                long first = 0;
                int tokens = 0;
                boolean sawDone = false;
                String failure = null;
                try (Response response = http.newCall(request).execute()) {
                    if (response.code() != 200) {
                        String body = response.body().string();
                        failure = "HTTP " + response.code() + ": " + body.substring(0, Math.min(200, body.length()));
                    } else {
                        BufferedSource body = response.body().source();
                        String line;
                        while ((line = body.readUtf8Line()) != null) {
                            if (!line.startsWith("data: ")) {
                                continue;
                            }
                            if (line.equals("data: [DONE]")) {
                                sawDone = true;
                                continue;
                            }
                            // The first chunk carrying generated text is the first token.
                            if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                                if (tokens == 0) {
                                    first = System.nanoTime();
                                }
                                tokens++;
                            }
                        }
                        if (!sawDone || tokens != settings.maxTokens) {
                            failure = "stream ended after " + tokens + " of " + settings.maxTokens + " tokens"
                                    + (sawDone ? "" : " without [DONE]");
                        }
                    }
                } catch (IOException e) {
                    failure = e.toString();
                }
                long end = System.nanoTime();
                if (failure != null) {
                    if (phase.stopping) {
                        return;
                    }
                    phase.errors.incrementAndGet();
                    if (phase.errorMessages.size() < KEPT_ERROR_MESSAGES) {
                        phase.errorMessages.add(failure);
                    }
                    if (end >= phase.measureFrom && end < phase.measureTo) {
                        phase.errorsInWindow.incrementAndGet();
                    }
                    // Do not spin on a refusing server.
                    Thread.sleep(50);
                    continue;
                }
                phase.done.increment();
                if (end >= phase.measureFrom && end < phase.measureTo) {
                    phase.record(first - sent, end - sent);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            phase.errors.incrementAndGet();
            System.err.println("client error: " + e);
        }
    }

    /** A chat request with a prompt of about {@code promptBytes} random words. */
    private String requestBody(SplittableRandom random) {
        StringBuilder prompt = new StringBuilder();
        while (prompt.length() < settings.promptBytes) {
            prompt.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        return "{\"model\":\"" + settings.model + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + prompt.toString().trim() + "\"}],\"max_tokens\":" + settings.maxTokens
                + ",\"ignore_eos\":true,\"stream\":true}";
    }

    /** CPU counters of the processes of interest, the machine's, and the EPP's scheduling histogram. */
    private Snapshot snapshot() {
        Map<String, Double> cpu = new LinkedHashMap<>();
        for (Map.Entry<String, Long> process : settings.pids.entrySet()) {
            cpu.put(process.getKey(), processCpuSeconds(process.getValue(), settings.clockTicks));
        }
        cpu.put("load generator", ((com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9);
        double[] machine = machineCpuSeconds(settings.clockTicks);
        double[] scheduler = eppHistogram("inference_extension_scheduler_e2e_duration_seconds");
        return new Snapshot(System.nanoTime(), cpu, machine[0], machine[1], scheduler[0], scheduler[1]);
    }

    /** Sum and count of an EPP histogram (all label sets), or zeros when the EPP's metrics are not reachable. */
    private double[] eppHistogram(String name) {
        if (settings.eppMetrics == null) {
            return new double[2];
        }
        try (Response response = http.newCall(new Request.Builder().url(settings.eppMetrics).build()).execute()) {
            String page = response.body().string();
            double sum = MetricsText.sum(page, name + "_sum");
            double count = MetricsText.sum(page, name + "_count");
            return new double[] {Double.isNaN(sum) ? 0 : sum, Double.isNaN(count) ? 0 : count};
        } catch (IOException | RuntimeException e) {
            System.err.println("EPP metrics: " + e);
        }
        return new double[2];
    }

    /** utime + stime of a process from /proc/[pid]/stat, in seconds. */
    static double processCpuSeconds(long pid, int clockTicks) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) clockTicks;
        } catch (IOException e) {
            throw new IllegalStateException("process " + pid + " is gone (" + e.getMessage() + ")");
        }
    }

    /** Busy and total CPU seconds of the machine (all cores) from the first line of /proc/stat. */
    static double[] machineCpuSeconds(int clockTicks) {
        try {
            String[] fields = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            long total = 0;
            long idle = 0;
            for (int i = 1; i < fields.length && i <= 8; i++) {
                long value = Long.parseLong(fields[i]);
                total += value;
                if (i == 4 || i == 5) { // idle, iowait
                    idle += value;
                }
            }
            return new double[] {(total - idle) / (double) clockTicks, total / (double) clockTicks};
        } catch (IOException e) {
            return new double[2];
        }
    }

    private void report(List<PhaseResult> results) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode setup = root.putObject("setup");
        setup.put("servers", String.join(",", settings.servers)).put("gateway", settings.gateway)
                .put("eppTls", settings.eppTls).put("model", settings.model)
                .put("promptBytes", settings.promptBytes).put("maxTokens", settings.maxTokens)
                .put("warmupSeconds", settings.warmup.toSeconds()).put("measuredSeconds", settings.measure.toSeconds())
                .put("timeToFirstTokenMs", settings.ttftMs).put("interTokenLatencyMs", settings.itlMs)
                .put("machineCores", Runtime.getRuntime().availableProcessors())
                .put("javaVersion", System.getProperty("java.version"))
                .put("loadAverageAtEnd", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        ArrayNode phases = root.putArray("phases");
        for (PhaseResult result : results) {
            phases.add(result.toJson());
        }
        ArrayNode overhead = root.putArray("overhead");
        StringBuilder overheadRows = new StringBuilder();
        for (int i = 0; i + 1 < results.size(); i += 2) {
            PhaseResult direct = results.get(i);
            PhaseResult gateway = results.get(i + 1);
            ObjectNode row = overhead.addObject();
            row.put("concurrency", direct.concurrency())
                    .put("addedTtftP50Ms", gateway.ttftMs(50) - direct.ttftMs(50))
                    .put("addedTtftP99Ms", gateway.ttftMs(99) - direct.ttftMs(99))
                    .put("addedE2eP50Ms", gateway.e2eMs(50) - direct.e2eMs(50))
                    .put("addedE2eP99Ms", gateway.e2eMs(99) - direct.e2eMs(99))
                    .put("gatewayCpuMsPerRequest", gateway.cpuMsPerRequest("gateway"))
                    .put("eppCpuMsPerRequest", gateway.cpuMsPerRequest("epp"))
                    .put("eppMeanSchedulingMs", gateway.meanSchedulingMs());
            overheadRows.append(String.format(Locale.ROOT, "| %d | %+.2f ms | %+.2f ms | %+.2f ms | %+.2f ms | %.3f ms | %.3f ms | %.3f ms |%n",
                    direct.concurrency(), gateway.ttftMs(50) - direct.ttftMs(50), gateway.ttftMs(99) - direct.ttftMs(99),
                    gateway.e2eMs(50) - direct.e2eMs(50), gateway.e2eMs(99) - direct.e2eMs(99),
                    gateway.cpuMsPerRequest("gateway"), gateway.cpuMsPerRequest("epp"), gateway.meanSchedulingMs()));
        }
        Files.writeString(settings.results.resolve("gateway-overhead.json"), JSON.writeValueAsString(root));

        StringBuilder latencyRows = new StringBuilder();
        StringBuilder cpuRows = new StringBuilder();
        for (PhaseResult result : results) {
            latencyRows.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %d | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f |%n",
                    result.target(), result.concurrency(), result.requestsPerSecond(), result.errorsInWindow(),
                    result.ttftMs(50), result.ttftMs(90), result.ttftMs(99),
                    result.e2eMs(50), result.e2eMs(90), result.e2eMs(99)));
            cpuRows.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %.2f | %.2f of %d | %.1f |%n",
                    result.target(), result.concurrency(), result.cpuCell("gateway"), result.cpuCell("epp"),
                    result.cpuCell("simulators"), result.cpuCell("load generator"), result.otherCoresBusy(),
                    result.machineCoresBusy(), Runtime.getRuntime().availableProcessors(), result.loadAverage()));
        }
        String markdown = String.format(Locale.ROOT, """
                # Gateway + EPP overhead

                %d simulated servers (%s; constant latency: TTFT %d ms, inter-token %d ms, no queueing), closed-loop
                streaming chat completions (~%d B prompt, %d output tokens), %d s warm-up + %d s measured per phase;
                `direct` = round-robin over the servers, `gateway` = through the dev gateway (%s) and the EPP
                (ext_proc over %s, GIE's default profile). A request counts when it completes inside the window.

                | target | streams | req/s | errors | TTFT p50 / p90 / p99 ms | end-to-end p50 / p90 / p99 ms |
                |---|---|---|---|---|---|
                %s
                Added by gateway + EPP (gateway minus direct, same concurrency), and their CPU per request:

                | streams | TTFT p50 | TTFT p99 | end-to-end p50 | end-to-end p99 | gateway CPU/req | EPP CPU/req | EPP scheduling (mean) |
                |---|---|---|---|---|---|---|---|
                %s
                CPU during each measured phase, cores busy (ms per request); "others" is the rest of the machine
                (processes not part of this benchmark), load is the 1-minute load average at the phase's end:

                | target | streams | gateway | EPP | simulators | load generator | others | machine | load |
                |---|---|---|---|---|---|---|---|---|
                %s
                """, settings.servers.size(), String.join(", ", settings.servers), settings.ttftMs, settings.itlMs,
                settings.promptBytes, settings.maxTokens, settings.warmup.toSeconds(), settings.measure.toSeconds(),
                settings.gateway, settings.eppTls ? "TLS" : "plaintext", latencyRows, overheadRows, cpuRows);
        Files.writeString(settings.results.resolve("gateway-overhead.md"), markdown);
        System.out.println();
        System.out.print(markdown);
        for (PhaseResult result : results) {
            if (!result.errorMessages().isEmpty()) {
                System.out.println("errors in " + result.target() + " x" + result.concurrency() + " (first "
                        + result.errorMessages().size() + "): " + result.errorMessages());
            }
        }
        System.out.println("\nresults: " + settings.results);
    }

    /** One closed-loop phase while it runs. */
    private static final class Phase {
        final String target;
        final List<String> urls;
        final int concurrency;
        final Histogram ttft = new Histogram(3);
        final Histogram e2e = new Histogram(3);
        final LongAdder done = new LongAdder();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong errorsInWindow = new AtomicLong();
        final ConcurrentLinkedQueue<String> errorMessages = new ConcurrentLinkedQueue<>();
        volatile long measureFrom = Long.MAX_VALUE;
        volatile long measureTo = Long.MAX_VALUE;
        volatile boolean stopping;

        Phase(String target, List<String> urls, int concurrency) {
            this.target = target;
            this.urls = urls;
            this.concurrency = concurrency;
        }

        synchronized void record(long ttftNanos, long e2eNanos) {
            ttft.recordValue(ttftNanos / 1_000); // microseconds
            e2e.recordValue(e2eNanos / 1_000);
        }
    }

    private record Snapshot(long nanos, Map<String, Double> cpuSeconds, double machineBusySeconds,
                            double machineTotalSeconds, double schedulerSum, double schedulerCount) {
    }

    private record PhaseResult(String target, int concurrency, double seconds, long requests, long errorsInWindow,
                               long errors, List<String> errorMessages, Histogram ttft, Histogram e2e,
                               Map<String, Double> cpuSeconds, double machineCoresBusy, double schedulerSeconds,
                               double schedulerCount, double loadAverage) {
        static PhaseResult of(Phase phase, Snapshot before, Snapshot after, Settings settings) {
            double seconds = (after.nanos() - before.nanos()) / 1e9;
            Map<String, Double> cpu = new LinkedHashMap<>();
            for (String name : after.cpuSeconds().keySet()) {
                cpu.put(name, after.cpuSeconds().get(name) - before.cpuSeconds().get(name));
            }
            double machineBusy = after.machineBusySeconds() - before.machineBusySeconds();
            double machineTotal = after.machineTotalSeconds() - before.machineTotalSeconds();
            int cores = Runtime.getRuntime().availableProcessors();
            return new PhaseResult(phase.target, phase.concurrency, seconds, phase.ttft.getTotalCount(),
                    phase.errorsInWindow.get(), phase.errors.get(), List.copyOf(phase.errorMessages),
                    phase.ttft, phase.e2e, cpu, machineTotal == 0 ? 0 : cores * machineBusy / machineTotal,
                    after.schedulerSum() - before.schedulerSum(), after.schedulerCount() - before.schedulerCount(),
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }

        double requestsPerSecond() {
            return requests / seconds;
        }

        double ttftMs(double percentile) {
            return ttft.getTotalCount() == 0 ? Double.NaN : ttft.getValueAtPercentile(percentile) / 1000.0;
        }

        double e2eMs(double percentile) {
            return e2e.getTotalCount() == 0 ? Double.NaN : e2e.getValueAtPercentile(percentile) / 1000.0;
        }

        double cpuMsPerRequest(String process) {
            Double cpu = cpuSeconds.get(process);
            return cpu == null || requests == 0 ? Double.NaN : 1000 * cpu / requests;
        }

        /** Cores busy with processes other than the benchmark's own. */
        double otherCoresBusy() {
            return machineCoresBusy - cpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum() / seconds;
        }

        double meanSchedulingMs() {
            return schedulerCount == 0 ? Double.NaN : 1000 * schedulerSeconds / schedulerCount;
        }

        String cpuCell(String process) {
            Double cpu = cpuSeconds.get(process);
            if (cpu == null) {
                return "";
            }
            return String.format(Locale.ROOT, "%.2f (%.3f)", cpu / seconds, cpuMsPerRequest(process));
        }

        ObjectNode toJson() {
            ObjectNode node = JSON.createObjectNode();
            node.put("target", target).put("concurrency", concurrency).put("measuredSeconds", seconds)
                    .put("requests", requests).put("requestsPerSecond", requestsPerSecond())
                    .put("errorsInWindow", errorsInWindow).put("errorsInPhase", errors);
            for (int percentile : new int[] {50, 90, 99}) {
                node.put("ttftP" + percentile + "Ms", ttftMs(percentile));
            }
            node.put("ttftMaxMs", ttft.getMaxValue() / 1000.0);
            for (int percentile : new int[] {50, 90, 99}) {
                node.put("e2eP" + percentile + "Ms", e2eMs(percentile));
            }
            node.put("e2eMaxMs", e2e.getMaxValue() / 1000.0);
            ObjectNode cpu = node.putObject("cpuSeconds");
            cpuSeconds.forEach(cpu::put);
            ObjectNode perRequest = node.putObject("cpuMsPerRequest");
            cpuSeconds.keySet().forEach(name -> perRequest.put(name, cpuMsPerRequest(name)));
            node.put("machineCoresBusy", machineCoresBusy).put("otherCoresBusy", otherCoresBusy())
                    .put("loadAverage1m", loadAverage);
            node.put("eppSchedulingCount", schedulerCount).put("eppMeanSchedulingMs", meanSchedulingMs());
            ArrayNode messages = node.putArray("firstErrors");
            errorMessages.forEach(messages::add);
            return node;
        }
    }

    /** Command-line settings; {@code --quick} shortens the run for a smoke test. */
    private record Settings(Path results, List<String> servers, String gateway, String eppMetrics, boolean eppTls,
                            Map<String, Long> pids, int clockTicks, List<Integer> concurrencies, Duration warmup,
                            Duration measure, String model, int promptBytes, int maxTokens, int ttftMs, int itlMs) {
        static Settings parse(String[] args) {
            Path results = Path.of("bench/results", "gateway-overhead-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            List<String> servers = List.of();
            String gateway = null;
            String eppMetrics = null;
            boolean eppTls = true;
            Map<String, Long> pids = new LinkedHashMap<>();
            int clockTicks = 100;
            // 4 streams last: a reference point where nothing is CPU-bound, with the JITs warm by then.
            List<Integer> concurrencies = List.of(50, 200, 4);
            int warmup = 15;
            int measure = 40;
            String model = "meta-llama/Llama-3.1-8B-Instruct";
            int promptBytes = 1024;
            int maxTokens = 16;
            int ttftMs = 5;
            int itlMs = 5;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> {
                        concurrencies = List.of(50, 200);
                        warmup = 4;
                        measure = 8;
                    }
                    case "--results" -> results = Path.of(args[++i]);
                    case "--servers" -> servers = List.of(args[++i].split(","));
                    case "--gateway" -> gateway = args[++i];
                    case "--epp-metrics" -> eppMetrics = args[++i];
                    case "--epp-tls" -> eppTls = Boolean.parseBoolean(args[++i]);
                    case "--gateway-pid" -> pids.put("gateway", Long.parseLong(args[++i]));
                    case "--epp-pid" -> pids.put("epp", Long.parseLong(args[++i]));
                    case "--simulator-pid" -> pids.put("simulators", Long.parseLong(args[++i]));
                    case "--clock-ticks" -> clockTicks = Integer.parseInt(args[++i]);
                    case "--concurrency" -> concurrencies = java.util.Arrays.stream(args[++i].split(","))
                            .map(Integer::parseInt).toList();
                    case "--warmup-seconds" -> warmup = Integer.parseInt(args[++i]);
                    case "--seconds" -> measure = Integer.parseInt(args[++i]);
                    case "--model" -> model = args[++i];
                    case "--prompt-bytes" -> promptBytes = Integer.parseInt(args[++i]);
                    case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
                    case "--time-to-first-token-ms" -> ttftMs = Integer.parseInt(args[++i]);
                    case "--inter-token-latency-ms" -> itlMs = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]
                            + " (known: --quick --results --servers --gateway --epp-metrics --epp-tls --gateway-pid"
                            + " --epp-pid --simulator-pid --clock-ticks --concurrency --warmup-seconds --seconds"
                            + " --model --prompt-bytes --max-tokens --time-to-first-token-ms --inter-token-latency-ms)");
                }
            }
            if (servers.isEmpty() || gateway == null) {
                throw new IllegalArgumentException("--servers and --gateway are required (bench/gateway-overhead.sh passes them)");
            }
            return new Settings(results, servers, gateway, eppMetrics, eppTls, pids, clockTicks, concurrencies,
                    Duration.ofSeconds(warmup), Duration.ofSeconds(measure), model, promptBytes, maxTokens, ttftMs, itlMs);
        }
    }
}
