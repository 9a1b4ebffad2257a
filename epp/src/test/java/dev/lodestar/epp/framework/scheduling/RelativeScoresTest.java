package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RelativeScoresTest {
    private static List<Endpoint> queues(int... sizes) {
        return IntStream.range(0, sizes.length).mapToObj(i -> new Endpoint(
                new EndpointMetadata(EndpointKey.ofRank("default", "pod-" + i, 0), "pod-" + i, "10.0.0." + (i + 1), 8000,
                        "10.0.0." + (i + 1) + ":8000", Map.of()),
                EndpointMetrics.builder().waitingQueueSize(sizes[i]).build())).toList();
    }

    @Test
    void theLowestScoresOneTheHighestZeroAndTheRestInProportion() {
        double[] scores = RelativeScores.lowerIsBetter(queues(3, 0, 10, 5), EndpointMetrics::waitingQueueSize);

        assertThat(scores).containsExactly(new double[] {0.7, 1.0, 0.0, 0.5}, within(1e-12));
    }

    @Test
    void equalValuesAllScoreOne() {
        assertThat(RelativeScores.lowerIsBetter(queues(4, 4, 4), EndpointMetrics::waitingQueueSize))
                .containsExactly(1.0, 1.0, 1.0);
        assertThat(RelativeScores.lowerIsBetter(queues(7), EndpointMetrics::waitingQueueSize)).containsExactly(1.0);
        assertThat(RelativeScores.lowerIsBetter(List.of(), EndpointMetrics::waitingQueueSize)).isEmpty();
    }

    @Test
    void extremeValuesDoNotOverflow() {
        double[] scores = RelativeScores.lowerIsBetter(queues(Integer.MAX_VALUE, Integer.MIN_VALUE, 0),
                EndpointMetrics::waitingQueueSize);

        assertThat(scores).containsExactly(new double[] {0.0, 1.0, 0.5}, within(1e-9));
    }
}
