package dev.lodestar.controllers;

import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PodEndpointsTest {
    private static PodView pod(String ip, boolean ready, boolean terminating, Map<String, String> annotations) {
        return new PodView("ns", "vllm-0", ip, ready, terminating, Map.of("app", "vllm"), annotations);
    }

    @Test
    void oneEndpointPerTargetPortNamedByRankAndScrapedOnItsOwnPort() {
        List<EndpointMetadata> endpoints = PodEndpoints.of(pod("10.0.0.7", true, false, Map.of()),
                List.of(8000, 8001), 0);

        assertThat(endpoints).containsExactly(
                new EndpointMetadata(new EndpointKey("ns", "vllm-0-rank-0"), "vllm-0", "10.0.0.7", 8000,
                        "10.0.0.7:8000", Map.of("app", "vllm")),
                new EndpointMetadata(new EndpointKey("ns", "vllm-0-rank-1"), "vllm-0", "10.0.0.7", 8001,
                        "10.0.0.7:8001", Map.of("app", "vllm")));
    }

    @Test
    void aPodThatIsNotReadyIsTerminatingOrHasNoIpHasNoEndpoints() {
        assertThat(PodEndpoints.of(pod("10.0.0.7", false, false, Map.of()), List.of(8000), 0)).isEmpty();
        assertThat(PodEndpoints.of(pod("10.0.0.7", true, true, Map.of()), List.of(8000), 0)).isEmpty();
        assertThat(PodEndpoints.of(pod("", true, false, Map.of()), List.of(8000), 0)).isEmpty();
    }

    @Test
    void theActivePortsAnnotationKeepsTheListedTargetPortsWithTheirOriginalRanks() {
        List<EndpointMetadata> endpoints = PodEndpoints.of(pod("10.0.0.7", true, false,
                Map.of(PodEndpoints.ACTIVE_PORTS_ANNOTATION, " 8002 , 9999, x, -1, 8000")), List.of(8000, 8001, 8002), 0);

        assertThat(endpoints).extracting(endpoint -> endpoint.key().name() + "@" + endpoint.port())
                .containsExactly("vllm-0-rank-0@8000", "vllm-0-rank-2@8002");
    }

    @Test
    void anActivePortsAnnotationWithNoTargetPortLeavesThePodWithoutEndpoints() {
        assertThat(PodEndpoints.of(pod("10.0.0.7", true, false, Map.of(PodEndpoints.ACTIVE_PORTS_ANNOTATION, "")),
                List.of(8000), 0)).isEmpty();
    }

    @Test
    void goScanfAcceptsTrailingTextAfterTheNumber() {
        assertThat(PodEndpoints.activePorts(pod("10.0.0.7", true, false,
                Map.of(PodEndpoints.ACTIVE_PORTS_ANNOTATION, "8001abc")), List.of(8000, 8001))).containsExactly(8001);
    }

    @Test
    void theDeprecatedMetricsPortAppliesOnlyToASinglePortPool() {
        assertThat(PodEndpoints.of(pod("10.0.0.7", true, false, Map.of()), List.of(8000), 9090))
                .singleElement().satisfies(endpoint -> assertThat(endpoint.metricsHost()).isEqualTo("10.0.0.7:9090"));
        assertThat(PodEndpoints.of(pod("10.0.0.7", true, false, Map.of()), List.of(8000, 8001), 9090))
                .extracting(EndpointMetadata::metricsHost).containsExactly("10.0.0.7:8000", "10.0.0.7:8001");
    }

    @Test
    void anIpv6PodIsScrapedInBrackets() {
        assertThat(PodEndpoints.of(pod("fd00::7", true, false, Map.of()), List.of(8000), 0)).singleElement()
                .satisfies(endpoint -> {
                    assertThat(endpoint.address()).isEqualTo("fd00::7");
                    assertThat(endpoint.metricsHost()).isEqualTo("[fd00::7]:8000");
                    assertThat(endpoint.hostPort()).isEqualTo("[fd00::7]:8000");
                });
    }
}
