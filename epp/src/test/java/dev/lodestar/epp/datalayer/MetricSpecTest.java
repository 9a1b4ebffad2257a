package dev.lodestar.epp.datalayer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricSpecTest {
    @Test
    void plainName() {
        MetricSpec spec = MetricSpec.parse("vllm:num_requests_waiting").orElseThrow();
        assertThat(spec.name()).isEqualTo("vllm:num_requests_waiting");
        assertThat(spec.matchers()).isEmpty();
        assertThat(spec.matches(Labels.of("model_name", "m"))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "nv_trt_llm_request_metrics{request_type=waiting}",
            "nv_trt_llm_request_metrics{request_type=\"waiting\"}",
            "nv_trt_llm_request_metrics{request_type='waiting'}",
            "nv_trt_llm_request_metrics{request_type=`waiting`}",
            "  nv_trt_llm_request_metrics { request_type = waiting , } ",
            "{__name__=\"nv_trt_llm_request_metrics\", request_type=\"waiting\"}"})
    void quotesAreOptional(String text) {
        MetricSpec spec = MetricSpec.parse(text).orElseThrow();
        assertThat(spec.name()).isEqualTo("nv_trt_llm_request_metrics");
        assertThat(spec.matchers()).containsExactly(new LabelMatcher.Equal("request_type", "waiting"));
        assertThat(spec.toString()).isEqualTo("nv_trt_llm_request_metrics{request_type=\"waiting\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void blankSpecDisablesTheField(String text) {
        assertThat(MetricSpec.parse(text)).isEmpty();
        assertThat(MetricSpec.parse(null)).isEmpty();
    }

    @Test
    void severalMatchersAllMustMatch() {
        MetricSpec spec = MetricSpec.parse("m{a=x,b=\"y z\"}").orElseThrow();
        assertThat(spec.matches(Labels.of("a", "x", "b", "y z", "c", "other"))).isTrue();
        assertThat(spec.matches(Labels.of("a", "x", "b", "y"))).isFalse();
        assertThat(spec.matches(Labels.of("a", "x"))).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "m{t!=\"a\"}|b|true", "m{t!=\"a\"}|a|false",
            "m{t=~\"wait.*\"}|waiting|true", "m{t=~\"wait\"}|waiting|false",
            "m{t!~\"wait.*\"}|waiting|false", "m{t!~\"wait.*\"}|running|true",
            "m{t=~wa.t}|wait|true", "m{t=\"a\\\"b\"}|a\"b|true", "m{t=\"a\\\\b\"}|a\\b|true"})
    void operators(String text, String value, boolean matches) {
        assertThat(MetricSpec.parse(text).orElseThrow().matches(Labels.of("t", value))).isEqualTo(matches);
    }

    @Test
    void missingLabelReadsAsEmpty() {
        assertThat(MetricSpec.parse("m{t=\"\"}").orElseThrow().matches(Labels.EMPTY)).isTrue();
        assertThat(MetricSpec.parse("m{t!=\"\"}").orElseThrow().matches(Labels.EMPTY)).isFalse();
    }

    @Test
    void reservedLabelsOtherThanNameAreIgnored() {
        MetricSpec spec = MetricSpec.parse("m{__meta_x=\"1\",a=\"b\"}").orElseThrow();
        assertThat(spec.matchers()).extracting(LabelMatcher::name).containsExactly("a");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "m{a=b|expected ',' or '}' at position 5",
            "m{a=\"b}|unterminated label value at position 7",
            "m{=b}|expected a label name at position 2",
            "m{a b}|expected '=', '!=', '=~' or '!~' at position 4",
            "m{a=}|missing label value at position 4",
            "m{a=~\"(\"}|invalid regular expression for label a: Unclosed group at position 8",
            "{a=\"b\"}|empty metric name at position 7",
            "1m|unexpected '1' at position 0",
            "m x|unexpected 'x' at position 2",
            "m{__name__=\"n\"}|two metric names at position 14"})
    void invalidSpecs(String text, String problem) {
        assertThatThrownBy(() -> MetricSpec.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid metric spec '" + text + "': " + problem);
    }

    @Test
    void equalityOfParsedSpecs() {
        assertThat(MetricSpec.parse("m{a=~\"x\"}")).isEqualTo(MetricSpec.parse("m{a=~'x'}"));
        assertThat(MetricSpec.parse("m{a=\"x\"}").orElseThrow())
                .isEqualTo(new MetricSpec("m", List.of(new LabelMatcher.Equal("a", "x"))));
    }
}
