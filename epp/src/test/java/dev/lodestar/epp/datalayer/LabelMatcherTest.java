package dev.lodestar.epp.datalayer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PromQL label matchers; how specs are written and parsed is in MetricSpecTest. */
class LabelMatcherTest {
    @Test
    void theFourPromqlOperators() {
        Labels waiting = Labels.of("type", "waiting");

        assertThat(LabelMatcher.of("type", "=", "waiting").matches(waiting)).isTrue();
        assertThat(LabelMatcher.of("type", "!=", "waiting").matches(waiting)).isFalse();
        assertThat(LabelMatcher.of("type", "=~", "wait.*|run.*").matches(waiting)).isTrue();
        assertThat(LabelMatcher.of("type", "!~", "wait.*").matches(waiting)).isFalse();
        assertThat(LabelMatcher.of("type", "=", "waiting")).isInstanceOf(LabelMatcher.Equal.class);
        assertThat(LabelMatcher.of("type", "!~", "x")).isInstanceOf(LabelMatcher.NotMatches.class);
    }

    @Test
    void regularExpressionsMustMatchTheWholeValueIncludingNewlines() {
        assertThat(LabelMatcher.of("t", "=~", "wait").matches(Labels.of("t", "waiting"))).isFalse();
        assertThat(LabelMatcher.of("t", "=~", "a.b").matches(Labels.of("t", "a\nb"))).isTrue();
        assertThat(LabelMatcher.of("t", "!~", "wait").matches(Labels.of("t", "waiting"))).isTrue();
    }

    @Test
    void aMissingLabelReadsAsEmpty() {
        assertThat(LabelMatcher.of("t", "=", "").matches(Labels.EMPTY)).isTrue();
        assertThat(LabelMatcher.of("t", "=~", ".*").matches(Labels.EMPTY)).isTrue();
        assertThat(LabelMatcher.of("t", "=~", ".+").matches(Labels.EMPTY)).isFalse();
        assertThat(LabelMatcher.of("t", "!=", "x").matches(Labels.EMPTY)).isTrue();
    }

    @Test
    void badOperatorsAndRegularExpressionsAreRejected() {
        assertThatThrownBy(() -> LabelMatcher.of("t", "==", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown label matcher operator '=='");
        assertThatThrownBy(() -> LabelMatcher.of("t", "=~", "[")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid regular expression for label t: ");
    }

    @Test
    void regexMatchersAreEqualByTheirPattern() {
        assertThat(LabelMatcher.of("t", "=~", "a.*")).isEqualTo(LabelMatcher.of("t", "=~", "a.*"))
                .hasSameHashCodeAs(LabelMatcher.of("t", "=~", "a.*"))
                .isNotEqualTo(LabelMatcher.of("t", "=~", "b.*")).isNotEqualTo(LabelMatcher.of("t", "!~", "a.*"));
        assertThat(LabelMatcher.of("t", "!~", "a")).isEqualTo(LabelMatcher.of("t", "!~", "a"))
                .hasSameHashCodeAs(LabelMatcher.of("t", "!~", "a"));
    }

    @Test
    void printedAsPromqlWithEscapedValues() {
        assertThat(LabelMatcher.of("t", "=", "a\"b\\c\nd")).hasToString("t=\"a\\\"b\\\\c\\nd\"");
        assertThat(LabelMatcher.of("t", "!=", "x")).hasToString("t!=\"x\"");
        assertThat(LabelMatcher.of("t", "=~", "x.*")).hasToString("t=~\"x.*\"");
        assertThat(LabelMatcher.of("t", "!~", "x")).hasToString("t!~\"x\"");
    }
}
