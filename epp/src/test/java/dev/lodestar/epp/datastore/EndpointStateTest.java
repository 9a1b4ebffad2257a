package dev.lodestar.epp.datastore;

import dev.lodestar.epp.framework.datalayer.AttributeKey;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndpointStateTest {
    private static final EndpointMetadata METADATA = new EndpointMetadata(EndpointKey.ofRank("default", "pod", 0), "pod",
            "10.0.0.1", 8000, "10.0.0.1:8000", Map.of());

    @Test
    void aNewEndpointHasNoMetricsYet() {
        EndpointState state = new EndpointState(METADATA);

        assertThat(state.metadata()).isSameAs(METADATA);
        assertThat(state.metrics()).isSameAs(EndpointMetrics.EMPTY);
        assertThat(state.metrics().updateTime()).isEqualTo(Instant.EPOCH);
    }

    @Test
    void aScrapeReplacesTheMetricsAsAWhole() {
        EndpointState state = new EndpointState(METADATA);
        EndpointMetrics scraped = EndpointMetrics.builder().waitingQueueSize(2).runningRequestsSize(5)
                .kvCacheUsagePercent(0.4).updateTime(Instant.parse("2026-01-01T00:00:00Z")).build();

        state.updateMetrics(scraped);

        assertThat(state.metrics()).isSameAs(scraped);
        assertThatThrownBy(() -> state.updateMetrics(null)).isInstanceOf(NullPointerException.class);
        assertThat(state.metrics()).isSameAs(scraped);
        assertThatThrownBy(() -> new EndpointState(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aSnapshotFreezesMetadataAndMetricsAndHasItsOwnAttributes() {
        EndpointState state = new EndpointState(METADATA);
        state.updateMetrics(EndpointMetrics.builder().waitingQueueSize(1).build());
        AttributeKey<Integer> prefix = AttributeKey.of("prefix-match", Integer.class);

        Endpoint first = state.snapshot();
        first.putAttribute(prefix, 7);
        EndpointMetadata moved = new EndpointMetadata(METADATA.key(), "pod", "10.0.0.9", 8000, "10.0.0.9:8000", Map.of());
        state.metadata(moved);
        state.updateMetrics(EndpointMetrics.builder().waitingQueueSize(8).build());
        Endpoint second = state.snapshot();

        assertThat(first.metadata().address()).isEqualTo("10.0.0.1");
        assertThat(first.metrics().waitingQueueSize()).isEqualTo(1);
        assertThat(first.attribute(prefix)).contains(7);
        assertThat(second.metadata()).isSameAs(moved);
        assertThat(second.metrics().waitingQueueSize()).isEqualTo(8);
        assertThat(second.attribute(prefix)).isEmpty();
    }
}
