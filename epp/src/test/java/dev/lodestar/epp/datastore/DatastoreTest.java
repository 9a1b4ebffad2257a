package dev.lodestar.epp.datastore;

import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.api.inference.ObjectMeta;
import dev.lodestar.api.inference.PoolRef;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DatastoreTest {
    private final Datastore datastore = new Datastore();
    private final List<String> events = new ArrayList<>();
    private final EndpointListener recording = new EndpointListener() {
        @Override
        public void endpointAdded(EndpointState endpoint) {
            events.add("+" + endpoint.metadata().key().name());
        }

        @Override
        public void endpointRemoved(EndpointState endpoint) {
            events.add("-" + endpoint.metadata().key().name());
        }
    };

    /** The endpoint of the {@code rank}-th target port of a pod, as pool sources build it (gie.md §3.1). */
    private static EndpointMetadata rank(String namespace, String pod, String ip, int rank, int port) {
        return new EndpointMetadata(EndpointKey.ofRank(namespace, pod, rank), pod, ip, port, ip + ":" + port,
                Map.of("app", "vllm"));
    }

    private static EndpointMetadata endpoint(String pod, String ip) {
        return rank("default", pod, ip, 0, 8000);
    }

    private List<String> names() {
        return datastore.endpoints().stream().map(state -> state.metadata().key().toString()).toList();
    }

    private static InferenceObjective objective(String namespace, String name, Integer priority) {
        return new InferenceObjective("inference.networking.x-k8s.io/v1alpha2", InferenceObjective.KIND,
                ObjectMeta.of(namespace, name, Instant.EPOCH),
                new InferenceObjective.Spec(priority, new PoolRef(null, null, "pool")));
    }

    private static InferenceModelRewrite rewrite(String name, String from, String to) {
        return new InferenceModelRewrite("inference.networking.x-k8s.io/v1alpha2", InferenceModelRewrite.KIND,
                ObjectMeta.of("default", name, Instant.EPOCH),
                new InferenceModelRewrite.Spec(new PoolRef(null, null, "pool"), List.of(new InferenceModelRewrite.Rule(
                        List.of(new InferenceModelRewrite.Match(new InferenceModelRewrite.ModelMatch("Exact", from))),
                        List.of(new InferenceModelRewrite.Target(null, to))))));
    }

    // ---------------------------------------------------------------- endpoints

    @Test
    void anEndpointIsNamedAfterItsPodAndTheIndexOfItsTargetPort() {
        assertThat(EndpointKey.ofRank("ns", "vllm-7f9c", 0)).isEqualTo(new EndpointKey("ns", "vllm-7f9c-rank-0"));
        assertThat(EndpointKey.ofRank("ns", "vllm-7f9c", 2).toString()).isEqualTo("ns/vllm-7f9c-rank-2");
    }

    @Test
    void eachRankOfAPodIsItsOwnEndpoint() {
        datastore.replaceEndpoints(List.of(rank("default", "pod", "10.0.0.1", 0, 8000),
                rank("default", "pod", "10.0.0.1", 1, 8001)));

        assertThat(names()).containsExactly("default/pod-rank-0", "default/pod-rank-1");
        assertThat(datastore.endpoints()).extracting(state -> state.metadata().hostPort())
                .containsExactly("10.0.0.1:8000", "10.0.0.1:8001");

        datastore.removeEndpoint(EndpointKey.ofRank("default", "pod", 1));
        assertThat(names()).containsExactly("default/pod-rank-0");
    }

    @Test
    void endpointsAreListedInKeyOrderNamespaceFirst() {
        datastore.upsertEndpoint(rank("b-ns", "a", "10.0.0.1", 0, 8000));
        datastore.upsertEndpoint(rank("a-ns", "z", "10.0.0.2", 0, 8000));
        datastore.upsertEndpoint(rank("a-ns", "m", "10.0.0.3", 0, 8000));

        assertThat(names()).containsExactly("a-ns/m-rank-0", "a-ns/z-rank-0", "b-ns/a-rank-0");
        assertThat(datastore.endpoint(EndpointKey.ofRank("a-ns", "z", 0))).map(s -> s.metadata().address())
                .contains("10.0.0.2");
        assertThat(datastore.endpoint(EndpointKey.ofRank("a-ns", "nope", 0))).isEmpty();
    }

    @Test
    void upsertUpdatesAnEndpointInPlaceKeepingItsMetricsAndWithoutANewAddEvent() {
        datastore.addListener(recording);
        datastore.upsertEndpoint(endpoint("pod-a", "10.0.0.1"));
        EndpointState state = datastore.endpoint(EndpointKey.ofRank("default", "pod-a", 0)).orElseThrow();
        EndpointMetrics metrics = EndpointMetrics.builder().waitingQueueSize(4).build();
        state.updateMetrics(metrics);

        EndpointMetadata relabelled = new EndpointMetadata(state.metadata().key(), "pod-a", "10.0.0.1", 8000,
                "10.0.0.1:8000", Map.of("app", "vllm", "role", "decode"));
        datastore.upsertEndpoint(relabelled);

        assertThat(datastore.endpoints()).singleElement().isSameAs(state);
        assertThat(state.metadata()).isEqualTo(relabelled);
        assertThat(state.metrics()).isSameAs(metrics);
        assertThat(events).containsExactly("+pod-a-rank-0");
    }

    @Test
    void listenersLearnOfAdditionsAndRemovalsOnly() {
        datastore.addListener(recording);

        datastore.upsertEndpoint(endpoint("pod-a", "10.0.0.1"));
        datastore.upsertEndpoint(endpoint("pod-b", "10.0.0.2"));
        datastore.removeEndpoint(EndpointKey.ofRank("default", "pod-a", 0));
        datastore.removeEndpoint(EndpointKey.ofRank("default", "never-there", 0));

        assertThat(events).containsExactly("+pod-a-rank-0", "+pod-b-rank-0", "-pod-a-rank-0");
        assertThat(names()).containsExactly("default/pod-b-rank-0");
    }

    @Test
    void replaceEndpointsAppliesTheDifference() {
        datastore.replaceEndpoints(List.of(endpoint("pod-a", "10.0.0.1"), endpoint("pod-b", "10.0.0.2")));
        EndpointState kept = datastore.endpoint(EndpointKey.ofRank("default", "pod-b", 0)).orElseThrow();
        datastore.addListener(recording);
        events.clear();

        datastore.replaceEndpoints(List.of(endpoint("pod-b", "10.0.0.22"), endpoint("pod-c", "10.0.0.3")));

        assertThat(events).containsExactlyInAnyOrder("+pod-c-rank-0", "-pod-a-rank-0");
        assertThat(names()).containsExactly("default/pod-b-rank-0", "default/pod-c-rank-0");
        assertThat(datastore.endpoint(kept.metadata().key())).containsSame(kept);
        assertThat(kept.metadata().address()).isEqualTo("10.0.0.22");

        events.clear();
        datastore.replaceEndpoints(List.of());
        assertThat(datastore.endpoints()).isEmpty();
        assertThat(events).containsExactlyInAnyOrder("-pod-b-rank-0", "-pod-c-rank-0");
    }

    @Test
    void aNewListenerIsToldAboutTheEndpointsAlreadyThere() {
        datastore.replaceEndpoints(List.of(endpoint("pod-b", "10.0.0.2"), endpoint("pod-a", "10.0.0.1")));

        datastore.addListener(recording);

        assertThat(events).containsExactly("+pod-a-rank-0", "+pod-b-rank-0");
    }

    @Test
    void aFailingListenerDoesNotStopThePoolUpdateNorTheOtherListeners() {
        datastore.addListener(new EndpointListener() {
            @Override
            public void endpointAdded(EndpointState endpoint) {
                throw new IllegalStateException("scraper could not start");
            }

            @Override
            public void endpointRemoved(EndpointState endpoint) {
                throw new IllegalStateException("scraper could not stop");
            }
        });
        datastore.addListener(recording);

        datastore.replaceEndpoints(List.of(endpoint("pod-a", "10.0.0.1"), endpoint("pod-b", "10.0.0.2")));
        datastore.upsertEndpoint(endpoint("pod-c", "10.0.0.3"));
        datastore.removeEndpoint(EndpointKey.ofRank("default", "pod-a", 0));

        assertThat(names()).containsExactly("default/pod-b-rank-0", "default/pod-c-rank-0");
        assertThat(events).containsExactlyInAnyOrder("+pod-a-rank-0", "+pod-b-rank-0", "+pod-c-rank-0", "-pod-a-rank-0");
    }

    @Test
    void readersGetImmutableSnapshots() {
        datastore.upsertEndpoint(endpoint("pod-a", "10.0.0.1"));
        List<EndpointState> before = datastore.endpoints();

        datastore.upsertEndpoint(endpoint("pod-b", "10.0.0.2"));

        assertThat(before).hasSize(1);
        assertThat(datastore.endpoints()).hasSize(2);
        assertThatThrownBy(() -> datastore.endpoints().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aSnapshotIsAFreshPerRequestViewWithTheCurrentMetrics() {
        datastore.replaceEndpoints(List.of(endpoint("pod-a", "10.0.0.1"), endpoint("pod-b", "10.0.0.2")));
        EndpointState a = datastore.endpoint(EndpointKey.ofRank("default", "pod-a", 0)).orElseThrow();
        a.updateMetrics(EndpointMetrics.builder().waitingQueueSize(3).build());

        List<Endpoint> first = datastore.snapshot();
        a.updateMetrics(EndpointMetrics.builder().waitingQueueSize(9).build());
        List<Endpoint> second = datastore.snapshot();

        assertThat(first).extracting(e -> e.metadata().podName()).containsExactly("pod-a", "pod-b");
        assertThat(first.getFirst().metrics().waitingQueueSize()).isEqualTo(3);
        assertThat(second.getFirst().metrics().waitingQueueSize()).isEqualTo(9);
        assertThat(second.get(1).metrics()).isEqualTo(EndpointMetrics.EMPTY);
        assertThat(second.getFirst()).isNotSameAs(first.getFirst());
    }

    // ---------------------------------------------------------------- objectives, rewrites, sync

    @Test
    void objectivesGivePrioritiesByNameWithUnsetMeaningZero() {
        datastore.replaceObjectives(List.of(objective("team-a", "critical", 100), objective("team-a", "batch", -5),
                objective("team-a", "plain", null)));

        assertThat(datastore.objectivePriority("critical")).hasValue(100);
        assertThat(datastore.objectivePriority("batch")).hasValue(-5);
        assertThat(datastore.objectivePriority("plain")).hasValue(0);
        assertThat(datastore.objectivePriority("unknown")).isEmpty();
        assertThat(datastore.objectivePriority("")).isEmpty();
        assertThat(datastore.objectives()).hasSize(3);
    }

    @Test
    void objectivesAreKeyedByNameOnlyWhateverTheirNamespace() {
        datastore.replaceObjectives(List.of(objective("other-ns", "critical", 3)));

        assertThat(datastore.objectivePriority("critical")).hasValue(3);
    }

    @Test
    void replacingObjectivesDropsTheOldOnes() {
        datastore.replaceObjectives(List.of(objective("ns", "critical", 100), objective("ns", "batch", -1)));

        datastore.replaceObjectives(List.of(objective("ns", "critical", 50)));

        assertThat(datastore.objectivePriority("critical")).hasValue(50);
        assertThat(datastore.objectivePriority("batch")).isEmpty();
        datastore.replaceObjectives(List.of());
        assertThat(datastore.objectives()).isEmpty();
    }

    @Test
    void replacingRewritesDropsTheOldOnes() {
        assertThat(datastore.rewrites().isEmpty()).isTrue();

        datastore.replaceRewrites(List.of(rewrite("r1", "a", "a2"), rewrite("r2", "b", "b2")));
        assertThat(datastore.rewrites().rewrite("a", new SplittableRandom(1)))
                .contains(new ModelRewrites.Decision("r1", "a2"));

        datastore.replaceRewrites(List.of(rewrite("r2", "b", "b3")));
        assertThat(datastore.rewrites().rewrite("a", new SplittableRandom(1))).isEmpty();
        assertThat(datastore.rewrites().rewrite("b", new SplittableRandom(1)))
                .contains(new ModelRewrites.Decision("r2", "b3"));

        datastore.replaceRewrites(List.of());
        assertThat(datastore.rewrites().isEmpty()).isTrue();
    }

    @Test
    void thePoolIsSyncedOnlyOnceItsSourceSaysSoAndStaysSynced() {
        assertThat(datastore.synced()).isFalse();
        datastore.replaceEndpoints(List.of(endpoint("pod-a", "10.0.0.1")));
        assertThat(datastore.synced()).isFalse();

        datastore.markSynced();
        datastore.replaceEndpoints(List.of());

        assertThat(datastore.synced()).isTrue();
    }
}
