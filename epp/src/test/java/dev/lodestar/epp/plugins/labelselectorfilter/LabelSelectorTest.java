package dev.lodestar.epp.plugins.labelselectorfilter;

import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelector.Operator;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelector.Requirement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabelSelectorTest {
    private static final Map<String, String> DECODE_H100 = Map.of("llm-d.ai/role", "decode", "hw", "H100");
    private static final Map<String, String> UNLABELLED = Map.of();

    private static LabelSelector labels(Map<String, String> matchLabels) {
        return new LabelSelector(matchLabels, List.of());
    }

    private static LabelSelector expression(String key, Operator operator, String... values) {
        return new LabelSelector(Map.of(), List.of(new Requirement(key, operator, List.of(values))));
    }

    private static String longName(int length) {
        char[] name = new char[length];
        Arrays.fill(name, 'a');
        return new String(name);
    }

    // ---------------------------------------------------------------- matching

    @Test
    void matchLabelsNeedEveryPairWithExactlyThatValue() {
        assertThat(labels(Map.of("hw", "H100")).matches(DECODE_H100)).isTrue();
        assertThat(labels(DECODE_H100).matches(DECODE_H100)).isTrue();
        assertThat(labels(Map.of("hw", "h100")).matches(DECODE_H100)).isFalse();
        assertThat(labels(Map.of("hw", "H100", "zone", "a")).matches(DECODE_H100)).isFalse();
    }

    @Test
    void anEmptyValueInMatchLabelsNeedsTheLabelPresentAndEmpty() {
        assertThat(labels(Map.of("canary", "")).matches(Map.of("canary", ""))).isTrue();
        assertThat(labels(Map.of("canary", "")).matches(UNLABELLED)).isFalse();
    }

    @Test
    void inNeedsTheLabelWithOneOfTheValues() {
        LabelSelector in = expression("hw", Operator.In, "A100", "H100");

        assertThat(in.matches(DECODE_H100)).isTrue();
        assertThat(in.matches(Map.of("hw", "L4"))).isFalse();
        assertThat(in.matches(UNLABELLED)).isFalse();
    }

    @Test
    void notInAlsoMatchesWhenTheLabelIsAbsent() {
        LabelSelector notIn = expression("hw", Operator.NotIn, "L4");

        assertThat(notIn.matches(DECODE_H100)).isTrue();
        assertThat(notIn.matches(UNLABELLED)).isTrue();
        assertThat(notIn.matches(Map.of("hw", "L4"))).isFalse();
    }

    @Test
    void existsAndDoesNotExistLookAtTheKeyOnly() {
        assertThat(expression("llm-d.ai/role", Operator.Exists).matches(DECODE_H100)).isTrue();
        assertThat(expression("llm-d.ai/role", Operator.Exists).matches(Map.of("llm-d.ai/role", ""))).isTrue();
        assertThat(expression("llm-d.ai/role", Operator.Exists).matches(UNLABELLED)).isFalse();
        assertThat(expression("llm-d.ai/role", Operator.DoesNotExist).matches(DECODE_H100)).isFalse();
        assertThat(expression("llm-d.ai/role", Operator.DoesNotExist).matches(UNLABELLED)).isTrue();
    }

    @Test
    void everyLabelAndEveryExpressionMustHold() {
        LabelSelector selector = new LabelSelector(Map.of("llm-d.ai/role", "decode"), List.of(
                new Requirement("hw", Operator.In, List.of("H100", "A100")),
                new Requirement("draining", Operator.DoesNotExist, List.of())));

        assertThat(selector.matches(DECODE_H100)).isTrue();
        assertThat(selector.matches(Map.of("llm-d.ai/role", "decode", "hw", "H100", "draining", "true"))).isFalse();
        assertThat(selector.matches(Map.of("llm-d.ai/role", "prefill", "hw", "H100"))).isFalse();
    }

    @Test
    void theEmptySelectorMatchesEverything() {
        assertThat(LabelSelector.everything().matches(UNLABELLED)).isTrue();
        assertThat(LabelSelector.everything().matches(DECODE_H100)).isTrue();
        assertThat(new LabelSelector(null, null)).isEqualTo(LabelSelector.everything());
    }

    @Test
    void theSelectorIsAnImmutableCopy() {
        Map<String, String> matchLabels = new HashMap<>(Map.of("hw", "H100"));
        List<String> values = new ArrayList<>(List.of("decode"));
        List<Requirement> expressions = new ArrayList<>(List.of(new Requirement("llm-d.ai/role", Operator.In, values)));
        LabelSelector selector = new LabelSelector(matchLabels, expressions);

        matchLabels.put("hw", "L4");
        values.add("prefill");
        expressions.clear();

        assertThat(selector.matchLabels()).containsExactly(Map.entry("hw", "H100"));
        assertThat(selector.matchExpressions()).singleElement()
                .satisfies(r -> assertThat(r.values()).containsExactly("decode"));
        assertThatThrownBy(() -> selector.matchLabels().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---------------------------------------------------------------- validation (Kubernetes' rules)

    @ParameterizedTest
    @ValueSource(strings = {"hw", "a", "A_b.c-d", "llm-d.ai/role", "example.com/Role_1", "x/y"})
    void validKeys(String key) {
        assertThatCode(() -> labels(Map.of(key, "v")).validated()).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-hw", "hw-", "bad key", "a/b/c", "/role", "Example.COM/role", "exa_mple.com/role",
            "example.com/", "llm-d.ai/-role"})
    void invalidKeys(String key) {
        assertThatThrownBy(() -> labels(Map.of(key, "v")).validated()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid label key '" + key + "'");
    }

    @Test
    void keyNamesHaveAtMost63CharactersAndPrefixesAtMost253() {
        assertThatCode(() -> labels(Map.of(longName(63), "v")).validated()).doesNotThrowAnyException();
        assertThatThrownBy(() -> labels(Map.of(longName(64), "v")).validated())
                .isInstanceOf(IllegalArgumentException.class);
        String prefix253 = longName(61) + "." + longName(63) + "." + longName(63) + "." + longName(63);
        assertThat(prefix253).hasSize(253);
        assertThatCode(() -> labels(Map.of(prefix253 + "/role", "v")).validated()).doesNotThrowAnyException();
        assertThatThrownBy(() -> labels(Map.of("a" + prefix253 + "/role", "v")).validated())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prefix");
    }

    @Test
    void valuesMayBeEmptyOrUpTo63NameCharacters() {
        assertThatCode(() -> labels(Map.of("k", "")).validated()).doesNotThrowAnyException();
        assertThatCode(() -> labels(Map.of("k", longName(63))).validated()).doesNotThrowAnyException();
        for (String bad : List.of(longName(64), "-x", "x-", "a b", "a/b")) {
            assertThatThrownBy(() -> labels(Map.of("k", bad)).validated()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("invalid value '" + bad + "' for label 'k'");
        }
    }

    @Test
    void expressionValuesAreCheckedLikeLabelValues() {
        assertThatThrownBy(() -> expression("hw", Operator.In, "ok", "not ok").validated())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid value 'not ok'");
    }

    @Test
    void inAndNotInNeedValuesExistsAndDoesNotExistTakeNone() {
        for (Operator operator : List.of(Operator.In, Operator.NotIn)) {
            assertThatThrownBy(() -> expression("hw", operator).validated()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("matchExpressions key 'hw': values must be non-empty for operator " + operator);
        }
        for (Operator operator : List.of(Operator.Exists, Operator.DoesNotExist)) {
            assertThatThrownBy(() -> expression("hw", operator, "x").validated())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("matchExpressions key 'hw': values must be empty for operator " + operator);
        }
    }

    @Test
    void incompleteExpressionsAreRejected() {
        assertThatThrownBy(() -> new LabelSelector(Map.of(), List.of(new Requirement(null, Operator.Exists, null)))
                .validated()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key is required");
        assertThatThrownBy(() -> new LabelSelector(Map.of(), List.of(new Requirement("hw", null, List.of("x"))))
                .validated()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("operator is required").hasMessageContaining("In, NotIn, Exists, DoesNotExist");
        List<Requirement> withNull = new ArrayList<>();
        withNull.add(null);
        assertThatThrownBy(() -> new LabelSelector(Map.of(), withNull).validated())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("an entry is null");
    }

    @Test
    void validatedReturnsTheSameSelector() {
        LabelSelector selector = expression("hw", Operator.In, "H100");

        assertThat(selector.validated()).isSameAs(selector);
    }
}
