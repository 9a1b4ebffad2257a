package dev.lodestar.epp.plugins.inflightload;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.scheduling.ApiType;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.LlmRequest;
import dev.lodestar.epp.framework.scheduling.LlmRequestBody;
import dev.lodestar.epp.framework.scheduling.SchedulingResult;
import dev.lodestar.epp.plugins.attributes.InFlightLoad;
import dev.lodestar.epp.plugins.attributes.PrefixCacheMatchInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static dev.lodestar.epp.plugins.PluginTestFixtures.JSON;
import static dev.lodestar.epp.plugins.PluginTestFixtures.endpoint;
import static dev.lodestar.epp.plugins.PluginTestFixtures.handle;
import static dev.lodestar.epp.plugins.PluginTestFixtures.key;
import static dev.lodestar.epp.plugins.PluginTestFixtures.params;
import static dev.lodestar.epp.plugins.PluginTestFixtures.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InFlightLoadProducerTest {
    private static InFlightLoadProducer producer(String json) {
        return (InFlightLoadProducer) InFlightLoadProducer.FACTORY.create("inflight-load-producer", params(json), handle());
    }

    /** A chat request of {@code bytes} bytes: GIE estimates bytes / 4 input tokens. */
    private static LlmRequest request(String id, long bytes) {
        return request(id, bytes, JSON.createObjectNode());
    }

    private static LlmRequest request(String id, long bytes, ObjectNode payload) {
        payload.put("model", "m").putArray("messages").addObject().put("role", "user").put("content", "hi");
        LlmRequestBody body = LlmRequestBody.parsed(ApiType.CHAT_COMPLETIONS, payload,
                payload.toString().getBytes(StandardCharsets.UTF_8));
        return new LlmRequest(id, "m", "m", body, Map.of(), 0, null, bytes);
    }

    private static Response chunk(String id) {
        return new Response(id, Map.of(), false, null);
    }

    private static Response end(String id) {
        return new Response(id, Map.of(), true, null);
    }

    @Test
    void isRegisteredUnderItsUpstreamType() {
        assertThat(PluginRegistry.builtIn().factory("inflight-load-producer")).isPresent();
        assertThat(producer("{}").produces()).containsExactly("InFlightLoadDataKey/inflight-load-producer");
    }

    @Test
    void chargesRequestAndInputTokensAndWritesTheLoadOnCandidates() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        producer.preRequest(request("r1", 400), result(a), new HashMap<>());
        producer.preRequest(request("r2", 4000), result(a), new HashMap<>());

        Endpoint viewA = endpoint("a");
        Endpoint viewB = endpoint("b");
        producer.prepareRequestData(request("r3", 40), List.of(viewA, viewB));

        assertThat(viewA.attribute(InFlightLoad.key(""))).contains(new InFlightLoad(1100, 2));
        assertThat(viewB.attribute(InFlightLoad.key(""))).contains(InFlightLoad.IDLE);
    }

    @Test
    void firstChunkReleasesTokensAndEndOfStreamTheRequest() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        LlmRequest request = request("r1", 400);
        producer.preRequest(request, result(a), new HashMap<>());
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(100, 1));

        producer.responseBody(request, chunk("r1"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(0, 1));
        producer.responseBody(request, chunk("r1"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(0, 1));

        producer.responseBody(request, end("r1"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(InFlightLoad.IDLE);
        assertThat(producer.trackedRequests()).isZero();
    }

    @Test
    void bufferedResponseReleasesEverythingAtOnce() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        LlmRequest request = request("r1", 400);
        producer.preRequest(request, result(a), new HashMap<>());
        producer.responseBody(request, end("r1"), a.metadata());
        producer.responseBody(request, end("r1"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(InFlightLoad.IDLE);
    }

    @Test
    void onlyTheUncachedPartOfThePromptIsCharged() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        // 2 of 4 16-token blocks cached: 32 uncached indexed tokens plus 100 - 64 tokens past the index.
        a.putAttribute(PrefixCacheMatchInfo.key(""), new PrefixCacheMatchInfo(2, 4, 16));
        producer.preRequest(request("r1", 400), result(a), new HashMap<>());
        assertThat(producer.load(key("a")).tokens()).isEqualTo(68);

        Endpoint fully = endpoint("b");
        fully.putAttribute(PrefixCacheMatchInfo.key(""), new PrefixCacheMatchInfo(6, 6, 16));
        producer.preRequest(request("r2", 256), result(fully), new HashMap<>());
        assertThat(producer.load(key("b")).tokens()).isZero();
    }

    @Test
    void prefillChargeIsReleasedWhenTheFirstChunkArrives() {
        InFlightLoadProducer producer = producer("{\"addEstimatedOutputTokens\": true}");
        Endpoint decode = endpoint("decode");
        Endpoint prefill = endpoint("prefill-pod");
        Map<String, Endpoint> picks = new LinkedHashMap<>();
        picks.put("decode", decode);
        picks.put("prefill", prefill);
        LlmRequest request = request("r1", 400);
        producer.preRequest(request, result(picks), new HashMap<>());
        // input 100 + output round(100 x 1.5) on each profile's target
        assertThat(producer.load(key("decode"))).isEqualTo(new InFlightLoad(250, 1));
        assertThat(producer.load(key("prefill-pod"))).isEqualTo(new InFlightLoad(250, 1));

        producer.responseBody(request, chunk("r1"), decode.metadata());
        assertThat(producer.load(key("prefill-pod"))).isEqualTo(InFlightLoad.IDLE);
        assertThat(producer.load(key("decode"))).isEqualTo(new InFlightLoad(250, 1));

        producer.responseBody(request, end("r1"), decode.metadata());
        assertThat(producer.load(key("decode"))).isEqualTo(InFlightLoad.IDLE);
    }

    @Test
    void outputEstimateIsCappedByTheClientAndTheOperator() {
        InFlightLoadProducer capped = producer("{\"addEstimatedOutputTokens\": true, \"maxEstimatedOutputTokens\": 40}");
        ObjectNode payload = JSON.createObjectNode().put("max_completion_tokens", 60).put("max_tokens", 10);
        capped.preRequest(request("r1", 400, payload), result(endpoint("a")), new HashMap<>());
        assertThat(capped.load(key("a")).tokens()).isEqualTo(100 + 40);

        InFlightLoadProducer clientOnly = producer("{\"addEstimatedOutputTokens\": true, \"outputRatio\": 2.0}");
        clientOnly.preRequest(request("r2", 400, JSON.createObjectNode().put("max_completion_tokens", 60)),
                result(endpoint("b")), new HashMap<>());
        assertThat(clientOnly.load(key("b")).tokens()).isEqualTo(100 + 60);
        clientOnly.preRequest(request("r3", 400, JSON.createObjectNode().put("max_tokens", -5)),
                result(endpoint("c")), new HashMap<>());
        assertThat(clientOnly.load(key("c")).tokens()).isEqualTo(100 + 200);
    }

    @Test
    void inputEstimateFollowsGie() {
        assertThat(InFlightLoadProducer.estimateInputTokens(request("r", 2))).isEqualTo(1);
        assertThat(InFlightLoadProducer.estimateInputTokens(request("r", 4001))).isEqualTo(1000);
        // Without a size: prompt characters / 4, rounded ("hi " = 3 characters -> 1).
        assertThat(InFlightLoadProducer.estimateInputTokens(request("r", 0))).isEqualTo(1);
    }

    @Test
    void aDuplicateRequestIdIsNotTrackedTwice() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        producer.preRequest(request("same", 400), result(a), new HashMap<>());
        producer.preRequest(request("same", 800), result(a), new HashMap<>());
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(100, 1));
        producer.responseBody(request("same", 400), end("same"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(InFlightLoad.IDLE);
    }

    @Test
    void forgottenEndpointRestartsAtZeroAndOldReleasesDoNotTouchIt() {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        LlmRequest old = request("old", 400);
        producer.preRequest(old, result(a), new HashMap<>());
        producer.forgetEndpoint(key("a"));
        assertThat(producer.load(key("a"))).isEqualTo(InFlightLoad.IDLE);

        producer.preRequest(request("new", 800), result(a), new HashMap<>());
        producer.responseBody(old, end("old"), a.metadata());
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(200, 1));
    }

    @Test
    void concurrentRequestsAndDisconnectsReleaseExactlyOnce() throws Exception {
        InFlightLoadProducer producer = producer("{}");
        Endpoint[] endpoints = {endpoint("a"), endpoint("b"), endpoint("c")};
        int threads = 8;
        int perThread = 2_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        String id = thread + "-" + i;
                        Endpoint target = endpoints[i % endpoints.length];
                        LlmRequest request = request(id, 4L * (1 + i % 50));
                        SchedulingResult picked = result(target);
                        producer.preRequest(request, picked, new HashMap<>());
                        // The last chunk and the disconnect's forced end of stream race on two threads.
                        CountDownLatch go = new CountDownLatch(1);
                        Thread disconnect = Thread.ofVirtual().start(() -> {
                            try {
                                go.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            producer.responseBody(request, end(id), target.metadata());
                        });
                        go.countDown();
                        producer.responseBody(request, chunk(id), target.metadata());
                        producer.responseBody(request, end(id), target.metadata());
                        disconnect.join();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(failure.get()).isNull();
        for (Endpoint endpoint : endpoints) {
            assertThat(producer.load(endpoint.metadata().key())).isEqualTo(InFlightLoad.IDLE);
        }
        assertThat(producer.trackedRequests()).isZero();
    }

    @Test
    void countersAreExactWhileRequestsAreInFlightConcurrently() throws Exception {
        InFlightLoadProducer producer = producer("{}");
        Endpoint a = endpoint("a");
        int threads = 8;
        int perThread = 500;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            workers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    producer.preRequest(request(thread + "-" + i, 40), result(a), new HashMap<>());
                }
            }));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(producer.load(key("a"))).isEqualTo(new InFlightLoad(10L * threads * perThread, (long) threads * perThread));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> producer("{\"outputRatio\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("outputRatio");
        assertThatThrownBy(() -> producer("{\"maxEstimatedOutputTokens\": -1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("maxEstimatedOutputTokens");
        assertThatThrownBy(() -> producer("{\"queueThresholdTokens\": 1}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter");
        assertThat(producer("{\"syncCrossReplicaState\": false, \"prefixMatchInfoProducerName\": \"p\"}"))
                .isNotNull();
    }
}
