package dev.lodestar.controllers.testing;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.util.Map;

/**
 * Pods as a kubelet would leave them, for tests against a kube-apiserver without nodes: created with one
 * model-server container, then given an IP and a Ready condition through the status subresource.
 */
public final class TestPods {
    private TestPods() {
    }

    public static void create(KubernetesClient client, String namespace, String name, Map<String, String> labels,
                              Map<String, String> annotations, String ip, boolean ready) {
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(labels).withAnnotations(annotations).endMetadata()
                .withNewSpec().withAutomountServiceAccountToken(false)
                .addNewContainer().withName("vllm").withImage("vllm/vllm-openai:latest").endContainer()
                .endSpec().build()).create();
        setStatus(client, namespace, name, ip, ready);
    }

    public static void setStatus(KubernetesClient client, String namespace, String name, String ip, boolean ready) {
        client.pods().inNamespace(namespace).withName(name).editStatus(pod -> new PodBuilder(pod).editOrNewStatus()
                .withPodIP(ip)
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus(ready ? "True" : "False")
                        .build())
                .endStatus().build());
    }
}
