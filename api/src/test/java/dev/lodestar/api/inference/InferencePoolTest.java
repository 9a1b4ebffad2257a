package dev.lodestar.api.inference;

import dev.lodestar.api.config.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InferencePoolTest {
    private static InferencePool pool(String spec) {
        return InferenceObjects.read("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: pool, namespace: default}
                spec:
                """ + spec.indent(2), InferencePool.class);
    }

    private static List<String> messages(InferencePool pool) {
        return pool.validate().stream().map(Violation::toString).toList();
    }

    @Test
    void theServerDefaultsAreAppliedWhenAbsent() {
        InferencePool pool = pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                endpointPickerRef: {name: epp, port: {number: 9002}}
                """);
        assertThat(pool.spec().appProtocol()).isEqualTo(InferencePool.AppProtocol.HTTP);
        InferencePool.EndpointPickerRef ref = pool.spec().endpointPicker().orElseThrow();
        assertThat(ref.group()).isEmpty();
        assertThat(ref.kind()).isEqualTo("Service");
        assertThat(ref.failureMode()).isEqualTo(InferencePool.FailureMode.FAIL_CLOSE);
        assertThat(pool.spec().selector().matchLabels()).containsEntry("app", "vllm");
        assertThat(pool.status()).isNull();
        assertThat(pool.validate()).isEmpty();
    }

    @Test
    void readsWhatTheApiServerReturns() {
        InferencePool pool = InferenceObjects.read("""
                {"apiVersion":"inference.networking.k8s.io/v1","kind":"InferencePool",
                 "metadata":{"name":"p","namespace":"ns","uid":"u","resourceVersion":"7","generation":2,
                             "creationTimestamp":"2026-01-02T03:04:05Z"},
                 "spec":{"appProtocol":"kubernetes.io/h2c","selector":{"matchLabels":{"app":"a"}},
                         "targetPorts":[{"number":8000},{"number":8001}],
                         "endpointPickerRef":{"group":"","kind":"Service","name":"epp","port":{"number":9002},
                                              "failureMode":"FailOpen"}},
                 "status":{"parents":[{"parentRef":{"group":"gateway.networking.k8s.io","kind":"Gateway",
                                                     "name":"gw"},
                   "conditions":[{"type":"Accepted","status":"True","reason":"Accepted","message":"",
                                  "lastTransitionTime":"2026-01-02T03:04:05Z","observedGeneration":2}]}]}}
                """, InferencePool.class);
        assertThat(pool.spec().appProtocol()).isEqualTo(InferencePool.AppProtocol.H2C);
        assertThat(pool.spec().targetPorts()).extracting(InferencePool.Port::number).containsExactly(8000, 8001);
        assertThat(pool.spec().endpointPickerRef().failureMode()).isEqualTo(InferencePool.FailureMode.FAIL_OPEN);
        Condition accepted = pool.status().parents().get(0).conditions().get(0);
        assertThat(accepted.status()).isEqualTo(Condition.Status.TRUE);
        assertThat(accepted.observedGeneration()).isEqualTo(2L);
        assertThat(pool.validate()).isEmpty();
    }

    @Test
    void endpointPickerRefIsOptional() {
        assertThat(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                """).validate()).isEmpty();
    }

    @Test
    void targetPortNumbersMustBeUnique() {
        assertThat(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}, {number: 8001}, {number: 8002}]
                """).validate()).isEmpty();
        assertThat(messages(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}, {number: 8001}, {number: 8000}]
                """))).containsExactly("spec.targetPorts: port number must be unique");
    }

    @Test
    void aServiceNeedsAPortWhetherKindIsSetOrDefaulted() {
        String expected = "spec.endpointPickerRef: port is required when kind is 'Service' or unspecified"
                + " (defaults to 'Service')";
        assertThat(messages(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                endpointPickerRef: {name: epp}
                """))).containsExactly(expected);
        assertThat(messages(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                endpointPickerRef: {name: epp, kind: Service}
                """))).containsExactly(expected);
        assertThat(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                endpointPickerRef: {name: epp, kind: Service, port: {number: 9002}}
                """).validate()).isEmpty();
        assertThat(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                endpointPickerRef: {name: epp, group: example.com, kind: Picker}
                """).validate()).as("other kinds may derive the port").isEmpty();
    }

    @Test
    void appProtocolIsOneOfTwo() {
        assertThat(pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                appProtocol: kubernetes.io/h2c
                """).validate()).isEmpty();
        assertThatThrownBy(() -> pool("""
                selector: {matchLabels: {app: vllm}}
                targetPorts: [{number: 8000}]
                appProtocol: h2
                """)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("h2");
    }

    @Test
    void limitsAreReportedWithTheirField() {
        assertThat(messages(pool("""
                selector: {matchLabels: {app: "-bad-"}}
                targetPorts: [{number: 0}]
                """))).containsExactly(
                "spec.selector.matchLabels.app: should match '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'",
                "spec.targetPorts[0].number: should be greater than or equal to 1");
        assertThat(messages(pool("selector: {matchLabels: {}}"))).containsExactly(
                "spec.selector.matchLabels: should have at least 1 properties",
                "spec.targetPorts: Required value");
    }

    @Test
    void parentsConditionsAreUniqueByType() {
        InferencePool pool = InferenceObjects.read("""
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: p}
                spec: {selector: {matchLabels: {app: a}}, targetPorts: [{number: 8000}]}
                status:
                  parents:
                  - parentRef: {name: gw}
                    conditions:
                    - {type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2026-01-02T03:04:05Z"}
                    - {type: Accepted, status: "False", reason: HTTPRouteNotAccepted, message: "", lastTransitionTime: "2026-01-02T03:04:05Z"}
                """, InferencePool.class);
        assertThat(pool.status().parents().get(0).parentRef().kind()).isEqualTo("Gateway");
        assertThat(messages(pool)).singleElement().asString()
                .startsWith("status.parents[0].conditions[1]: Duplicate value");
    }

    @Test
    void readRefusesOtherKindsAndVersions() {
        assertThatThrownBy(() -> InferenceObjects.read("""
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferencePool
                metadata: {name: p}
                """, InferencePool.class)).hasMessageContaining("expected InferencePool of [inference.networking.k8s.io/v1]");
    }
}
