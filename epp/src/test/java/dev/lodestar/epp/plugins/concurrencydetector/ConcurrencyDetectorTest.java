package dev.lodestar.epp.plugins.concurrencydetector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.ProfileRunResult;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ConcurrencyDetectorTest {
    private final Endpoint a = Fixtures.endpoint("10.0.0.1", 8000);
    private final Endpoint b = Fixtures.endpoint("10.0.0.2", 8000);

    private static ConcurrencyDetector detector(String parameters) {
        return new ConcurrencyDetector("cd",
                PluginParameters.decode("cd", Fixtures.params(parameters), ConcurrencyDetector.Params.class));
    }

    private static SchedulingResult routedTo(Endpoint... targets) {
        return new SchedulingResult(Map.of("default", new ProfileRunResult(List.of(targets))), "default");
    }

    private static LlmRequest request(String id, long sizeBytes) {
        return Fixtures.request(id, "model", Map.of(), 0, sizeBytes);
    }

    private static void send(ConcurrencyDetector detector, String id, Endpoint... targets) {
        detector.preRequest(request(id, 0), routedTo(targets), new HashMap<>());
    }

    private static void finish(ConcurrencyDetector detector, String id, Endpoint served) {
        detector.responseBody(request(id, 0), new Response(id, Map.of(), true, null), served.metadata());
    }

    @Test
    void saturationIsInFlightOverCapacityAcrossTheCandidates() {
        ConcurrencyDetector detector = detector("{\"maxConcurrency\":2}");
        send(detector, "r1", a);
        send(detector, "r2", a);
        send(detector, "r3", b);

        assertThat(detector.inFlight(a.metadata().key()).requests()).isEqualTo(2);
        assertThat(detector.saturation(List.of(a, b))).isCloseTo(0.75, within(1e-12));
        assertThat(detector.saturation(List.of(a))).isCloseTo(1.0, within(1e-12));
        assertThat(detector.saturation(List.of())).isEqualTo(1.0);
        assertThat(detector.filter(new CycleState(), Fixtures.request("x"), List.of(a, b))).containsExactly(b);
    }

    @Test
    void countsOnlyThePrimaryTargetNotTheFallbacks() {
        ConcurrencyDetector detector = detector("{}");
        send(detector, "r1", a, b);

        assertThat(detector.inFlight(a.metadata().key()).requests()).isEqualTo(1);
        assertThat(detector.inFlight(b.metadata().key())).isEqualTo(ConcurrencyDetector.InFlight.NONE);
    }

    @Test
    void releasesExactlyOnceAtTheEndOfTheResponse() {
        ConcurrencyDetector detector = detector("{}");
        send(detector, "r1", a);
        send(detector, "r1", a); // the same request again is not counted twice

        detector.responseBody(request("r1", 0), new Response("r1", Map.of(), false, null), a.metadata());
        assertThat(detector.inFlight(a.metadata().key()).requests()).isEqualTo(1);

        finish(detector, "r1", a);
        finish(detector, "r1", a);
        finish(detector, "never-sent", a);
        assertThat(detector.inFlight(a.metadata().key()).requests()).isZero();
    }

    @Test
    void releasesFromTheEndpointItCountedOn() {
        ConcurrencyDetector detector = detector("{}");
        send(detector, "r1", a);

        finish(detector, "r1", b); // the proxy fell back to b

        assertThat(detector.inFlight(a.metadata().key()).requests()).isZero();
        assertThat(detector.inFlight(b.metadata().key()).requests()).isZero();
    }

    @Test
    void aFailedScheduleCountsNothing() {
        ConcurrencyDetector detector = detector("{}");
        detector.preRequest(request("r1", 0), new SchedulingResult(Map.of("default", ProfileRunResult.FAILED), "default"),
                new HashMap<>());

        assertThat(detector.inFlight(a.metadata().key())).isEqualTo(ConcurrencyDetector.InFlight.NONE);
    }

    @Test
    void aForgottenEndpointComesBackEmpty() {
        ConcurrencyDetector detector = detector("{}");
        send(detector, "old", a);
        detector.forget(a.metadata().key());
        send(detector, "new", a);

        finish(detector, "old", a);

        assertThat(detector.inFlight(a.metadata().key()).requests()).isEqualTo(1);
    }

    @Test
    void filterLimitIsCapacityTimesOnePlusHeadroomTruncated() {
        ConcurrencyDetector detector = detector("{\"maxConcurrency\":3,\"headroom\":0.5}"); // limit 4
        for (int i = 0; i < 4; i++) {
            send(detector, "a" + i, a);
        }
        for (int i = 0; i < 3; i++) {
            send(detector, "b" + i, b);
        }

        assertThat(detector.filter(new CycleState(), Fixtures.request("x"), List.of(a, b))).containsExactly(b);
        assertThat(detector.saturation(List.of(a, b))).isCloseTo(7.0 / 6, within(1e-12));
        send(detector, "b3", b);
        assertThat(detector.filter(new CycleState(), Fixtures.request("x"), List.of(a, b))).isEmpty();
    }

    @Test
    void tokensModeCountsEstimatedTokens() {
        ConcurrencyDetector detector = detector("{\"concurrencyMode\":\"tokens\",\"maxTokenConcurrency\":1000}");
        // 400 bytes -> 100 input tokens + 150 expected output tokens
        detector.preRequest(request("r1", 400), routedTo(a), new HashMap<>());
        detector.preRequest(request("r2", 1200), routedTo(a), new HashMap<>());

        assertThat(detector.inFlight(a.metadata().key())).isEqualTo(new ConcurrencyDetector.InFlight(2, 250 + 750));
        assertThat(detector.saturation(List.of(a, b))).isCloseTo(1000.0 / 2000, within(1e-12));
        assertThat(detector.filter(new CycleState(), Fixtures.request("x"), List.of(a, b))).containsExactly(b);

        finish(detector, "r2", a);
        assertThat(detector.inFlight(a.metadata().key())).isEqualTo(new ConcurrencyDetector.InFlight(1, 250));
        assertThat(detector.filter(new CycleState(), Fixtures.request("x"), List.of(a, b))).containsExactly(a, b);
    }

    @Test
    void tokenEstimateFollowsUpstream() {
        assertThat(TokenEstimate.of(request("r", 400))).isEqualTo(250);
        assertThat(TokenEstimate.of(request("r", 3))).isEqualTo(1 + 2);
        ObjectNode payload = new ObjectMapper().createObjectNode().put("model", "m").put("prompt", "0123456789");
        LlmRequest unsized = new LlmRequest("r", "m", "m",
                LlmRequestBody.parsed(ApiType.COMPLETIONS, payload, payload.toString().getBytes()), Map.of(), 0, null, 0);
        // 10 characters / 4 = 2.5 -> 3 input tokens; 3 x 1.5 = 4.5 -> 5 output tokens
        assertThat(TokenEstimate.of(unsized)).isEqualTo(8);
    }

    @Test
    void accountingStaysExactUnderConcurrentRequestsAndDuplicateReleases() throws Exception {
        ConcurrencyDetector detector = detector("{\"concurrencyMode\":\"tokens\"}");
        int threads = 8;
        int perThread = 2000;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            runConcurrently(pool, threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    detector.preRequest(request(t + "-" + i, 40), routedTo(i % 2 == 0 ? a : b), new HashMap<>());
                }
            });
            assertThat(detector.inFlight(a.metadata().key())).isEqualTo(
                    new ConcurrencyDetector.InFlight(threads * perThread / 2, threads * perThread / 2 * 25L));
            assertThat(detector.inFlight(b.metadata().key()).requests()).isEqualTo(threads * perThread / 2);

            // Every request is released by two threads at once; each must count once.
            runConcurrently(pool, threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    for (int owner : new int[] {t, (t + 1) % threads}) {
                        String id = owner + "-" + i;
                        detector.responseBody(request(id, 40), new Response(id, Map.of(), true, null), a.metadata());
                    }
                }
            });
            assertThat(detector.inFlight(a.metadata().key())).isEqualTo(new ConcurrencyDetector.InFlight(0, 0));
            assertThat(detector.inFlight(b.metadata().key())).isEqualTo(new ConcurrencyDetector.InFlight(0, 0));

            // Sends and releases interleaved across threads.
            runConcurrently(pool, threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    String id = "mixed-" + t + "-" + i;
                    detector.preRequest(request(id, 40), routedTo(a), new HashMap<>());
                    detector.responseBody(request(id, 40), new Response(id, Map.of(), true, null), a.metadata());
                }
            });
            assertThat(detector.inFlight(a.metadata().key())).isEqualTo(new ConcurrencyDetector.InFlight(0, 0));
        }
    }

    private interface PerThread {
        void run(int thread);
    }

    private static void runConcurrently(ExecutorService pool, int threads, PerThread work) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                start.await();
                work.run(thread);
                return null;
            }));
        }
        start.countDown();
        for (Future<?> future : futures) {
            future.get();
        }
    }

    @Test
    void parameters() {
        ConcurrencyDetector.Params defaults = new ConcurrencyDetector.Params(null, null, null, null);
        assertThat(defaults).isEqualTo(new ConcurrencyDetector.Params("requests", 100L, 1_000_000L, 0.0));
        assertThat(defaults.mode()).isEqualTo(ConcurrencyDetector.Mode.REQUESTS);
        assertThat(ConcurrencyDetector.FACTORY.create("cd", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("concurrency-detector", "cd"));

        assertThatThrownBy(() -> detector("{\"concurrencyMode\":\"bytes\",\"maxConcurrency\":0,"
                + "\"maxTokenConcurrency\":-1,\"headroom\":-0.5}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("maxConcurrency must be strictly positive, got 0")
                .hasMessageContaining("maxTokenConcurrency must be strictly positive, got -1")
                .hasMessageContaining("headroom must be a non-negative value, got -0.5")
                .hasMessageContaining("unsupported concurrencyMode: \"bytes\"");
        assertThatThrownBy(() -> detector("{\"concurrencyMode\":\"Tokens\"}")).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> detector("{\"maxConcurrency\":10.5}")).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> detector("{\"mode\":\"tokens\"}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'mode'");
    }
}
