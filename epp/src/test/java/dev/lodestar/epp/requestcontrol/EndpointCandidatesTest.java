package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class EndpointCandidatesTest {
    private static EndpointMetadata endpoint(String pod, String address, int port, int rank) {
        return new EndpointMetadata(EndpointKey.ofRank("default", pod, rank), pod, address, port,
                address + ":" + port, Map.of());
    }

    private final Datastore datastore = new Datastore();

    EndpointCandidatesTest() {
        datastore.replaceEndpoints(List.of(endpoint("p0", "10.0.0.1", 8000, 0), endpoint("p0", "10.0.0.1", 8001, 1),
                endpoint("p1", "10.0.0.2", 8000, 0), endpoint("p2", "fd00::3", 8000, 0)));
    }

    private List<String> locate(Optional<List<String>> hint, boolean disabled) {
        return new EndpointCandidates(datastore, disabled).locate(hint).stream()
                .map(Endpoint::toString).map(s -> s.substring(s.indexOf('@') + 1)).toList();
    }

    @Test
    void withoutAHintEveryEndpointIsACandidate() {
        assertThat(locate(Optional.empty(), false)).hasSize(4);
    }

    @Test
    void theHintMatchesByAddressSoEveryRankOfAListedPodQualifies() {
        assertThat(locate(Optional.of(List.of("10.0.0.1:9999")), false))
                .containsExactly("10.0.0.1:8000", "10.0.0.1:8001");
        assertThat(locate(Optional.of(List.of("[fd00::3]:8000", "10.0.0.2")), false))
                .containsExactlyInAnyOrder("10.0.0.2:8000", "[fd00::3]:8000");
    }

    @Test
    void anEmptyOrUnmatchedHintLeavesNothingUnlessFilteringIsDisabled() {
        assertThat(locate(Optional.of(List.of()), false)).isEmpty();
        assertThat(locate(Optional.of(List.of("192.168.1.99:8000")), false)).isEmpty();
        assertThat(locate(Optional.of(List.of()), true)).hasSize(4);
    }

    @Test
    void addressesAreParsedFromEveryForm() {
        assertThat(EndpointCandidates.addressOf("10.0.0.1:80")).isEqualTo("10.0.0.1");
        assertThat(EndpointCandidates.addressOf("10.0.0.1")).isEqualTo("10.0.0.1");
        assertThat(EndpointCandidates.addressOf("[::1]:80")).isEqualTo("::1");
        assertThat(EndpointCandidates.addressOf("fd00::1")).isEqualTo("fd00::1");
    }
}
