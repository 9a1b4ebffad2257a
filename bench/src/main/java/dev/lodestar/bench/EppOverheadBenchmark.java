package dev.lodestar.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * EPP overhead: an open-loop ext_proc load generator that plays Envoy (GIE's processing mode: headers SEND,
 * bodies FULL_DUPLEX_STREAMED) against any EPP at {@code --epp host:port}, at fixed request rates.
 *
 * <p>Every request is one ext_proc stream: request headers, then a chat-completions JSON body (1-32 KiB prompt,
 * log-uniform, whose first part is one of 8 shared system prompts so the prefix scorer has hits) in 16 KiB
 * chunks, the last with end of stream. The decision latency is the time from the request's <em>intended</em>
 * send time (its slot in the fixed schedule) to the EPP's request-headers response, so a generator or EPP that
 * falls behind shows up as latency instead of a lower rate (no coordinated omission); the time from the actual
 * send of the body's end is kept as well, with the schedule lag. After the body response the stream completes a
 * short response phase (response headers, one SSE body chunk with usage, end of stream) so the EPP releases its
 * in-flight state, and half-closes.
 *
 * <p>Stages: a warm-up, an idle window (the EPP's CPU with no requests: its metrics scrapes), then rates from
 * {@code --rates} in order until one fails: p99 of at least 10 ms, any error, or an achieved rate under 95% of
 * the target. Per stage: p50/p90/p99/p99.9/max, achieved rate, errors, EPP CPU seconds per 1000 requests (from
 * {@code /proc/<pid>/stat}; total and above the idle rate). After the run: EPP heap from {@code jcmd <pid>
 * GC.heap_info} (before and after a {@code GC.run}) and the process's RSS.
 */
public final class EppOverheadBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String DESTINATION = "x-gateway-destination-endpoint";
    private static final int CHUNK_BYTES = 16 * 1024;
    private static final int KEPT_ERROR_MESSAGES = 20;
    private static final double P99_LIMIT_MS = 10.0;

    private final Settings settings;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<ExternalProcessorGrpc.ExternalProcessorStub> stubs = new ArrayList<>();
    private final Prompts prompts;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private EppOverheadBenchmark(Settings settings) {
        this.settings = settings;
        this.prompts = new Prompts(settings.model, settings.minPromptBytes, settings.maxPromptBytes);
    }

    /** The target rate (p99 <= 1 ms at 500 req/s). */
    static final int TARGET_RATE = 500;

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(args);
        EppOverheadBenchmark benchmark = new EppOverheadBenchmark(settings);
        int status;
        try {
            status = benchmark.run();
        } finally {
            benchmark.channels.forEach(ManagedChannel::shutdownNow);
        }
        System.exit(status);
    }

    private int run() throws Exception {
        Files.createDirectories(settings.results);
        for (int i = 0; i < settings.channels; i++) {
            NettyChannelBuilder builder = NettyChannelBuilder.forTarget(settings.epp)
                    .maxInboundMessageSize(32 << 20)
                    // A fixed window, as Envoy uses (no BDP-driven SETTINGS changes mid-connection).
                    .flowControlWindow(16 << 20)
                    // Callbacks only record and send small messages; no hop to another thread.
                    .directExecutor();
            if (settings.tls) {
                builder.sslContext(GrpcSslContexts.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build());
            } else {
                builder.usePlaintext();
            }
            ManagedChannel channel = builder.build();
            channels.add(channel);
            stubs.add(ExternalProcessorGrpc.newStub(channel));
        }
        // One request first: a broken setup fails here, before minutes of load.
        Stage probe = new Stage("probe", 1, 0);
        Exchange first = new Exchange(probe, System.nanoTime(), new SplittableRandom(-1));
        first.start(stubs.getFirst());
        probe.drain(Duration.ofSeconds(10));
        if (probe.completed.sum() != 1) {
            System.err.println("error: the probe request to " + settings.epp + " failed: " + probe.errorMessages);
            return 1;
        }
        System.out.printf(Locale.ROOT, "probe ok: %s routed to %s in %.2f ms%n", settings.epp,
                probe.destinations.keySet(), probe.fromIntended.getMaxValue() / 1000.0);

        // Warm-up first (the EPP's and this generator's JITs), then the idle window, so that the idle rate is the
        // steady cost of the EPP's metrics scrapes and not its start-up.
        // A ramp (a quarter, half, then all of the warm-up rate): a cold EPP at the full rate falls far behind.
        StageResult warmup = null;
        for (int divisor : new int[] {4, 2, 1}) {
            warmup = runStage("warm-up", Math.max(1, settings.warmupRate / divisor), settings.warmup.dividedBy(3), null);
            System.out.println(warmup.line());
        }
        Thread.sleep(1_000);
        Snapshot idleStart = snapshot();
        progressSleep("idle", settings.idle);
        Snapshot idleEnd = snapshot();
        Idle idle = Idle.of(idleStart, idleEnd);
        System.out.printf(Locale.ROOT, "idle: EPP %.3f cores over %.0f s (metrics scrapes of the pool), fakes %.3f%n",
                idle.eppCores(), idle.seconds(), idle.cores().getOrDefault("fakes", Double.NaN));
        List<StageResult> results = new ArrayList<>();
        for (int rate : settings.rates) {
            StageResult result = runStage(rate + "/s", rate, settings.stage, idle);
            results.add(result);
            System.out.println(result.line());
            // Stages up to the target's 500/s run even after a failed one, so the target is always measured.
            if (!result.held() && rate >= TARGET_RATE) {
                break;
            }
            Thread.sleep(1_000);
        }
        Heap heap = heap();
        report(idle, warmup, results, heap);
        return 0;
    }

    private void progressSleep(String name, Duration duration) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(5_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            System.out.printf(Locale.ROOT, "  %-8s %3ds%n", name, (System.nanoTime() - start) / 1_000_000_000);
        }
    }

    /** Sends {@code rate} requests per second on a fixed schedule for {@code duration}, then waits for the last. */
    private StageResult runStage(String name, int rate, Duration duration, Idle idle) throws InterruptedException {
        Stage stage = new Stage(name, rate, duration.toNanos());
        SplittableRandom random = new SplittableRandom(rate * 7919L + duration.toSeconds());
        double interval = 1e9 / rate;
        long count = (long) (duration.toNanos() / interval);
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "progress");
            thread.setDaemon(true);
            return thread;
        });
        Snapshot before = snapshot();
        long start = System.nanoTime() + 1_000_000;
        stage.start = start;
        ticker.scheduleAtFixedRate(() -> System.out.printf(Locale.ROOT,
                "  %-8s %3ds  %7d sent, %7d done, %5d in flight, %d errors%n", name,
                (System.nanoTime() - start) / 1_000_000_000, stage.sent.get(), stage.completed.sum(),
                stage.inFlight.size(), stage.errors.get()), 5, 5, TimeUnit.SECONDS);
        // More than 2 s of requests (and at least 1000) without an answer: the EPP is far behind; stop this stage.
        int backlogLimit = Math.max(1000, 2 * rate);
        for (long i = 0; i < count; i++) {
            if (stage.inFlight.size() > backlogLimit) {
                stage.error("aborted: " + stage.inFlight.size() + " requests without an answer after "
                        + (System.nanoTime() - start) / 1_000_000 + " ms");
                break;
            }
            long intended = start + (long) (i * interval);
            long wait;
            while ((wait = intended - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            new Exchange(stage, intended, random.split()).start(stubs.get((int) (i % stubs.size())));
        }
        stage.lastSend = System.nanoTime();
        stage.drain(settings.requestTimeout);
        ticker.shutdownNow();
        Snapshot after = snapshot();
        return StageResult.of(stage, before, after, idle == null ? Double.NaN : idle.eppCores());
    }

    /** One request: one ext_proc stream, driven as Envoy drives it. */
    private final class Exchange implements ClientResponseObserver<ProcessingRequest, ProcessingResponse> {
        private final Stage stage;
        private final long intended;
        private final SplittableRandom random;
        private ClientCallStreamObserver<ProcessingRequest> requests;
        private long bodySent;
        private boolean decided;
        private boolean responseSent;
        private boolean finished;
        private String destination;
        private int promptBytes;

        Exchange(Stage stage, long intended, SplittableRandom random) {
            this.stage = stage;
            this.intended = intended;
            this.random = random;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ProcessingRequest> requestStream) {
            this.requests = requestStream;
        }

        synchronized void start(ExternalProcessorGrpc.ExternalProcessorStub stub) {
            stage.sent.incrementAndGet();
            stage.inFlight.add(this);
            byte[] body = prompts.body(random);
            promptBytes = body.length;
            String requestId = UUID.randomUUID().toString();
            try {
                stub.process(this);
                requests.onNext(ProcessingRequest.newBuilder().setRequestHeaders(HttpHeaders.newBuilder()
                        .setHeaders(headers(":authority", "inference-gateway.example.com", ":path", "/v1/chat/completions",
                                ":method", "POST", ":scheme", "https", "content-type", "application/json",
                                "content-length", Integer.toString(body.length), "accept", "application/json",
                                "user-agent", "OpenAI/Python 1.82.0", "x-forwarded-proto", "https",
                                "x-request-id", requestId))).build());
                for (int offset = 0; offset < body.length; offset += CHUNK_BYTES) {
                    int length = Math.min(CHUNK_BYTES, body.length - offset);
                    requests.onNext(ProcessingRequest.newBuilder().setRequestBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(body, offset, length))
                            .setEndOfStream(offset + length == body.length)).build());
                }
                bodySent = System.nanoTime();
            } catch (RuntimeException e) {
                fail("send failed: " + e);
            }
        }

        @Override
        public synchronized void onNext(ProcessingResponse response) {
            if (finished) {
                return;
            }
            switch (response.getResponseCase()) {
                case REQUEST_HEADERS -> {
                    long now = System.nanoTime();
                    decided = true;
                    for (HeaderValueOption option : response.getRequestHeaders().getResponse().getHeaderMutation()
                            .getSetHeadersList()) {
                        if (option.getHeader().getKey().equalsIgnoreCase(DESTINATION)) {
                            destination = option.getHeader().getRawValue().isEmpty()
                                    ? option.getHeader().getValue() : option.getHeader().getRawValue().toStringUtf8();
                        }
                    }
                    if (destination == null || destination.isEmpty()) {
                        fail("headers response without " + DESTINATION);
                        return;
                    }
                    stage.recordDecision(now - intended, now - bodySent, bodySent - intended, destination);
                }
                case REQUEST_BODY -> {
                    var common = response.getRequestBody().getResponse();
                    if (!decided) {
                        fail("body response before the headers response");
                        return;
                    }
                    if (common.getBodyMutation().getStreamedResponse().getEndOfStream() && !responseSent) {
                        responseSent = true;
                        sendResponse();
                    }
                }
                case RESPONSE_HEADERS -> {
                }
                case RESPONSE_BODY -> {
                    if (response.getResponseBody().getResponse().getBodyMutation().getStreamedResponse().getEndOfStream()) {
                        requests.onCompleted();
                    }
                }
                case IMMEDIATE_RESPONSE -> fail("immediate response " + response.getImmediateResponse().getStatus().getCode()
                        + ": " + response.getImmediateResponse().getBody().toStringUtf8());
                default -> fail("unexpected response " + response.getResponseCase());
            }
        }

        /** What a model server would answer, as Envoy hands it to the EPP: headers, then one SSE chunk. */
        private void sendResponse() {
            Metadata served = Metadata.newBuilder().putFilterMetadata("envoy.lb", Struct.newBuilder()
                    .putFields("x-gateway-destination-endpoint-served", Value.newBuilder()
                            .setStringValue(destination.split(",")[0]).build()).build()).build();
            requests.onNext(ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder()
                    .setHeaders(headers(":status", "200", "content-type", "text/event-stream",
                            "date", "Tue, 24 Nov 2026 04:00:00 GMT", "server", "uvicorn")))
                    .setMetadataContext(served).build());
            int promptTokens = promptBytes / 4;
            String chunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1795000000,"
                    + "\"model\":\"" + settings.model + "\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                    + "\"content\":\"Sure.\"},\"finish_reason\":\"stop\"}]}\n\n"
                    + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1795000000,"
                    + "\"model\":\"" + settings.model + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptTokens
                    + ",\"total_tokens\":" + (promptTokens + 2) + ",\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
            requests.onNext(ProcessingRequest.newBuilder().setResponseBody(HttpBody.newBuilder()
                    .setBody(ByteString.copyFromUtf8(chunk)).setEndOfStream(true)).build());
        }

        @Override
        public synchronized void onError(Throwable error) {
            fail("stream failed: " + error);
        }

        @Override
        public synchronized void onCompleted() {
            if (finished) {
                return;
            }
            if (!decided || !responseSent) {
                fail("stream completed before the " + (decided ? "response phase" : "decision"));
                return;
            }
            finished = true;
            stage.inFlight.remove(this);
            stage.completed.increment();
        }

        synchronized void fail(String message) {
            if (finished) {
                return;
            }
            finished = true;
            stage.inFlight.remove(this);
            stage.error(message);
            if (requests != null) {
                requests.cancel(message, null);
            }
        }
    }

    private static HeaderMap headers(String... namesAndValues) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.addHeaders(HeaderValue.newBuilder().setKey(namesAndValues[i])
                    .setRawValue(ByteString.copyFromUtf8(namesAndValues[i + 1])));
        }
        return map.build();
    }

    /**
     * Chat request bodies: a prompt of 1-32 KiB (log-uniform), of which up to half is one of 8 shared system
     * prompts (the shared prefix) and the rest a slice of a 4 MiB English-like text at a random offset (so user
     * turns are distinct). Bodies are assembled from pre-encoded bytes: cheap for the generator.
     */
    static final class Prompts {
        private static final String[] WORDS = ("the a of to and in that is for it as with was on be by at this are from "
                + "or have an they which one you were all we can her has there been if more when will would who so no "
                + "model server request token cache prefix latency throughput batch queue memory kernel tensor layer "
                + "answer question explain summarize translate write code function return value error because "
                + "however therefore example following below above table list customer order invoice account "
                + "policy support product release version feature system user assistant context document page "
                + "section paragraph sentence word meaning result data analysis report chart figure number time "
                + "day week month year city country river mountain weather travel hotel flight price cost budget "
                + "team project meeting schedule deadline review update status issue ticket bug fix test deploy").split(" ");
        private static final int SYSTEM_PROMPTS = 8;

        private final byte[] head;
        private final byte[][] systems = new byte[SYSTEM_PROMPTS][];
        private final byte[] middle = "\"},{\"role\":\"user\",\"content\":\"".getBytes(StandardCharsets.US_ASCII);
        private final byte[] tail = ("\"}],\"max_tokens\":256,\"temperature\":0.7,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}").getBytes(StandardCharsets.US_ASCII);
        private final byte[] corpus;
        private final int minBytes;
        private final int maxBytes;

        Prompts(String model, int minBytes, int maxBytes) {
            this.minBytes = minBytes;
            this.maxBytes = maxBytes;
            head = ("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"")
                    .getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < SYSTEM_PROMPTS; i++) {
                String intro = "You are assistant number " + i + " of the ACME support desk. Follow the policy below. ";
                systems[i] = (intro + text(new SplittableRandom(1000 + i), maxBytes / 2)).substring(0, maxBytes / 2)
                        .getBytes(StandardCharsets.US_ASCII);
            }
            corpus = text(new SplittableRandom(42), 4 << 20).getBytes(StandardCharsets.US_ASCII);
        }

        private static String text(SplittableRandom random, int bytes) {
            StringBuilder text = new StringBuilder(bytes + 64);
            int sentence = 0;
            while (text.length() < bytes) {
                String word = WORDS[random.nextInt(WORDS.length)];
                if (sentence == 0) {
                    text.append(Character.toUpperCase(word.charAt(0))).append(word, 1, word.length());
                } else {
                    text.append(word);
                }
                sentence++;
                if (sentence > 6 && random.nextInt(8) == 0) {
                    text.append(random.nextInt(4) == 0 ? ", " : ". ");
                    sentence = text.charAt(text.length() - 2) == ',' ? sentence : 0;
                } else {
                    text.append(' ');
                }
            }
            return text.toString();
        }

        byte[] body(SplittableRandom random) {
            int prompt = (int) Math.round(minBytes * Math.pow((double) maxBytes / minBytes, random.nextDouble()));
            byte[] system = systems[random.nextInt(SYSTEM_PROMPTS)];
            int systemBytes = Math.min(system.length, prompt / 2);
            int userBytes = prompt - systemBytes;
            int offset = random.nextInt(corpus.length - userBytes);
            byte[] body = new byte[head.length + systemBytes + middle.length + userBytes + tail.length];
            int at = 0;
            System.arraycopy(head, 0, body, at, head.length);
            at += head.length;
            System.arraycopy(system, 0, body, at, systemBytes);
            at += systemBytes;
            System.arraycopy(middle, 0, body, at, middle.length);
            at += middle.length;
            System.arraycopy(corpus, offset, body, at, userBytes);
            at += userBytes;
            System.arraycopy(tail, 0, body, at, tail.length);
            return body;
        }
    }

    /** One rate stage while it runs. */
    private static final class Stage {
        final String name;
        final int rate;
        final long durationNanos;
        final Histogram fromIntended = new Histogram(3); // microseconds
        final Histogram fromSend = new Histogram(3);
        final Histogram sendLag = new Histogram(3);
        final AtomicLong sent = new AtomicLong();
        final LongAdder completed = new LongAdder();
        final AtomicLong errors = new AtomicLong();
        final ConcurrentLinkedQueue<String> errorMessages = new ConcurrentLinkedQueue<>();
        final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
        final Map<String, LongAdder> destinations = new ConcurrentHashMap<>();
        volatile long start;
        volatile long lastSend;

        Stage(String name, int rate, long durationNanos) {
            this.name = name;
            this.rate = rate;
            this.durationNanos = durationNanos;
        }

        void recordDecision(long fromIntendedNanos, long fromSendNanos, long lagNanos, String destination) {
            synchronized (this) {
                fromIntended.recordValue(Math.max(0, fromIntendedNanos / 1_000));
                fromSend.recordValue(Math.max(0, fromSendNanos / 1_000));
                sendLag.recordValue(Math.max(0, lagNanos / 1_000));
            }
            destinations.computeIfAbsent(destination, key -> new LongAdder()).increment();
        }

        void error(String message) {
            errors.incrementAndGet();
            if (errorMessages.size() < KEPT_ERROR_MESSAGES) {
                errorMessages.add(message);
            }
        }

        /** Waits for the requests in flight; those still open after {@code timeout} fail as timed out. */
        void drain(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            for (Exchange exchange : List.copyOf(inFlight)) {
                exchange.fail("no complete answer within " + timeout.toSeconds() + " s");
            }
        }
    }

    /** CPU counters: EPP, fakes, this process, the machine; the EPP's scheduling histogram if reachable. */
    private Snapshot snapshot() {
        Map<String, Double> cpu = new LinkedHashMap<>();
        for (Map.Entry<String, Long> process : settings.pids.entrySet()) {
            cpu.put(process.getKey(), GatewayOverheadBenchmark.processCpuSeconds(process.getValue(), settings.clockTicks));
        }
        cpu.put("load generator", ((com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9);
        double[] machine = GatewayOverheadBenchmark.machineCpuSeconds(settings.clockTicks);
        double[] scheduler = eppHistogram("inference_extension_scheduler_e2e_duration_seconds");
        return new Snapshot(System.nanoTime(), cpu, machine[0], machine[1], scheduler[0], scheduler[1], gcPauses());
    }

    private static final Pattern GC_PAUSE = Pattern.compile("\\bPause\\b.* ([0-9.]+)ms$");

    /** The pause times (ms) in the EPP's GC log so far ({@code -Xlog:gc}; empty without {@code --epp-gc-log}). */
    private List<Double> gcPauses() {
        List<Double> pauses = new ArrayList<>();
        if (settings.eppGcLog == null) {
            return pauses;
        }
        try {
            for (String line : Files.readAllLines(settings.eppGcLog)) {
                Matcher matcher = GC_PAUSE.matcher(line.trim());
                if (matcher.find()) {
                    pauses.add(Double.parseDouble(matcher.group(1)));
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("EPP GC log: " + e);
        }
        return pauses;
    }

    private static boolean isJvm(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "exe")).getFileName().toString()
                    .equals("java");
        } catch (IOException e) {
            return false;
        }
    }

    /** A gauge from the EPP's metrics (summed over its series), or NaN. */
    private double eppGauge(String name) {
        return MetricsText.sum(eppMetricsPage(), name);
    }

    /** Sum and count of a histogram from the EPP's metrics (0 and 0 when absent). */
    private double[] eppHistogram(String name) {
        String page = eppMetricsPage();
        double sum = MetricsText.sum(page, name + "_sum");
        double count = MetricsText.sum(page, name + "_count");
        return new double[] {Double.isNaN(sum) ? 0 : sum, Double.isNaN(count) ? 0 : count};
    }

    /** The EPP's /metrics page; empty when none was given or it could not be read. */
    private String eppMetricsPage() {
        if (settings.eppMetrics == null) {
            return "";
        }
        try {
            return http.send(HttpRequest.newBuilder(URI.create(settings.eppMetrics)).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | RuntimeException e) {
            System.err.println("EPP metrics: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "";
    }

    private record Snapshot(long nanos, Map<String, Double> cpuSeconds, double machineBusySeconds,
                            double machineTotalSeconds, double schedulerSum, double schedulerCount,
                            List<Double> gcPauses) {
    }

    /** The EPP's CPU with no requests (metrics scrapes), subtracted to give the per-request cost above idle. */
    private record Idle(double seconds, double eppCores, Map<String, Double> cores, double machineCores) {
        static Idle of(Snapshot before, Snapshot after) {
            double seconds = (after.nanos() - before.nanos()) / 1e9;
            Map<String, Double> cores = new LinkedHashMap<>();
            after.cpuSeconds().forEach((name, cpu) -> cores.put(name, (cpu - before.cpuSeconds().get(name)) / seconds));
            double total = after.machineTotalSeconds() - before.machineTotalSeconds();
            double machine = total == 0 ? 0 : Runtime.getRuntime().availableProcessors()
                    * (after.machineBusySeconds() - before.machineBusySeconds()) / total;
            return new Idle(seconds, cores.getOrDefault("epp", Double.NaN), cores, machine);
        }
    }

    private record StageResult(String name, int rate, double sendSeconds, long sent, long completed, long errors,
                               List<String> errorMessages, Histogram fromIntended, Histogram fromSend, Histogram sendLag,
                               double windowSeconds, Map<String, Double> cpuSeconds, double machineCores,
                               double idleEppCores, double schedulerSeconds, double schedulerCount,
                               int distinctDestinations, double topDestinationShare, double loadAverage,
                               List<Double> gcPauses) {
        static StageResult of(Stage stage, Snapshot before, Snapshot after, double idleEppCores) {
            double window = (after.nanos() - before.nanos()) / 1e9;
            Map<String, Double> cpu = new LinkedHashMap<>();
            after.cpuSeconds().forEach((name, value) -> cpu.put(name, value - before.cpuSeconds().get(name)));
            double total = after.machineTotalSeconds() - before.machineTotalSeconds();
            double machine = total == 0 ? 0 : Runtime.getRuntime().availableProcessors()
                    * (after.machineBusySeconds() - before.machineBusySeconds()) / total;
            long decided = stage.destinations.values().stream().mapToLong(LongAdder::sum).sum();
            long top = stage.destinations.values().stream().mapToLong(LongAdder::sum).max().orElse(0);
            return new StageResult(stage.name, stage.rate, (stage.lastSend - stage.start) / 1e9, stage.sent.get(),
                    stage.completed.sum(), stage.errors.get(), List.copyOf(stage.errorMessages), stage.fromIntended,
                    stage.fromSend, stage.sendLag, window, cpu, machine, idleEppCores,
                    after.schedulerSum() - before.schedulerSum(), after.schedulerCount() - before.schedulerCount(),
                    stage.destinations.size(), decided == 0 ? 0 : (double) top / decided,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    after.gcPauses().subList(Math.min(before.gcPauses().size(), after.gcPauses().size()),
                            after.gcPauses().size()));
        }

        double achievedRate() {
            return sendSeconds <= 0 ? Double.NaN : sent / sendSeconds;
        }

        static double ms(Histogram histogram, double percentile) {
            return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
        }

        double p(double percentile) {
            return ms(fromIntended, percentile);
        }

        double maxMs() {
            return fromIntended.getTotalCount() == 0 ? Double.NaN : fromIntended.getMaxValue() / 1000.0;
        }

        boolean held() {
            return errors == 0 && completed > 0 && p(99) < P99_LIMIT_MS && achievedRate() >= 0.95 * rate;
        }

        double cores(String process) {
            Double cpu = cpuSeconds.get(process);
            return cpu == null ? Double.NaN : cpu / windowSeconds;
        }

        /** CPU seconds of a process per 1000 completed requests over the stage's window. */
        double cpuPer1000(String process) {
            Double cpu = cpuSeconds.get(process);
            return cpu == null || completed == 0 ? Double.NaN : 1000 * cpu / completed;
        }

        /** The EPP's CPU seconds per 1000 requests minus what it spends idle in the same time. */
        double eppCpuPer1000AboveIdle() {
            Double cpu = cpuSeconds.get("epp");
            return cpu == null || completed == 0 ? Double.NaN : 1000 * (cpu - idleEppCores * windowSeconds) / completed;
        }

        double otherCores() {
            return machineCores - cpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum() / windowSeconds;
        }

        String gcCell() {
            if (gcPauses.isEmpty()) {
                return "0";
            }
            return String.format(Locale.ROOT, "%d / %.0f / %.1f", gcPauses.size(),
                    gcPauses.stream().mapToDouble(Double::doubleValue).sum(),
                    gcPauses.stream().mapToDouble(Double::doubleValue).max().orElse(0));
        }

        double meanSchedulingMs() {
            return schedulerCount == 0 ? Double.NaN : 1000 * schedulerSeconds / schedulerCount;
        }

        String line() {
            return String.format(Locale.ROOT, "%-8s %s achieved %.0f/s, %d requests, %d errors, p50 %.2f p90 %.2f p99 %.2f "
                            + "p99.9 %.2f max %.2f ms; EPP %.2f cores, %.3f CPU s/1000 req",
                    name, held() ? "HELD  " : "FAILED", achievedRate(), sent, errors, p(50), p(90), p(99), p(99.9), maxMs(),
                    cores("epp"), cpuPer1000("epp"));
        }

        ObjectNode toJson() {
            ObjectNode node = JSON.createObjectNode();
            node.put("stage", name).put("targetRate", rate).put("achievedRate", achievedRate()).put("sent", sent)
                    .put("completed", completed).put("errors", errors).put("held", held())
                    .put("sendSeconds", sendSeconds).put("windowSeconds", windowSeconds);
            ObjectNode latency = node.putObject("decisionLatencyFromIntendedMs");
            ObjectNode service = node.putObject("decisionLatencyFromBodySentMs");
            ObjectNode lag = node.putObject("scheduleLagMs");
            for (double percentile : new double[] {50, 90, 99, 99.9}) {
                String key = "p" + (percentile == Math.rint(percentile) ? Integer.toString((int) percentile) : "99.9");
                latency.put(key, p(percentile));
                service.put(key, ms(fromSend, percentile));
                lag.put(key, ms(sendLag, percentile));
            }
            latency.put("max", maxMs());
            // For the plots: the decision latency at every half percentile (0, 0.5, ... 100) and the maximum.
            ArrayNode cdf = node.putArray("decisionLatencyCdfMs");
            if (fromIntended.getTotalCount() > 0) {
                for (int half = 0; half <= 200; half++) {
                    cdf.add(JSON.createArrayNode().add(half / 2.0).add(p(half / 2.0)));
                }
                cdf.add(JSON.createArrayNode().add(100.0).add(maxMs()));
            }
            service.put("max", fromSend.getMaxValue() / 1000.0);
            lag.put("max", sendLag.getMaxValue() / 1000.0);
            ObjectNode cores = node.putObject("cores");
            cpuSeconds.keySet().forEach(name -> cores.put(name, cores(name)));
            ObjectNode per1000 = node.putObject("cpuSecondsPer1000Requests");
            cpuSeconds.keySet().forEach(name -> per1000.put(name, cpuPer1000(name)));
            node.put("eppCpuSecondsPer1000RequestsAboveIdle", eppCpuPer1000AboveIdle());
            node.put("machineCoresBusy", machineCores).put("otherCoresBusy", otherCores()).put("loadAverage1m", loadAverage);
            node.put("eppSchedulingCount", schedulerCount).put("eppMeanSchedulingMs", meanSchedulingMs());
            ArrayNode pauses = node.putArray("eppGcPausesMs");
            gcPauses.forEach(pauses::add);
            node.put("distinctDestinations", distinctDestinations).put("topDestinationShare", topDestinationShare);
            ArrayNode messages = node.putArray("firstErrors");
            errorMessages.forEach(messages::add);
            return node;
        }
    }

    /** The EPP's heap after the run (jcmd; JVM EPPs only) and its resident set size (any EPP). */
    private record Heap(String source, double usedMiB, double committedMiB, double liveMiB, double rssMiB,
                        double peakRssMiB, String raw) {
    }

    // JDK 21: "garbage-first heap   total 262144K, used 45678K"; JDK 25: "total reserved 6172672K, committed
    // 1253376K, used 561491K".
    private static final Pattern HEAP_LINE = Pattern.compile("(?:committed|total) (\\d+)K, used (\\d+)K");

    private Heap heap() {
        Long pid = settings.pids.get("epp");
        if (pid == null) {
            return new Heap("none (no --epp-pid)", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, "");
        }
        double rss = Double.NaN;
        double peak = Double.NaN;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                } else if (line.startsWith("VmHWM:")) {
                    peak = Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("EPP status: " + e);
        }
        if (!isJvm(pid)) {
            // jcmd must not touch it: its attach request is a SIGQUIT, which ends a Go process with a goroutine dump.
            double used = eppGauge("go_memstats_heap_alloc_bytes") / (1 << 20);
            double committed = eppGauge("go_memstats_heap_sys_bytes") / (1 << 20);
            return new Heap(Double.isNaN(used) ? "RSS only (not a JVM, no Go heap metrics)"
                    : "Go runtime (go_memstats_heap_alloc_bytes, go_memstats_heap_sys_bytes)", used, committed,
                    Double.NaN, rss, peak, "");
        }
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        String before = command(jcmd, pid.toString(), "GC.heap_info");
        Matcher used = HEAP_LINE.matcher(before);
        if (!used.find()) {
            return new Heap("RSS only (jcmd GC.heap_info gave no heap line: not a JVM?)", Double.NaN, Double.NaN,
                    Double.NaN, rss, peak, before);
        }
        command(jcmd, pid.toString(), "GC.run");
        String after = command(jcmd, pid.toString(), "GC.heap_info");
        Matcher live = HEAP_LINE.matcher(after);
        double liveMiB = live.find() ? Long.parseLong(live.group(2)) / 1024.0 : Double.NaN;
        return new Heap("jcmd GC.heap_info (used now, then after jcmd GC.run)", Long.parseLong(used.group(2)) / 1024.0,
                Long.parseLong(used.group(1)) / 1024.0, liveMiB, rss, peak,
                "$ jcmd " + pid + " GC.heap_info\n" + before + "\n$ jcmd " + pid + " GC.run; jcmd " + pid
                        + " GC.heap_info\n" + after);
    }

    private static String command(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            return output;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    private void report(Idle idle, StageResult warmup, List<StageResult> results, Heap heap) throws IOException {
        StageResult best = null;
        for (StageResult result : results) {
            if (result.held()) {
                best = result;
            }
        }
        StageResult at500 = results.stream().filter(result -> result.rate() == TARGET_RATE).findFirst().orElse(null);
        String target = at500 == null ? "not measured (no 500/s stage)"
                : String.format(Locale.ROOT, "%s: p99 %.3f ms at 500 req/s (%d errors)",
                at500.p(99) <= 1.0 && at500.errors() == 0 ? "MET" : "NOT MET", at500.p(99), at500.errors());

        ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "epp-overhead").put("time", LocalDateTime.now().toString())
                .put("epp", settings.epp).put("target", settings.targetName).put("tls", settings.tls)
                .put("endpoints", settings.endpoints).put("channels", settings.channels)
                .put("promptBytes", settings.minPromptBytes + "-" + settings.maxPromptBytes + " (log-uniform)")
                .put("stageSeconds", settings.stage.toSeconds()).put("warmupSeconds", settings.warmup.toSeconds())
                .put("warmupRate", settings.warmupRate).put("machineCores", Runtime.getRuntime().availableProcessors())
                .put("javaVersion", System.getProperty("java.version"))
                .put("highestRateHeldWithP99Under10Ms", best == null ? 0 : best.rate())
                .put("target500At1Ms", target);
        ObjectNode idleNode = root.putObject("idle");
        idleNode.put("seconds", idle.seconds()).put("machineCores", idle.machineCores());
        idle.cores().forEach(idleNode::put);
        root.set("warmup", warmup.toJson());
        ArrayNode stages = root.putArray("stages");
        results.forEach(result -> stages.add(result.toJson()));
        ObjectNode heapNode = root.putObject("eppHeap");
        heapNode.put("source", heap.source()).put("usedMiB", heap.usedMiB()).put("committedMiB", heap.committedMiB())
                .put("liveAfterGcMiB", heap.liveMiB()).put("rssMiB", heap.rssMiB()).put("peakRssMiB", heap.peakRssMiB());
        Files.writeString(settings.results.resolve("epp-overhead.json"), JSON.writeValueAsString(root));
        List<String> plots = EppOverheadPlots.write(settings.results, Map.of(settings.targetName, root));
        Files.writeString(settings.results.resolve("epp-heap.txt"), heap.raw());

        StringBuilder latencyRows = new StringBuilder();
        StringBuilder cpuRows = new StringBuilder();
        List<StageResult> all = new ArrayList<>();
        all.add(warmup);
        all.addAll(results);
        for (StageResult result : all) {
            latencyRows.append(String.format(Locale.ROOT,
                    "| %s | %.0f | %d | %d | %.3f / %.3f / %.3f / %.3f / %.2f | %.3f / %.3f | %.3f / %.3f | %s |%n",
                    result.name(), result.achievedRate(), result.sent(), result.errors(), result.p(50), result.p(90),
                    result.p(99), result.p(99.9), result.maxMs(), StageResult.ms(result.fromSend(), 50),
                    StageResult.ms(result.fromSend(), 99), StageResult.ms(result.sendLag(), 50),
                    StageResult.ms(result.sendLag(), 99), result == warmup ? "(warm-up)" : result.held() ? "held" : "**failed**"));
            cpuRows.append(String.format(Locale.ROOT,
                    "| %s | %.2f | %.3f | %.3f | %.3f | %s | %s | %.2f | %.2f | %.2f of %d | %.1f | %d (top %.0f%%) |%n",
                    result.name(), result.cores("epp"), result.cpuPer1000("epp"), result.eppCpuPer1000AboveIdle(),
                    result.meanSchedulingMs(), settings.eppGcLog == null ? "" : result.gcCell(), Double.isNaN(result.cores("fakes")) ? "" : String.format(Locale.ROOT, "%.2f", result.cores("fakes")),
                    result.cores("load generator"), result.otherCores(), result.machineCores(),
                    Runtime.getRuntime().availableProcessors(), result.loadAverage(), result.distinctDestinations(),
                    100 * result.topDestinationShare()));
        }
        String markdown = String.format(Locale.ROOT, """
                # EPP overhead

                EPP `%s` (%s, ext_proc over %s), %d fake endpoints on loopback (vLLM gauges, new values every 5 s). Open-loop
                ext_proc load over %d gRPC channels: each request one stream (request headers, a chat body with a
                %d-%d B prompt (log-uniform; up to half of it one of 8 shared system prompts) in 16 KiB chunks,
                then a short response phase). Decision latency = intended send time -> request-headers
                response (no coordinated omission); %d s warm-up ramp to %d req/s, %d s per stage; a stage fails at
                p99 >= 10 ms, any error, or < 95%% of the target rate; stages up to 500 req/s always run, faster ones
                stop at the first failed stage.

                **Highest rate held with p99 < 10 ms: %s.** Target p99 <= 1 ms at 500 req/s: %s.

                | stage | achieved req/s | requests | errors | decision ms p50 / p90 / p99 / p99.9 / max | from body sent p50 / p99 | schedule lag p50 / p99 | |
                |---|---|---|---|---|---|---|---|
                %s
                CPU over each stage's window (cores busy; CPU seconds per 1000 requests). Idle (no requests, %.0f s):
                EPP %.3f cores (its metrics scrapes), machine %.2f cores. "above idle" subtracts the EPP's idle rate;
                scheduling is the EPP's mean `inference_extension_scheduler_e2e_duration_seconds` when its metrics
                were given; GC pauses from the EPP's `-Xlog:gc` when given; "others" = processes not part of the benchmark.

                | stage | EPP cores | EPP CPU s/1000 req | above idle | scheduling ms (mean) | EPP GC pauses: n / total ms / max ms | fakes cores | generator cores | others | machine | load | endpoints picked |
                |---|---|---|---|---|---|---|---|---|---|---|---|
                %s
                EPP heap after the run (%s): used %.1f MiB of %.1f MiB committed, %.1f MiB after a full GC; RSS %.1f MiB
                (peak %.1f MiB).

                %s
                """, settings.epp, settings.targetName, settings.tls ? "TLS" : "plaintext", settings.endpoints,
                settings.channels, settings.minPromptBytes, settings.maxPromptBytes, settings.warmup.toSeconds(),
                settings.warmupRate, settings.stage.toSeconds(),
                best == null ? "none" : best.rate() + " req/s", target, latencyRows, idle.seconds(), idle.eppCores(),
                idle.machineCores(), cpuRows, heap.source(), heap.usedMiB(), heap.committedMiB(), heap.liveMiB(),
                heap.rssMiB(), heap.peakRssMiB(), EppOverheadPlots.markdown(plots));
        Files.writeString(settings.results.resolve("epp-overhead.md"), markdown);
        System.out.println();
        System.out.print(markdown);
        for (StageResult result : all) {
            if (!result.errorMessages().isEmpty()) {
                System.out.println("errors in " + result.name() + " (first " + result.errorMessages().size() + "): "
                        + result.errorMessages());
            }
        }
        System.out.println("\nresults: " + settings.results);
    }

    /** Command-line settings; {@code --quick} shortens the run for a smoke test. */
    private record Settings(Path results, String epp, String targetName, boolean tls, String eppMetrics, Path eppGcLog,
                            Map<String, Long> pids, int clockTicks, int endpoints, int channels, List<Integer> rates,
                            Duration idle, Duration warmup, int warmupRate, Duration stage, Duration requestTimeout,
                            String model, int minPromptBytes, int maxPromptBytes) {
        static Settings parse(String[] args) {
            Path results = Path.of("bench/results", "epp-overhead-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            String epp = null;
            String targetName = "lodestar";
            boolean tls = false;
            String eppMetrics = null;
            Path eppGcLog = null;
            Map<String, Long> pids = new LinkedHashMap<>();
            int clockTicks = 100;
            int endpoints = 100;
            int channels = 4;
            List<Integer> rates = List.of(100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000);
            int idle = 10;
            int warmup = 20;
            int warmupRate = 250;
            int stage = 30;
            int timeout = 10;
            String model = "meta-llama/Llama-3.1-8B-Instruct";
            int minPrompt = 1024;
            int maxPrompt = 32 * 1024;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> {
                        rates = List.of(100, 500, 1000, 2000);
                        idle = 5;
                        warmup = 8;
                        stage = 8;
                    }
                    case "--results" -> results = Path.of(args[++i]);
                    case "--epp" -> epp = args[++i];
                    case "--target-name" -> targetName = args[++i];
                    case "--tls" -> tls = true;
                    case "--epp-metrics" -> eppMetrics = args[++i].isEmpty() ? null : args[i];
                    case "--epp-gc-log" -> eppGcLog = Path.of(args[++i]);
                    case "--epp-pid" -> pids.put("epp", Long.parseLong(args[++i]));
                    case "--fakes-pid" -> pids.put("fakes", Long.parseLong(args[++i]));
                    case "--clock-ticks" -> clockTicks = Integer.parseInt(args[++i]);
                    case "--endpoints" -> endpoints = Integer.parseInt(args[++i]);
                    case "--channels" -> channels = Integer.parseInt(args[++i]);
                    case "--rates" -> rates = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                    case "--idle-seconds" -> idle = Integer.parseInt(args[++i]);
                    case "--warmup-seconds" -> warmup = Integer.parseInt(args[++i]);
                    case "--warmup-rate" -> warmupRate = Integer.parseInt(args[++i]);
                    case "--stage-seconds" -> stage = Integer.parseInt(args[++i]);
                    case "--request-timeout-seconds" -> timeout = Integer.parseInt(args[++i]);
                    case "--model" -> model = args[++i];
                    case "--prompt-bytes" -> {
                        String[] range = args[++i].split("-");
                        minPrompt = Integer.parseInt(range[0]);
                        maxPrompt = Integer.parseInt(range[range.length - 1]);
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]
                            + " (known: --quick --results --epp --target-name --tls --epp-metrics --epp-gc-log --epp-pid --fakes-pid"
                            + " --clock-ticks --endpoints --channels --rates --idle-seconds --warmup-seconds --warmup-rate"
                            + " --stage-seconds --request-timeout-seconds --model --prompt-bytes MIN-MAX)");
                }
            }
            if (epp == null) {
                throw new IllegalArgumentException("--epp host:port is required");
            }
            if (minPrompt < 64 || maxPrompt < minPrompt || maxPrompt > 1 << 20) {
                throw new IllegalArgumentException("--prompt-bytes must be MIN-MAX with 64 <= MIN <= MAX <= 1 MiB");
            }
            return new Settings(results, epp, targetName, tls, eppMetrics, eppGcLog, pids, clockTicks, endpoints, channels,
                    rates.stream().sorted(Comparator.naturalOrder()).toList(), Duration.ofSeconds(idle),
                    Duration.ofSeconds(warmup), warmupRate, Duration.ofSeconds(stage), Duration.ofSeconds(timeout),
                    model, minPrompt, maxPrompt);
        }
    }
}
