package dev.lodestar.epp.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.plugins.Fixtures;
import dev.lodestar.epp.plugins.labelselectorfilter.LabelSelectorFilter;
import dev.lodestar.epp.plugins.queuescorer.QueueScorer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PluginRegistryTest {
    private static final PluginFactory NAMED = (name, parameters, handle) -> () -> new TypedName("test", name);

    /** Plugin types of GIE v1.5.0 (gie.md §3.6) and llm-d Router (llm-d.md §1.4) that Lodestar ships. */
    private static final Set<String> SHIPPED = Set.of("single-profile-handler", "max-score-picker", "random-picker",
            "weighted-random-picker", "queue-scorer", "running-requests-size-scorer", "kv-cache-utilization-scorer",
            "lora-affinity-scorer", "prefix-cache-scorer", "approx-prefix-cache-producer", "token-load-scorer",
            "inflight-load-producer", "utilization-detector", "concurrency-detector", "openai-parser",
            "passthrough-parser", "metrics-data-source", "core-metrics-extractor", "header-based-testing-filter",
            "destination-endpoint-served-verifier", "active-request-scorer", "load-aware-scorer", "no-hit-lru-scorer",
            "session-affinity-scorer", "label-selector-filter", "by-label-selector", "file-discovery",
            "request-attribute-reporter");

    /** Types whose parameters have a required field, so they cannot be created from no parameters. */
    private static final Set<String> NEED_PARAMETERS = Set.of("file-discovery", "request-attribute-reporter");

    @Test
    void builtInHasEveryShippedType() {
        assertThat(PluginRegistry.builtIn().types()).containsAll(SHIPPED);
    }

    @Test
    void everyBuiltInFactoryBuildsAnInstanceOfItsTypeWithTheGivenName() throws Exception {
        PluginRegistry registry = PluginRegistry.builtIn();
        List<String> built = new ArrayList<>();
        for (String type : registry.types()) {
            PluginFactory factory = registry.factory(type).orElseThrow();
            if (NEED_PARAMETERS.contains(type)) {
                assertThatThrownBy(() -> factory.create("p-" + type, MissingNode.getInstance(), Fixtures.HANDLE))
                        .as(type).isInstanceOf(InvalidConfigException.class).hasMessageContaining("'p-" + type + "'");
                continue;
            }
            Plugin plugin = factory.create("p-" + type, MissingNode.getInstance(), Fixtures.HANDLE);
            assertThat(plugin.typedName()).as(type).isEqualTo(new TypedName(type, "p-" + type));
            built.add(type);
            if (plugin instanceof AutoCloseable closeable) {
                closeable.close();
            }
        }
        assertThat(built).hasSize(registry.types().size() - NEED_PARAMETERS.size());
    }

    @Test
    void everyBuiltInFactoryRejectsAnUnknownParameterNamingIt() {
        PluginRegistry registry = PluginRegistry.builtIn();
        ObjectMapper json = new ObjectMapper();
        for (String type : registry.types()) {
            PluginFactory factory = registry.factory(type).orElseThrow();
            assertThatThrownBy(() -> factory.create("p", json.readTree("{\"noSuchParameter\": 1}"), Fixtures.HANDLE))
                    .as(type)
                    .isInstanceOf(InvalidConfigException.class)
                    .hasMessageContaining("plugin 'p': unknown parameter 'noSuchParameter'");
        }
    }

    @Test
    void theDeprecatedLabelSelectorNameBuildsTheSameFilterUnderItsOldType() {
        Plugin plugin = PluginRegistry.builtIn().factory("by-label-selector").orElseThrow()
                .create("old", MissingNode.getInstance(), Fixtures.HANDLE);

        assertThat(plugin).isInstanceOf(LabelSelectorFilter.class);
        assertThat(plugin.typedName()).isEqualTo(new TypedName("by-label-selector", "old"));
    }

    @Test
    void anUnknownTypeHasNoFactory() {
        assertThat(PluginRegistry.builtIn().factory("kvcache-scorer")).isEmpty();
        assertThat(new PluginRegistry().factory("queue-scorer")).isEmpty();
        assertThat(new PluginRegistry().types()).isEmpty();
    }

    @Test
    void registeringATypeTwiceIsAnError() {
        PluginRegistry registry = new PluginRegistry().register("a", NAMED);

        assertThatThrownBy(() -> registry.register("a", NAMED))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("plugin type 'a' is registered twice");
        assertThatThrownBy(() -> PluginRegistry.builtIn().register(QueueScorer.TYPE, NAMED))
                .hasMessage("plugin type 'queue-scorer' is registered twice");
    }

    @Test
    void replaceSwapsTheFactoryOfARegisteredTypeOnly() {
        PluginFactory other = (name, parameters, handle) -> () -> new TypedName("other", name);
        PluginRegistry registry = new PluginRegistry().register("a", NAMED).replace("a", other);

        assertThat(registry.factory("a")).containsSame(other);
        assertThat(registry.types()).containsExactly("a");
        assertThatThrownBy(() -> registry.replace("b", other))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("plugin type 'b' is not registered");
        assertThat(registry.factory("b")).isEmpty();
    }

    @Test
    void typesAreSortedAndReadOnly() {
        PluginRegistry registry = new PluginRegistry().register("zeta", NAMED).register("alpha", NAMED)
                .register("mu", NAMED);

        assertThat(registry.types()).containsExactly("alpha", "mu", "zeta");
        assertThatThrownBy(() -> registry.types().remove("mu")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(List.copyOf(PluginRegistry.builtIn().types())).isSorted();
    }

    @Test
    void eachBuiltInRegistryIsIndependent() {
        PluginRegistry first = PluginRegistry.builtIn().register("extra", NAMED);

        assertThat(first.types()).contains("extra");
        assertThat(PluginRegistry.builtIn().types()).doesNotContain("extra");
    }
}
