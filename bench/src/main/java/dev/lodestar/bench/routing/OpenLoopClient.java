package dev.lodestar.bench.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop load: requests leave at Poisson arrival times whatever the previous ones are doing (each on its
 * own virtual thread), through rate stages, and stream their answers (OkHttp, SSE chat completions). A
 * request succeeds when it gets HTTP 200, all {@code max_tokens} tokens and {@code [DONE]} within the
 * timeout. TTFT is the time to the first chunk with generated text; every gap between two text chunks is
 * one inter-token latency sample.
 */
final class OpenLoopClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MediaType JSON_MEDIA_TYPE = MediaType.get("application/json");

    /** A rate stage: {@code rate} requests per second on average for {@code seconds}. */
    record Stage(double rate, double seconds) {
    }

    /** Live counters for the progress line. */
    static final class Progress {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong succeeded = new AtomicLong();
        final AtomicLong failed = new AtomicLong();

        long inFlight() {
            return sent.get() - succeeded.get() - failed.get();
        }
    }

    private final OkHttpClient http;
    private final String url;
    private final String model;
    private final List<String> roundRobinEndpoints;
    private final AtomicLong roundRobin = new AtomicLong();

    /**
     * @param roundRobinEndpoints when not empty, each request names the next of these endpoints (in turn) in
     *                            the EPP's {@code test-epp-endpoint-selection} header (round-robin emulation)
     */
    OpenLoopClient(OkHttpClient http, String url, String model, List<String> roundRobinEndpoints, Duration timeout) {
        this.http = http.newBuilder().callTimeout(timeout).readTimeout(timeout).build();
        this.url = url;
        this.model = model;
        this.roundRobinEndpoints = List.copyOf(roundRobinEndpoints);
    }

    /** Runs the stages; the result has one entry per stage. {@code fleet} may be null (no fleet counters). */
    List<StageStats> run(String config, Workload workload, List<Stage> stages, long arrivalSeed, FleetMetrics fleet,
                         Duration drainLimit, String label) throws InterruptedException {
        SplittableRandom arrivals = new SplittableRandom(arrivalSeed);
        List<StageStats> results = new ArrayList<>();
        long[] windowEnds = new long[stages.size()];
        long[] windowStarts = new long[stages.size()];
        for (int i = 0; i < stages.size(); i++) {
            results.add(new StageStats(config, workload.name(), i, stages.get(i).rate(), stages.get(i).seconds()));
        }
        Progress progress = new Progress();
        long start = System.nanoTime();
        long stageStart = start;
        for (int i = 0; i < stages.size(); i++) {
            windowStarts[i] = stageStart;
            windowEnds[i] = stageStart + (long) (stages.get(i).seconds() * 1e9);
            stageStart = windowEnds[i];
        }
        double[] before = fleet == null ? null : fleet.snapshot();
        long nextProgress = start + 5_000_000_000L;
        ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (int i = 0; i < stages.size(); i++) {
                Stage stage = stages.get(i);
                StageStats stats = results.get(i);
                long next = windowStarts[i];
                while (true) {
                    next += (long) (-Math.log(1 - arrivals.nextDouble()) / stage.rate() * 1e9);
                    if (next >= windowEnds[i]) {
                        break;
                    }
                    long wait;
                    while ((wait = next - System.nanoTime()) > 0) {
                        if (System.nanoTime() >= nextProgress) {
                            printProgress(label, workload, i, stages, start, progress);
                            nextProgress += 5_000_000_000L;
                        }
                        TimeUnit.NANOSECONDS.sleep(Math.min(wait, 200_000_000L));
                    }
                    Workload.ChatRequest request = workload.next();
                    stats.recordSent();
                    progress.sent.incrementAndGet();
                    requests.submit(() -> send(request, workload, stats, results, windowStarts, windowEnds, progress));
                }
                while (System.nanoTime() < windowEnds[i]) {
                    TimeUnit.NANOSECONDS.sleep(Math.max(1, Math.min(windowEnds[i] - System.nanoTime(), 200_000_000L)));
                }
                stats.loadAverage = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
                if (fleet != null) {
                    // Counters at each stage boundary; the last stage's window includes the drain below.
                    double[] now = fleet.snapshot();
                    stats.waitingAtEnd = now[2];
                    if (i < stages.size() - 1) {
                        stats.fleetPrefixQueries = now[0] - before[0];
                        stats.fleetPrefixHits = now[1] - before[1];
                        before = now;
                    }
                }
            }
            requests.shutdown();
            long drainUntil = System.nanoTime() + drainLimit.toNanos();
            while (!requests.awaitTermination(1, TimeUnit.SECONDS)) {
                if (System.nanoTime() >= nextProgress) {
                    printProgress(label + " drain", workload, stages.size() - 1, stages, start, progress);
                    nextProgress += 5_000_000_000L;
                }
                if (System.nanoTime() > drainUntil) {
                    System.err.println(label + ": " + progress.inFlight() + " requests still running "
                            + drainLimit.toSeconds() + " s after the last stage; cancelling them");
                    requests.shutdownNow();
                    requests.awaitTermination(10, TimeUnit.SECONDS);
                    break;
                }
            }
        } finally {
            requests.shutdownNow();
        }
        if (fleet != null) {
            double[] now = fleet.snapshot();
            StageStats last = results.getLast();
            last.fleetPrefixQueries = now[0] - before[0];
            last.fleetPrefixHits = now[1] - before[1];
        }
        printProgress(label + " done", workload, stages.size() - 1, stages, start, progress);
        return results;
    }

    private static void printProgress(String label, Workload workload, int stage, List<Stage> stages, long start,
                                      Progress progress) {
        System.out.printf(Locale.ROOT, "  %-28s %-13s stage %d/%d rate %5.1f/s elapsed %4ds  sent %6d ok %6d failed %4d in flight %4d%n",
                label, workload.name(), stage + 1, stages.size(), stages.get(stage).rate(),
                (System.nanoTime() - start) / 1_000_000_000, progress.sent.get(), progress.succeeded.get(),
                progress.failed.get(), progress.inFlight());
    }

    private void send(Workload.ChatRequest chat, Workload workload, StageStats stats, List<StageStats> all,
                      long[] windowStarts, long[] windowEnds, Progress progress) {
        Request.Builder builder = new Request.Builder().url(url)
                .post(RequestBody.create(body(chat), JSON_MEDIA_TYPE));
        if (!roundRobinEndpoints.isEmpty()) {
            builder.header("test-epp-endpoint-selection", roundRobinEndpoints.get(
                    (int) (roundRobin.getAndIncrement() % roundRobinEndpoints.size())));
        }
        long sent = System.nanoTime();
        long first = 0;
        long previous = 0;
        long[] gaps = new long[Math.max(1, chat.maxTokens())];
        int gapCount = 0;
        int tokens = 0;
        int promptTokens = 0;
        int cachedTokens = 0;
        boolean sawDone = false;
        String failure = null;
        StringBuilder generated = new StringBuilder();
        try (Response response = http.newCall(builder.build()).execute()) {
            if (response.code() != 200) {
                String text = response.body().string();
                failure = "HTTP " + response.code() + ": " + text.substring(0, Math.min(200, text.length()));
            } else {
                BufferedSource source = response.body().source();
                String line;
                while ((line = source.readUtf8Line()) != null) {
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    if (line.equals("data: [DONE]")) {
                        sawDone = true;
                        continue;
                    }
                    long now = System.nanoTime();
                    JsonNode chunk = JSON.readTree(line.substring(6));
                    JsonNode usage = chunk.path("usage");
                    if (usage.isObject()) {
                        promptTokens = usage.path("prompt_tokens").asInt(promptTokens);
                        cachedTokens = usage.path("prompt_tokens_details").path("cached_tokens").asInt(cachedTokens);
                    }
                    String content = chunk.path("choices").path(0).path("delta").path("content").asText("");
                    if (!content.isEmpty()) {
                        generated.append(content);
                        if (tokens == 0) {
                            first = now;
                        } else if (gapCount < gaps.length) {
                            gaps[gapCount++] = (now - previous) / 1_000;
                        }
                        previous = now;
                        tokens++;
                    }
                }
                if (!sawDone || tokens != chat.maxTokens()) {
                    failure = "stream ended after " + tokens + " of " + chat.maxTokens() + " tokens"
                            + (sawDone ? "" : " without [DONE]");
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e.toString();
        }
        long end = System.nanoTime();
        if (failure != null) {
            stats.recordFailure(failure);
            progress.failed.incrementAndGet();
            workload.completed(chat, null);
            return;
        }
        stats.recordSuccess((first - sent) / 1_000, gaps, gapCount, (end - sent) / 1_000, tokens, promptTokens,
                cachedTokens);
        for (int i = 0; i < windowEnds.length; i++) {
            if (end >= windowStarts[i] && end < windowEnds[i]) {
                all.get(i).recordCompletedInWindow(tokens);
            }
        }
        progress.succeeded.incrementAndGet();
        workload.completed(chat, generated.toString());
    }

    private String body(Workload.ChatRequest chat) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        ArrayNode messages = body.putArray("messages");
        for (Workload.Message message : chat.messages()) {
            messages.addObject().put("role", message.role()).put("content", message.content());
        }
        body.put("max_tokens", chat.maxTokens()).put("ignore_eos", true).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        try {
            return JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
