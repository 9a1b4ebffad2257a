package dev.lodestar.simulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
    private EngineMetrics metrics;

    @AfterEach
    void stop() {
        clients.shutdownNow();
        timers.shutdownNow();
    }

    private Engine engine(SimulatorConfig.Builder config) {
        SimulatorConfig built = config.build();
        metrics = new EngineMetrics(built);
        return new Engine(built, timers, metrics);
    }

    private static SequenceSpec spec(int promptFrom, int promptLength, int outputLength, String adapter) {
        int[] prompt = IntStream.range(promptFrom, promptFrom + promptLength).toArray();
        int[] output = IntStream.range(0, outputLength).map(i -> 7_000_000 + i).toArray();
        return new SequenceSpec(prompt, output, Optional.ofNullable(adapter),
                KvCache.seed("model", adapter), FinishReason.LENGTH);
    }

    private Future<Engine.Outcome> start(Engine engine, SequenceSpec spec) {
        return clients.submit(() -> engine.generate(spec, index -> {
        }));
    }

    private static <T> T get(Future<T> future) throws Exception {
        return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }

    private PrometheusText scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRepeatedLongPrefixHitsTheCacheAndComesBackFaster() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().blockSize(16)
                .prefillOverhead(Duration.ofMillis(5)).prefillTimePerToken(Duration.ofMillis(1))
                .interTokenLatency(Duration.ofMillis(1)));
        Engine.Outcome cold = engine.generate(spec(0, 320, 3, null), index -> {
        });
        Engine.Outcome warm = engine.generate(spec(0, 320, 3, null), index -> {
        });

        assertThat(cold.cachedTokens()).isZero();
        assertThat(warm.cachedTokens()).as("19 full blocks of the 320-token prompt").isEqualTo(304);
        assertThat(cold.timeToFirstTokenNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(325).toNanos());
        assertThat(warm.timeToFirstTokenNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(21).toNanos())
                .isLessThan(cold.timeToFirstTokenNanos() / 3);
        PrometheusText scraped = scrape();
        Map<String, String> model = Map.of("model_name", SimulatorConfig.DEFAULT_MODEL);
        assertThat(scraped.value("vllm:prefix_cache_queries_total", model)).contains(640.0);
        assertThat(scraped.value("vllm:prefix_cache_hits_total", model)).contains(304.0);
    }

    @Test
    void aFullBatchQueuesFirstComeFirstServed() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().maxNumSeqs(2)
                .timeToFirstToken(Duration.ofMillis(20)).interTokenLatency(Duration.ofMillis(20)));
        List<Future<Engine.Outcome>> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(start(engine, spec(i * 1000, 40, 10, null)));
            int submitted = i + 1;
            await("request " + submitted + " is in the engine",
                    () -> engine.runningRequests() + engine.waitingRequests() == submitted);
        }
        assertThat(engine.runningRequests()).isEqualTo(2);
        assertThat(engine.waitingRequests()).isEqualTo(2);
        Map<String, String> model = Map.of("model_name", SimulatorConfig.DEFAULT_MODEL);
        assertThat(scrape().value("vllm:num_requests_waiting", model)).contains(2.0);
        assertThat(scrape().value("vllm:num_requests_running", model)).contains(2.0);

        List<Long> ttfts = new ArrayList<>();
        for (Future<Engine.Outcome> request : requests) {
            ttfts.add(get(request).timeToFirstTokenNanos());
        }
        // The two queued requests waited for a whole request (20 ms + 9 x 20 ms) before their prefill.
        assertThat(ttfts.get(2)).isGreaterThan(Duration.ofMillis(200).toNanos());
        assertThat(ttfts.get(3)).isGreaterThan(Duration.ofMillis(200).toNanos());
        assertThat(ttfts.get(0)).isLessThan(ttfts.get(2));
        assertThat(engine.waitingRequests()).isZero();
        assertThat(scrape().value("vllm:request_queue_time_seconds_count", model)).contains(4.0);
    }

    @Test
    void aRequestWithoutFreeKvBlocksWaitsEvenWithAFreeSlot() throws Exception {
        // 4 blocks of 16 tokens. A: 40 prompt + 8 output = 3 blocks; B: 20 + 4 = 2 blocks.
        Engine engine = engine(SimulatorConfig.builder().maxNumSeqs(4).kvCacheSize(4).blockSize(16).maxModelLen(64)
                .timeToFirstToken(Duration.ofMillis(10)).interTokenLatency(Duration.ofMillis(20)));
        SequenceSpec a = spec(0, 40, 8, null);
        Future<Engine.Outcome> first = start(engine, a);
        await("A runs", () -> engine.runningRequests() == 1);
        assertThat(engine.state().kvCacheUsage()).isEqualTo(0.75);

        Future<Engine.Outcome> second = start(engine, spec(5000, 20, 4, null));
        await("B waits", () -> engine.waitingRequests() == 1);
        assertThat(engine.runningRequests()).isEqualTo(1);

        get(first);
        get(second);
        Engine.State state = engine.state();
        assertThat(state.usedBlocks()).isZero();
        // B took the never-used block, then evicted the least recently freed cached block (A's last one).
        assertThat(state.evictions()).isEqualTo(1);
        assertThat(engine.generate(a, index -> {
        }).cachedTokens()).as("A's two full prompt blocks are still cached").isEqualTo(32);
    }

    @Test
    void loraRequestsWaitForTheAdapterToLoadAndAreReported() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().maxNumSeqs(4).maxLoras(1)
                .loraLoadTime(Duration.ofMillis(150))
                .timeToFirstToken(Duration.ofMillis(5)).interTokenLatency(Duration.ofMillis(20)));
        Future<Engine.Outcome> first = start(engine, spec(0, 20, 10, "food-review-1"));
        await("adapter loading", () -> engine.state().waitingAdapters().contains("food-review-1"));
        assertThat(engine.state().runningAdapters()).isEmpty();
        await("adapter running", () -> engine.state().runningAdapters().contains("food-review-1"));

        Future<Engine.Outcome> other = start(engine, spec(100, 20, 2, "sql-lora"));
        await("second adapter waits", () -> engine.state().waitingAdapters().contains("sql-lora"));
        Future<Engine.Outcome> base = start(engine, spec(200, 20, 2, null));
        Engine.Outcome baseOutcome = get(base);
        assertThat(other.isDone()).as("a base request overtakes a request waiting for an adapter slot").isFalse();
        assertThat(baseOutcome.timeToFirstTokenNanos()).isLessThan(Duration.ofMillis(100).toNanos());

        PrometheusText scraped = scrape();
        List<PrometheusText.Sample> series = scraped.all("vllm:lora_requests_info");
        PrometheusText.Sample latest = series.stream()
                .max((x, y) -> Double.compare(x.value(), y.value())).orElseThrow();
        assertThat(latest.labels()).containsEntry("max_lora", "1")
                .containsEntry("running_lora_adapters", "food-review-1")
                .containsEntry("waiting_lora_adapters", "sql-lora");

        assertThat(get(first).timeToFirstTokenNanos()).isGreaterThanOrEqualTo(Duration.ofMillis(150).toNanos());
        get(other);
        assertThat(engine.state().loadedAdapters()).containsExactly("sql-lora");
        assertThat(engine.state().runningAdapters()).isEmpty();
    }

    @Test
    void aClientThatGoesAwayReleasesItsSlotAndBlocks() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().interTokenLatency(Duration.ofMillis(1)));
        assertThatThrownBy(() -> engine.generate(spec(0, 40, 10, null), index -> {
            if (index == 3) {
                throw new IOException("broken pipe");
            }
        })).isInstanceOf(IOException.class);
        assertThat(engine.runningRequests()).isZero();
        assertThat(engine.state().usedBlocks()).isZero();
        assertThat(scrape().all("vllm:request_success_total")).isEmpty();
    }

    @Test
    void aFullWaitingQueueRejectsNewRequests() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().maxNumSeqs(1).maxWaitingQueueLength(1)
                .interTokenLatency(Duration.ofMillis(1)));
        Engine.Sequence running = engine.submit(spec(0, 10, 2, null), System.nanoTime());
        Engine.Sequence waiting = engine.submit(spec(100, 10, 2, null), System.nanoTime());
        assertThatThrownBy(() -> engine.submit(spec(200, 10, 2, null), System.nanoTime()))
                .isInstanceOf(EngineOverloadedException.class).hasMessageContaining("max-waiting-queue-length=1");
        List<Callable<Engine.Outcome>> runs = List.of(
                () -> engine.run(running, index -> {
                }),
                () -> engine.run(waiting, index -> {
                }));
        for (Future<Engine.Outcome> outcome : clients.invokeAll(runs)) {
            get(outcome);
        }
        assertThat(engine.runningRequests()).isZero();
        assertThat(engine.waitingRequests()).isZero();
    }

    @Test
    void tokensArriveAtTheInterTokenLatencyScaledByLoad() throws Exception {
        Engine engine = engine(SimulatorConfig.builder().maxNumSeqs(3).timeFactorUnderLoad(2.0)
                .timeToFirstToken(Duration.ofMillis(5)).interTokenLatency(Duration.ofMillis(10)));
        List<Long> arrivals = new ArrayList<>();
        engine.generate(spec(0, 10, 21, null), index -> arrivals.add(System.nanoTime()));
        long alone = (arrivals.get(20) - arrivals.get(0)) / 20;
        assertThat(alone).isBetween(Duration.ofMillis(9).toNanos(), Duration.ofMillis(12).toNanos());

        Future<Engine.Outcome> neighbour = start(engine, spec(100, 10, 200, null));
        Future<Engine.Outcome> other = start(engine, spec(200, 10, 200, null));
        await("two neighbours run", () -> engine.runningRequests() == 2);
        arrivals.clear();
        engine.generate(spec(300, 10, 21, null), index -> arrivals.add(System.nanoTime()));
        long loaded = (arrivals.get(20) - arrivals.get(0)) / 20;
        // Three running at max-num-seqs 3: factor 2.
        assertThat(loaded).isBetween(Duration.ofMillis(19).toNanos(), Duration.ofMillis(23).toNanos());
        get(neighbour);
        get(other);
    }
}
