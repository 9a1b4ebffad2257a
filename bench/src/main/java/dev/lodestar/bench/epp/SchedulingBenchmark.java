package dev.lodestar.bench.epp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.epp.config.ConfigLoader;
import dev.lodestar.epp.config.EppConfig;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.Scheduler;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.metrics.EppMetrics;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One scheduling decision with GIE's default configuration: approx-prefix-cache-producer (PrepareData),
 * then profile {@code default} with queue-scorer x2, kv-cache-utilization-scorer x2, prefix-cache-scorer x3
 * and max-score-picker under single-profile-handler, over {@code endpoints} candidates whose prefix index
 * holds 1M blocks.
 *
 * <p>Workload: chat requests of a 2,048-character system prompt from one of 2,048 families and a
 * 2,048-character user message of their own (about 66 blocks of 16 tokens; the family's 32 head blocks
 * match on the endpoints that served it). The warm index was built through the producer from such
 * requests, each family served mostly by endpoint {@code family mod endpoints}.
 * <ul>
 *   <li>{@code decision}: per-request endpoint views (as the datastore's snapshot), PrepareData, Schedule.</li>
 *   <li>{@code decisionAndRecord}: the same plus the producer's PreRequest (queues the pick for the
 *       index writer, which runs on another thread).</li>
 * </ul>
 * The request bodies are built once: the JSON the prefix is hashed from is cached on the body, as it is
 * for a real request after parsing; hashing and everything after it is measured.
 *
 * <p>The plugins are the real ones, built by the EPP's {@link ConfigLoader} from the empty configuration
 * (GIE's defaults), with the EPP's metrics as the per-plugin timer, as in a running EPP.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SchedulingBenchmark {
    static final long INDEX_BLOCKS = 1_000_000;
    static final int FAMILIES = 2048;
    static final int PROMPT_CHARS = 2048;
    static final int REQUESTS = 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Param({"10", "100", "1000"})
    public int endpoints;

    private EndpointMetadata[] metadata;
    private EndpointMetrics[] metrics;
    private ApproxPrefixCacheProducer producer;
    private Scheduler scheduler;
    private LlmRequest[] requests;
    private int next;
    private long requestIds;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        int capacity = (int) Math.max(31_250, 2 * INDEX_BLOCKS / endpoints);
        metadata = new EndpointMetadata[endpoints];
        metrics = new EndpointMetrics[endpoints];
        for (int i = 0; i < endpoints; i++) {
            String pod = "vllm-" + i;
            metadata[i] = new EndpointMetadata(EndpointKey.ofRank("bench", pod, 0), pod,
                    "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 8000, "metrics:9090", Map.of());
            metrics[i] = EndpointMetrics.builder()
                    .waitingQueueSize(random.nextInt(20))
                    .runningRequestsSize(random.nextInt(64))
                    .kvCacheUsagePercent(random.nextDouble())
                    .cacheBlockSize(16)
                    .cacheNumBlocks(capacity)
                    .build();
        }
        List<EndpointMetadata> pool = List.of(metadata);
        EppConfig config = new ConfigLoader(PluginRegistry.builtIn(), () -> pool, EppMetrics.builder().build())
                .load(Optional.empty());
        producer = config.prepareData().stream().filter(ApproxPrefixCacheProducer.class::isInstance)
                .map(ApproxPrefixCacheProducer.class::cast).findFirst()
                .orElseThrow(() -> new IllegalStateException("the default configuration has no prefix producer"));
        scheduler = config.scheduler();

        warmIndex(random);
        requests = new LlmRequest[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            requests[i] = request(random.nextInt(FAMILIES), random);
        }
        System.out.printf("%nscheduling warm: %d endpoints, %,d blocks in the prefix index%n",
                endpoints, producer.indexedBlocks());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf("%nprefix index after: %,d blocks, %,d dropped updates%n", producer.indexedBlocks(),
                producer.droppedUpdates());
        producer.close();
    }

    @Benchmark
    public SchedulingResult decision() {
        LlmRequest request = requests[next++ & (REQUESTS - 1)];
        List<Endpoint> candidates = candidates();
        producer.prepareRequestData(request, candidates);
        return scheduler.schedule(request, candidates);
    }

    @Benchmark
    public SchedulingResult decisionAndRecord() {
        LlmRequest request = requests[next++ & (REQUESTS - 1)];
        List<Endpoint> candidates = candidates();
        producer.prepareRequestData(request, candidates);
        SchedulingResult result = scheduler.schedule(request, candidates);
        producer.preRequest(request, result, new HashMap<>(2));
        return result;
    }

    /** Per-request views of every endpoint, as the datastore's snapshot makes them. */
    private List<Endpoint> candidates() {
        List<Endpoint> views = new ArrayList<>(metadata.length);
        for (int i = 0; i < metadata.length; i++) {
            views.add(new Endpoint(metadata[i], metrics[i]));
        }
        return views;
    }

    /** Serves requests through the producer, each family mostly on one endpoint, until 1M blocks are indexed. */
    private void warmIndex(SplittableRandom random) {
        int served = 0;
        while (producer.indexedBlocks() < INDEX_BLOCKS) {
            int family = random.nextInt(FAMILIES);
            int home = random.nextInt(5) == 0 ? random.nextInt(endpoints) : family % endpoints;
            Endpoint target = new Endpoint(metadata[home], metrics[home]);
            LlmRequest request = request(family, random);
            producer.prepareRequestData(request, List.of(target));
            SchedulingResult result = new SchedulingResult(
                    Map.of("default", new ProfileRunResult(List.of(target))), "default");
            producer.preRequest(request, result, new HashMap<>());
            if (++served % 512 == 0) {
                producer.flush().join();
            }
        }
        producer.flush().join();
    }

    private LlmRequest request(int family, SplittableRandom random) {
        ObjectNode payload = JSON.createObjectNode().put("model", "meta-llama/Llama-3.1-8B-Instruct");
        ArrayNode messages = payload.putArray("messages");
        messages.addObject().put("role", "system").put("content", text(new SplittableRandom(family), PROMPT_CHARS));
        messages.addObject().put("role", "user").put("content", text(random, PROMPT_CHARS));
        byte[] raw = payload.toString().getBytes(StandardCharsets.UTF_8);
        return new LlmRequest("req-" + requestIds++, "meta-llama/Llama-3.1-8B-Instruct",
                "meta-llama/Llama-3.1-8B-Instruct", LlmRequestBody.parsed(ApiType.CHAT_COMPLETIONS, payload, raw),
                Map.of(), 0, null, raw.length);
    }

    private static String text(SplittableRandom random, int chars) {
        StringBuilder text = new StringBuilder(chars);
        while (text.length() < chars) {
            text.append((char) ('a' + random.nextInt(26)));
            if (random.nextInt(6) == 0) {
                text.append(' ');
            }
        }
        text.setLength(chars);
        return text.toString();
    }
}
