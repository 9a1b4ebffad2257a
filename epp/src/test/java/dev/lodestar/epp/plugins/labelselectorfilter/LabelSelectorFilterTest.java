package dev.lodestar.epp.plugins.labelselectorfilter;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.framework.scheduling.CycleState;
import dev.lodestar.epp.framework.scheduling.Endpoint;
import dev.lodestar.epp.plugins.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabelSelectorFilterTest {
    private final Endpoint decodeH100 = Fixtures.labelled("10.0.0.1", Map.of("llm-d.ai/role", "decode", "hw", "H100"));
    private final Endpoint decodeL4 = Fixtures.labelled("10.0.0.2", Map.of("llm-d.ai/role", "decode", "hw", "L4"));
    private final Endpoint prefill = Fixtures.labelled("10.0.0.3", Map.of("llm-d.ai/role", "prefill", "hw", "H100"));
    private final Endpoint unlabelled = Fixtures.labelled("10.0.0.4", Map.of());
    private final List<Endpoint> all = List.of(decodeH100, decodeL4, prefill, unlabelled);

    private List<Endpoint> filter(String parameters) {
        return ((LabelSelectorFilter) Fixtures.create(LabelSelectorFilter.FACTORY, "f", parameters))
                .filter(new CycleState(), Fixtures.request("r"), all);
    }

    @Test
    void matchLabelsMustAllHold() {
        assertThat(filter("{\"matchLabels\":{\"llm-d.ai/role\":\"decode\",\"hw\":\"H100\"}}")).containsExactly(decodeH100);
        assertThat(filter("{\"matchLabels\":{\"hw\":\"H100\"}}")).containsExactly(decodeH100, prefill);
    }

    @Test
    void matchExpressionsFollowKubernetesSemantics() {
        assertThat(filter("{\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"In\",\"values\":[\"L4\",\"A100\"]}]}"))
                .containsExactly(decodeL4);
        // NotIn also keeps endpoints without the label, as in Kubernetes.
        assertThat(filter("{\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"NotIn\",\"values\":[\"H100\"]}]}"))
                .containsExactly(decodeL4, unlabelled);
        assertThat(filter("{\"matchExpressions\":[{\"key\":\"llm-d.ai/role\",\"operator\":\"Exists\"}]}"))
                .containsExactly(decodeH100, decodeL4, prefill);
        assertThat(filter("{\"matchExpressions\":[{\"key\":\"llm-d.ai/role\",\"operator\":\"DoesNotExist\"}]}"))
                .containsExactly(unlabelled);
    }

    @Test
    void labelsAndExpressionsCombineWithAnd() {
        assertThat(filter("{\"matchLabels\":{\"llm-d.ai/role\":\"decode\"},"
                + "\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"NotIn\",\"values\":[\"L4\"]}]}"))
                .containsExactly(decodeH100);
    }

    @Test
    void anEmptySelectorKeepsEveryEndpoint() {
        assertThat(((LabelSelectorFilter) LabelSelectorFilter.FACTORY.create("f", Fixtures.noParams(), Fixtures.HANDLE))
                .filter(new CycleState(), Fixtures.request("r"), all)).isEqualTo(all);
        assertThat(filter("{}")).isEqualTo(all);
    }

    @Test
    void invalidSelectorsAreStartUpErrors() {
        assertThatThrownBy(() -> filter("{\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"in\",\"values\":[\"x\"]}]}"))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> filter("{\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"In\",\"values\":[]}]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("values must be non-empty");
        assertThatThrownBy(() -> filter("{\"matchExpressions\":[{\"key\":\"hw\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("values must be empty");
        assertThatThrownBy(() -> filter("{\"matchExpressions\":[{\"key\":\"hw\"}]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("operator is required");
        assertThatThrownBy(() -> filter("{\"matchLabels\":{\"bad key\":\"x\"}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("invalid label key 'bad key'");
        assertThatThrownBy(() -> filter("{\"matchLabels\":{\"Example.COM/role\":\"x\"}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("prefix");
        assertThatThrownBy(() -> filter("{\"matchLabels\":{\"role\":\"-x\"}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("invalid value '-x'");
        assertThatThrownBy(() -> filter("{\"matchLabel\":{\"role\":\"x\"}}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'matchLabel'");
        assertThatThrownBy(() -> filter("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"value\":[\"x\"]}]}"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("unknown parameter 'value'");
    }

    @Test
    void theDeprecatedTypeNameBuildsTheSameFilterAndKeepsItsType() {
        LabelSelectorFilter deprecated = (LabelSelectorFilter) Fixtures.create(LabelSelectorFilter.DEPRECATED_FACTORY,
                "old", "{\"matchLabels\":{\"hw\":\"L4\"}}");

        assertThat(deprecated.typedName()).isEqualTo(new TypedName("by-label-selector", "old"));
        assertThat(deprecated.filter(new CycleState(), Fixtures.request("r"), all)).containsExactly(decodeL4);
        assertThat(PluginRegistry.builtIn().types()).contains("label-selector-filter", "by-label-selector");
        assertThat(Fixtures.create(LabelSelectorFilter.FACTORY, "new", "{}").typedName())
                .isEqualTo(new TypedName("label-selector-filter", "new"));
    }
}
