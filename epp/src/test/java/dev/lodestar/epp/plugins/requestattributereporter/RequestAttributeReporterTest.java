package dev.lodestar.epp.plugins.requestattributereporter;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.requestcontrol.Response;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestAttributeReporterTest {
    private static final EndpointMetadata TARGET = Fixtures.endpoint("10.0.0.1", 8000).metadata();

    private static RequestAttributeReporter reporter(String json) {
        return (RequestAttributeReporter) Fixtures.create(RequestAttributeReporter.FACTORY, "cost", json);
    }

    /** One attribute named {@code name} in the default namespace. */
    private static RequestAttributeReporter reporter(String name, String expression, String condition) {
        return reporter("""
                {"attributes": [{"key": {"name": "%s"}, "expression": "%s"%s}]}"""
                .formatted(name, expression, condition == null ? "" : ", \"condition\": \"" + condition + "\""));
    }

    private static Response response(Usage usage) {
        return new Response("req-1", Map.of(), true, usage);
    }

    private static Usage usage(int prompt, int completion) {
        return new Usage(prompt, completion, prompt + completion, 0);
    }

    /** Runs the reporter on a final response with {@code usage} (null: none reported) and returns its metadata. */
    private static Map<String, Map<String, Object>> report(RequestAttributeReporter reporter, Usage usage) {
        Response response = response(usage);
        reporter.responseBody(Fixtures.request("req-1"), response, TARGET);
        return response.dynamicMetadata();
    }

    // --- parameters ---------------------------------------------------------------------------------

    @Test
    void defaultsTheNamespaceToEnvoyLb() {
        RequestAttributeReporter reporter = reporter("test-attribute", "usage.prompt_tokens", null);

        assertThat(reporter.typedName()).isEqualTo(new TypedName("request-attribute-reporter", "cost"));
        assertThat(reporter.namespace()).isEqualTo("envoy.lb");
        assertThat(reporter.name()).isEqualTo("test-attribute");
        assertThat(reporter("""
                {"attributes": [{"key": {"namespace": "", "name": "a"}, "expression": "1"}]}""").namespace())
                .isEqualTo("envoy.lb");
    }

    @Test
    void reportsIntoACustomNamespace() {
        RequestAttributeReporter reporter = reporter("""
                {"attributes": [{"key": {"namespace": "custom-ns", "name": "tokens"},
                                 "expression": "usage.prompt_tokens"}]}""");

        assertThat(reporter.namespace()).isEqualTo("custom-ns");
        assertThat(report(reporter, usage(15, 0))).isEqualTo(Map.of("custom-ns", Map.of("tokens", 15.0)));
    }

    @Test
    void needsExactlyOneAttribute() {
        assertThatThrownBy(() -> Fixtures.create(RequestAttributeReporter.FACTORY, "cost", "{}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes must contain exactly one entry, got 0");
        assertThatThrownBy(() -> reporter("{\"attributes\": []}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes must contain exactly one entry, got 0");
        assertThatThrownBy(() -> reporter("""
                {"attributes": [{"key": {"name": "a"}, "expression": "usage.prompt_tokens"},
                                {"key": {"name": "b"}, "expression": "usage.prompt_tokens"}]}"""))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes must contain exactly one entry, got 2");
    }

    @Test
    void needsAKeyNameAndAnExpression() {
        assertThatThrownBy(() -> reporter("{\"attributes\": [{\"key\": {}, \"expression\": \"usage.prompt_tokens\"}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes[0].key.name cannot be empty");
        assertThatThrownBy(() -> reporter("{\"attributes\": [{\"expression\": \"usage.prompt_tokens\"}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes[0].key.name cannot be empty");
        assertThatThrownBy(() -> reporter("{\"attributes\": [{\"key\": {\"name\": \"a\"}}]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes[0].expression cannot be empty");
        assertThatThrownBy(() -> reporter("a", "", null))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("plugin 'cost' (request-attribute-reporter): attributes[0].expression cannot be empty");
    }

    @Test
    void anExpressionOrConditionThatDoesNotCompileIsAConfigError() {
        assertThatThrownBy(() -> reporter("a", "usage.prompt_tokens + -", null))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("plugin 'cost' (request-attribute-reporter): failed to compile expression"
                        + " 'usage.prompt_tokens + -': ");
        assertThatThrownBy(() -> reporter("a", "usage.prompt_tokens", "usage.prompt_tokens > "))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("plugin 'cost' (request-attribute-reporter): failed to compile condition"
                        + " 'usage.prompt_tokens >': ");
        // Only `usage` is declared: another variable fails the type check.
        assertThatThrownBy(() -> reporter("a", "request.size", null))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("failed to compile expression 'request.size'")
                .hasMessageContaining("undeclared reference to 'request'");
    }

    @Test
    void unknownParametersAreRejected() {
        assertThatThrownBy(() -> reporter("{\"attributes\": [{\"key\": {\"name\": \"a\"}, \"expr\": \"1\"}]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'expr'");
        assertThatThrownBy(() -> reporter("""
                {"attributes": [{"key": {"name": "a"}, "expression": "1"}], "attribute": []}"""))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'attribute'");
    }

    // --- values -------------------------------------------------------------------------------------

    @Test
    void reportsADoubleResultAsANumber() {
        // Usage numbers are doubles, as in upstream's google.protobuf.Struct.
        assertThat(report(reporter("prompt_tokens", "usage.prompt_tokens", null), usage(15, 0)))
                .isEqualTo(Map.of("envoy.lb", Map.of("prompt_tokens", 15.0)));
        assertThat(report(reporter("total", "usage.prompt_tokens + usage.completion_tokens", null), usage(32, 10)))
                .isEqualTo(Map.of("envoy.lb", Map.of("total", 42.0)));
    }

    @Test
    void reportsAnIntResultAsANumber() {
        assertThat(report(reporter("doubled", "int(usage.completion_tokens) * 2", null), usage(0, 21)))
                .isEqualTo(Map.of("envoy.lb", Map.of("doubled", 42.0)));
        assertThat(report(reporter("constant", "7", null), usage(0, 0)))
                .isEqualTo(Map.of("envoy.lb", Map.of("constant", 7.0)));
    }

    @Test
    void truncatesADoubleTowardsZero() {
        assertThat(report(reporter("quarter", "usage.completion_tokens / 4.0", null), usage(0, 10)))
                .isEqualTo(Map.of("envoy.lb", Map.of("quarter", 2.0)));
        assertThat(report(reporter("negative", "-usage.completion_tokens / 4.0", null), usage(0, 10)))
                .isEqualTo(Map.of("envoy.lb", Map.of("negative", -2.0)));
        // Truncates to 0: nothing.
        assertThat(report(reporter("small", "usage.completion_tokens / 40.0", null), usage(0, 10))).isEmpty();
    }

    @Test
    void zeroIsNotReported() {
        // Upstream's "request usage expression and condition with zero value".
        assertThat(report(reporter("prompt_tokens", "usage.prompt_tokens", "has(usage.prompt_tokens)"), usage(0, 0)))
                .isEmpty();
        assertThat(report(reporter("zero", "0", null), usage(5, 5))).isEmpty();
    }

    @Test
    void minusOneIsNotReportedAsUpstreamUsesItAsItsErrorMarker() {
        assertThat(report(reporter("m", "-1", null), usage(5, 5))).isEmpty();
        assertThat(report(reporter("m", "-2", null), usage(5, 5))).isEqualTo(Map.of("envoy.lb", Map.of("m", -2.0)));
    }

    @Test
    void aFalseConditionReportsNothingAndKeepsOtherMetadata() {
        RequestAttributeReporter reporter = reporter("prompt_tokens", "usage.prompt_tokens", "usage.completion_tokens > 0");
        Response response = response(usage(10, 0));
        response.putMetadata("pre-existing", "key", "data");

        reporter.responseBody(Fixtures.request("req-1"), response, TARGET);

        assertThat(response.dynamicMetadata()).isEqualTo(Map.of("pre-existing", Map.of("key", "data")));
    }

    @Test
    void aTrueConditionReportsAndComparesADoubleWithAnInt() {
        // usage.completion_tokens is a double; cel-go compares it with the int 0 at run time, so must we.
        RequestAttributeReporter reporter = reporter("completion", "usage.completion_tokens",
                "usage.completion_tokens > 0");

        assertThat(report(reporter, usage(10, 3))).isEqualTo(Map.of("envoy.lb", Map.of("completion", 3.0)));
    }

    @Test
    void aConditionThatIsNotABoolReportsNothing() {
        assertThat(report(reporter("prompt_tokens", "usage.prompt_tokens", "usage.prompt_tokens"), usage(10, 0)))
                .isEmpty();
    }

    @Test
    void aResultThatIsNotANumberReportsNothing() {
        assertThat(report(reporter("s", "'not a number'", null), usage(10, 0))).isEmpty();
        assertThat(report(reporter("b", "true", null), usage(10, 0))).isEmpty();
        assertThat(report(reporter("u", "5u", null), usage(10, 0))).isEmpty();
        assertThat(report(reporter("inf", "usage.prompt_tokens / 0.0", null), usage(10, 0))).isEmpty();
    }

    @Test
    void anEvaluationErrorReportsNothingAndDoesNotThrow() {
        // A missing field without a has() guard.
        assertThat(report(reporter("x", "usage.non_existent_field", null), usage(10, 0))).isEmpty();
        // No implicit numeric conversion in CEL arithmetic: double + int has no overload.
        assertThat(report(reporter("x", "usage.prompt_tokens + 1", null), usage(10, 0))).isEmpty();
        // Integer division by zero.
        assertThat(report(reporter("x", "10 / (int(usage.prompt_tokens) - 10)", null), usage(10, 0))).isEmpty();
        // A failing condition.
        assertThat(report(reporter("x", "1", "usage.missing > 0"), usage(10, 0))).isEmpty();
    }

    @Test
    void hasGuardsAndPartlyMissingUsage() {
        RequestAttributeReporter total = reporter("total_tokens",
                "(has(usage.prompt_tokens) ? usage.prompt_tokens : 0) + (has(usage.completion_tokens) ? usage.completion_tokens : 0)",
                null);

        // Upstream's "usage fields missing with has() guards": empty usage sums to 0, nothing reported.
        assertThat(report(total, usage(0, 0))).isEmpty();
        // Upstream's "partial usage fields missing with has() guards".
        assertThat(report(total, usage(0, 25))).isEqualTo(Map.of("envoy.lb", Map.of("total_tokens", 25.0)));
    }

    @Test
    void theTokenCountsAreAlwaysPresentAsUpstreamMarshalsThemEvenWhenZero() {
        RequestAttributeReporter present = reporter("p",
                "has(usage.prompt_tokens) && has(usage.completion_tokens) && has(usage.total_tokens) ? 1 : 2", null);

        assertThat(report(present, null)).isEqualTo(Map.of("envoy.lb", Map.of("p", 1.0)));
        assertThat(report(present, usage(0, 0))).isEqualTo(Map.of("envoy.lb", Map.of("p", 1.0)));
        assertThat(report(reporter("c", "usage.completion_tokens", "has(usage.completion_tokens)"), null)).isEmpty();
    }

    @Test
    void cachedTokensArePromptTokenDetailsWhenReported() {
        RequestAttributeReporter cached = reporter("cached",
                "has(usage.prompt_token_details) ? usage.prompt_token_details.cached_tokens : 3", null);

        assertThat(report(cached, new Usage(10, 5, 15, 0))).isEqualTo(Map.of("envoy.lb", Map.of("cached", 3.0)));
        assertThat(report(cached, new Usage(10, 5, 15, 8))).isEqualTo(Map.of("envoy.lb", Map.of("cached", 8.0)));
        assertThat(report(reporter("x", "usage.prompt_token_details.cached_tokens", null), new Usage(10, 5, 15, 0)))
                .isEmpty();
    }

    @Test
    void evaluatesOnEveryCallWithTheUsageSeenSoFar() {
        // Upstream runs response-body plugins on each stream chunk: nothing before usage arrives, then the value
        // on each later chunk, not only at the end of the stream.
        RequestAttributeReporter reporter = reporter("cost", "usage.completion_tokens", "has(usage.completion_tokens)");
        Response beforeUsage = new Response("req-1", Map.of(), false, null);
        Response withUsage = new Response("req-1", Map.of(), false, usage(32, 10));
        Response last = new Response("req-1", Map.of(), true, usage(32, 10));

        for (Response chunk : new Response[] {beforeUsage, withUsage, last}) {
            reporter.responseBody(Fixtures.request("req-1"), chunk, TARGET);
        }

        assertThat(beforeUsage.dynamicMetadata()).isEmpty();
        assertThat(withUsage.dynamicMetadata()).isEqualTo(Map.of("envoy.lb", Map.of("cost", 10.0)));
        assertThat(last.dynamicMetadata()).isEqualTo(Map.of("envoy.lb", Map.of("cost", 10.0)));
    }

    @Test
    void addsToTheNamespaceAnotherPluginWroteInto() {
        Response response = response(usage(32, 10));
        response.putMetadata("envoy.lb", "other", "kept");

        reporter("cost", "usage.completion_tokens", null).responseBody(Fixtures.request("req-1"), response, TARGET);

        assertThat(response.dynamicMetadata()).isEqualTo(Map.of("envoy.lb", Map.of("other", "kept", "cost", 10.0)));
    }
}
