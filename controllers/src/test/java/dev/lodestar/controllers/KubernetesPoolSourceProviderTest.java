package dev.lodestar.controllers;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KubernetesPoolSourceProviderTest {
    @Test
    void noPoolNameAndNoSelectorIsNotForThisProvider() {
        assertThat(new KubernetesPoolSourceProvider().create(Map.of("pool-name", "", "endpoint-selector", ""),
                () -> {
                    throw new AssertionError("no client may be built");
                }, Map.of())).isEmpty();
    }

    @Test
    void theNamespaceComesFromTheFlagThenNamespaceEnvThenDefault() {
        assertThat(KubernetesPoolSourceProvider.namespace(Map.of("pool-namespace", "a"), Map.of("NAMESPACE", "b")))
                .isEqualTo("a");
        assertThat(KubernetesPoolSourceProvider.namespace(Map.of("pool-namespace", ""), Map.of("NAMESPACE", "b")))
                .isEqualTo("b");
        assertThat(KubernetesPoolSourceProvider.namespace(Map.of(), Map.of())).isEqualTo("default");
    }

    @Test
    void selectorAndTargetPortsAreParsed() {
        assertThat(KubernetesPoolSourceProvider.labels("app=vllm, tier = gpu")).containsExactly(
                Map.entry("app", "vllm"), Map.entry("tier", "gpu"));
        assertThat(KubernetesPoolSourceProvider.ports("[8000, 8001]")).isEqualTo(List.of(8000, 8001));
        assertThatThrownBy(() -> KubernetesPoolSourceProvider.labels("app")).hasMessageContaining("'app' is not key=value");
        assertThatThrownBy(() -> KubernetesPoolSourceProvider.ports("[]")).hasMessageContaining("1-8");
        assertThatThrownBy(() -> KubernetesPoolSourceProvider.ports("1,2,3,4,5,6,7,8,9")).hasMessageContaining("1-8");
    }

    @Test
    void theLeaseIsNamedAsUpstreamAndTheDeploymentComesFromThePodName() {
        assertThat(LeaderElection.leaseName("ns", "pool"))
                .isEqualTo("epp-ns-pool.gateway-api-inference-extension.sigs.k8s.io");
        assertThat(KubernetesPoolSourceProvider.deploymentName("my-epp-6d4cf56db6-x7k2p")).isEqualTo("my-epp");
        assertThat(KubernetesPoolSourceProvider.deploymentName("single")).isEqualTo("single");
    }
}
