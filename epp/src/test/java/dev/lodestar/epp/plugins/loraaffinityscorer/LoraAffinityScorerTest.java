package dev.lodestar.epp.plugins.loraaffinityscorer;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.framework.scheduling.PluginTimer;
import dev.lodestar.epp.framework.scheduling.ScorerCategory;
import dev.lodestar.epp.framework.scheduling.SchedulerProfile;
import dev.lodestar.epp.framework.scheduling.WeightedScorer;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.kvcacheutilizationscorer.KvCacheUtilizationScorer;
import dev.lodestar.epp.plugins.maxscorepicker.MaxScorePicker;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoraAffinityScorerTest {
    private static final String ADAPTER = "sql-lora-1fdg2";
    private final LoraAffinityScorer scorer = new LoraAffinityScorer("lora");

    private static Map<String, Integer> adapters(String... names) {
        return Arrays.stream(names).collect(Collectors.toMap(Function.identity(), name -> 0));
    }

    private static Endpoint lora(String ip, int maxLora, Map<String, Integer> active, Map<String, Integer> waiting) {
        return Fixtures.endpoint(ip, EndpointMetrics.builder().maxActiveModels(maxLora).activeModels(active)
                .waitingModels(waiting).build());
    }

    private double score(Endpoint endpoint) {
        return scorer.score(new CycleState(), Fixtures.request("r", ADAPTER, Map.of(), 0, 0), List.of(endpoint))[0];
    }

    @Test
    void scoresInUpstreamsOrderActiveThenFreeSlotThenWaiting() {
        assertThat(score(lora("10.0.0.1", 2, adapters(ADAPTER, "a", "b"), adapters()))).isEqualTo(1.0);
        // A free slot outranks the adapter already waiting on this server.
        assertThat(score(lora("10.0.0.2", 4, adapters("a"), adapters(ADAPTER)))).isEqualTo(0.8);
        assertThat(score(lora("10.0.0.3", 2, adapters("a"), adapters()))).isEqualTo(0.8);
        assertThat(score(lora("10.0.0.4", 2, adapters("a"), adapters(ADAPTER)))).isEqualTo(0.6);
        assertThat(score(lora("10.0.0.5", 2, adapters("a", "b"), adapters()))).isEqualTo(0.0);
        assertThat(score(lora("10.0.0.6", 2, adapters("a"), adapters("b")))).isEqualTo(0.0);
    }

    @Test
    void aServerWithoutMaxLoraNeverHasAFreeSlot() {
        assertThat(score(lora("10.0.0.1", 0, adapters(), adapters()))).isEqualTo(0.0);
        assertThat(score(lora("10.0.0.2", 0, adapters(), adapters(ADAPTER)))).isEqualTo(0.6);
        assertThat(score(lora("10.0.0.3", 0, adapters(ADAPTER), adapters()))).isEqualTo(1.0);
    }

    /** The GIE hermetic cases with queue, KV-cache and LoRA scorers at weight 1 (no LoRA metrics: max_lora 0). */
    private Endpoint hermeticPick(Endpoint... pods) {
        SplittableRandom random = new SplittableRandom(5);
        SchedulerProfile profile = new SchedulerProfile("default", List.of(), List.of(
                new WeightedScorer(new QueueScorer("queue"), 1), new WeightedScorer(new KvCacheUtilizationScorer("kv"), 1),
                new WeightedScorer(scorer, 1)), new MaxScorePicker("picker", 1, () -> random));
        return profile.run(new CycleState(), Fixtures.request("r", ADAPTER, Map.of(), 2, 0), List.of(pods),
                PluginTimer.NONE).targetEndpoints().getFirst();
    }

    private static Endpoint pod(int i, int queue, double kv, String... active) {
        return Fixtures.endpoint("192.168.1." + (i + 1), EndpointMetrics.builder().waitingQueueSize(queue)
                .kvCacheUsagePercent(kv).activeModels(adapters(active)).build());
    }

    @Test
    void gieHermeticSelectActiveLoraLowQueue() {
        // queue 1/1/0 + kv .8/.9/.8 + lora 0/1/0 = 1.8 / 2.9 / 0.8
        assertThat(hermeticPick(pod(0, 0, 0.2, "foo", "bar"), pod(1, 0, 0.1, "foo", ADAPTER),
                pod(2, 10, 0.2, "foo", "bar")).metadata().hostPort()).isEqualTo("192.168.1.2:8000");
    }

    @Test
    void gieHermeticSelectLoraDespiteHigherKvCache() {
        // queue 1/1/1 + kv .8/.6/.7 + lora 0/1/0 = 1.8 / 2.6 / 1.7
        assertThat(hermeticPick(pod(0, 10, 0.2, "foo", "bar"), pod(1, 10, 0.4, "foo", ADAPTER),
                pod(2, 10, 0.3, "foo")).metadata().hostPort()).isEqualTo("192.168.1.2:8000");
    }

    @Test
    void gieHermeticDoNotShedRequestsByDefault() {
        // queue .4/1/0 + kv .8/.15/.1 + lora 1/0/0 = 2.2 / 1.15 / 0.1
        assertThat(hermeticPick(pod(0, 6, 0.2, "foo", "bar", ADAPTER), pod(1, 0, 0.85), pod(2, 10, 0.9))
                .metadata().hostPort()).isEqualTo("192.168.1.1:8000");
    }

    @Test
    void isAnAffinityScorerWithoutParameters() {
        assertThat(scorer.category()).isEqualTo(ScorerCategory.AFFINITY);
        assertThat(LoraAffinityScorer.FACTORY.create("l", Fixtures.noParams(), Fixtures.HANDLE).typedName())
                .isEqualTo(new TypedName("lora-affinity-scorer", "l"));
        assertThatThrownBy(() -> Fixtures.create(LoraAffinityScorer.FACTORY, "l", "{\"maxActiveModels\":3}"))
                .isInstanceOf(InvalidConfigException.class);
    }
}
